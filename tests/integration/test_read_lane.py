"""PostgreSQL's read lane (``mypage.db.postgres.ReadLane``): the hot path's prepared reads on pool connections
held by the server process. Run against the real server: many reads at once, reads cancelled mid-query,
server processes that end, a transaction while the lane is busy, and the pool closed under it."""

from __future__ import annotations

import asyncio
import contextvars
import time

import asyncpg
import pytest

from conftest import POSTGRES_SERVER, run
from mypage.db.engine import POOL_OPTIONS, bind_tables, make_engine, postgres_config
from mypage.db.postgres import READ_LANE_SIZE
from mypage.db.prepared import PreparedSQL
from mypage.records.tables import Customer

CUSTOMER = PreparedSQL(Customer, "SELECT id, name FROM customers WHERE tenant = $1 AND number = $2")
SLEEP = PreparedSQL(Customer, "SELECT pg_sleep($1::float8) IS NULL AS slept, $2::int AS n")


@pytest.fixture
def engine(db):
    if not db.uses_postgres:
        pytest.skip("the read lane is PostgreSQL's")
    engine = make_engine(db)
    bind_tables(engine)
    yield engine
    bind_tables(make_engine(db))


async def _with_pool(engine, body):
    await engine.start_connection_pool(min_size=0, **POOL_OPTIONS)
    try:
        return await body(engine.read_lane)
    finally:
        await engine.close_connection_pool()


async def _add_customers(count: int) -> None:
    await Customer.insert(
        *[Customer(tenant="aicom", number=f"L-{n}", name=f"顧客 {n}") for n in range(count)],
    )


def test_concurrent_reads_each_get_their_own_rows_on_at_most_the_lanes_connections(engine):
    async def body(lane):
        await _add_customers(40)
        most = 0

        async def read(n: int):
            nonlocal most
            most = max(most, lane.held)
            (row,) = await CUSTOMER.run("aicom", f"L-{n}")
            slept = await SLEEP.first(0.01, n)
            most = max(most, lane.held)
            return row["name"], slept["n"]

        results = await asyncio.gather(*(read(n) for n in range(40)))
        return results, most, lane.held, len(lane.idle)

    results, most, held, idle = run(_with_pool(engine, body))
    assert results == [(f"顧客 {n}", n) for n in range(40)]
    assert 1 <= most <= READ_LANE_SIZE
    assert held == idle  # every held connection is idle again once the reads ended


def test_a_read_in_a_transaction_sees_its_own_writes_not_the_lanes(engine):
    async def body(lane):
        async with Customer._meta.db.transaction():
            await Customer.insert(Customer(tenant="aicom", number="T-1", name="取引中"))
            inside = await CUSTOMER.run("aicom", "T-1")
            # A task copies its creator's context, the transaction with it: another request has a context of its own.
            outside = await asyncio.create_task(CUSTOMER.run("aicom", "T-1"), context=contextvars.Context())
        return inside, outside

    inside, outside = run(_with_pool(engine, body))
    assert [row["name"] for row in inside] == ["取引中"]
    assert outside == []  # not committed yet: the lane's connection does not see it


def test_a_transaction_is_not_kept_waiting_while_every_lane_connection_is_busy(engine):
    async def body(lane):
        sleepers = [asyncio.create_task(SLEEP.first(1.0, n)) for n in range(READ_LANE_SIZE + 4)]
        await asyncio.sleep(0.2)
        assert lane.held == READ_LANE_SIZE and len(lane.waiting) == 4
        started = time.monotonic()
        async with Customer._meta.db.transaction():
            await Customer.insert(Customer(tenant="aicom", number="W-1", name="書き込み"))
        took = time.monotonic() - started
        still_sleeping = sum(not task.done() for task in sleepers)
        results = await asyncio.gather(*sleepers)
        return took, still_sleeping, results

    took, still_sleeping, results = run(_with_pool(engine, body))
    assert still_sleeping == READ_LANE_SIZE + 4  # the write did not wait for the reads
    assert [row["n"] for row in results] == list(range(READ_LANE_SIZE + 4))
    assert took < 1.0


def test_cancelled_reads_give_their_connections_back_and_the_lane_goes_on(engine):
    async def body(lane):
        for _ in range(3):
            reads = [asyncio.create_task(SLEEP.first(30.0, n)) for n in range(READ_LANE_SIZE + 3)]
            await asyncio.sleep(0.2)
            for task in reads:
                task.cancel()
            outcomes = await asyncio.gather(*reads, return_exceptions=True)
            assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)
        after_cancelling = lane.held
        rows = await asyncio.gather(*(SLEEP.first(0.0, n) for n in range(20)))
        return after_cancelling, [row["n"] for row in rows], lane.held, engine.pool.get_size()

    after_cancelling, numbers, held, pool_size = run(_with_pool(engine, body))
    assert after_cancelling == 0  # every cancelled read's connection went back to the pool
    assert numbers == list(range(20))
    assert held <= READ_LANE_SIZE
    assert pool_size <= POOL_OPTIONS["max_size"]


def test_reads_go_on_after_the_servers_processes_for_the_lane_ended(engine, db):
    async def body(lane):
        await _add_customers(1)
        await asyncio.gather(*(SLEEP.first(0.05, n) for n in range(READ_LANE_SIZE)))
        assert len(lane.idle) == READ_LANE_SIZE
        admin = await asyncpg.connect(**postgres_config(POSTGRES_SERVER))
        try:
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                postgres_config(db.database_url)["database"],
            )
        finally:
            await admin.close()
        await asyncio.sleep(0.3)  # the sockets' end reaches the event loop
        rows = await asyncio.gather(*(CUSTOMER.run("aicom", "L-0") for _ in range(READ_LANE_SIZE * 2)))
        return ended, rows

    ended, rows = run(_with_pool(engine, body))
    assert ended >= READ_LANE_SIZE
    assert all([row["name"] for row in found] == ["顧客 0"] for found in rows)


def test_closing_the_pool_while_reads_run_waits_for_them_only(engine):
    async def body(lane):
        reads = [asyncio.create_task(SLEEP.first(0.3, n)) for n in range(READ_LANE_SIZE + 2)]
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await asyncio.wait_for(engine.close_connection_pool(), timeout=10)
        took = time.monotonic() - started
        results = await asyncio.gather(*reads, return_exceptions=True)
        await engine.start_connection_pool(min_size=0, **POOL_OPTIONS)  # for _with_pool's own close
        return took, results

    took, results = run(_with_pool(engine, body))
    assert took < 5  # not asyncpg's minute-long wait for connections never released
    assert [row["n"] for row in results] == list(range(READ_LANE_SIZE + 2))
