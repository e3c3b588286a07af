"""The embedded database's open connections while the app runs: reused, never handed on after an error,
closed at shutdown, and writers still queued one at a time."""

from __future__ import annotations

import asyncio

import pytest

from mypage.db.sqlite import POOL_SIZE, EmbeddedSQLiteEngine, _boolean_out, _int_out


@pytest.fixture
def engine(tmp_path) -> EmbeddedSQLiteEngine:
    return EmbeddedSQLiteEngine(path=str(tmp_path / "pool.sqlite3"))


def count_connections(engine: EmbeddedSQLiteEngine, opened: list) -> None:
    """Every connection the engine opens from now on is appended to ``opened``."""
    real = engine.get_connection

    async def counting():
        connection = await real()
        opened.append(connection)
        return connection

    engine.get_connection = counting


def test_queries_reuse_a_few_connections_and_shutdown_closes_them(engine):
    opened = []

    async def go():
        count_connections(engine, opened)
        await engine.start_connection_pool()
        await engine.run_ddl("CREATE TABLE items (n INTEGER)")
        await asyncio.gather(*(engine.run_ddl(f"INSERT INTO items (n) VALUES ({n})") for n in range(60)))
        counts = await asyncio.gather(*(engine.run_ddl("SELECT count(*) AS c FROM items") for _ in range(60)))
        idle = list(engine._pools[asyncio.get_running_loop()].idle)
        await engine.close_connection_pool()
        return counts, idle

    counts, idle = asyncio.run(go())
    assert all(rows == [{"c": 60}] for rows in counts)
    assert len(opened) <= POOL_SIZE, "queries wait for one of a few open connections"
    assert len(idle) == len(opened)
    assert not engine._pools


def test_a_failed_query_does_not_hand_its_connection_on(engine):
    async def go():
        await engine.start_connection_pool()
        await engine.run_ddl("SELECT 1")
        idle = engine._pools[asyncio.get_running_loop()].idle
        before = list(idle)
        with pytest.raises(Exception, match="no such table"):
            await engine.run_ddl("SELECT * FROM missing")
        after = list(idle)
        rows = await engine.run_ddl("SELECT 2 AS two")
        await engine.close_connection_pool()
        return before, after, rows

    before, after, rows = asyncio.run(go())
    assert len(after) == len(before) - 1  # the connection that failed was closed, not put back
    assert rows == [{"two": 2}]


def test_without_the_app_every_query_opens_its_own(engine):
    async def go():
        await engine.run_ddl("CREATE TABLE t (n INTEGER)")
        await engine.run_ddl("INSERT INTO t (n) VALUES (1)")
        return await engine.run_ddl("SELECT n FROM t")

    assert asyncio.run(go()) == [{"n": 1}]
    assert not engine._pools


def test_transactions_reuse_one_connection_and_a_failed_one_is_not_handed_on(engine):
    opened = []

    async def go():
        count_connections(engine, opened)
        await engine.start_connection_pool()
        await engine.run_ddl("CREATE TABLE t (n INTEGER PRIMARY KEY)")
        await engine.run_ddl("SELECT 1")  # the pool's read connection
        reads = len(opened)
        for n in range(5):
            async with engine.transaction():
                await engine.run_ddl(f"INSERT INTO t (n) VALUES ({n})")
        after_five = len(opened)
        kept = engine.loop_pool().transaction_connection
        with pytest.raises(RuntimeError):
            async with engine.transaction():
                await engine.run_ddl("INSERT INTO t (n) VALUES (10)")
                raise RuntimeError("rolled back")
        rolled_back_kept = engine.loop_pool().transaction_connection is kept
        with pytest.raises(Exception, match="UNIQUE"):
            async with engine.transaction():
                await engine.run_ddl("INSERT INTO t (n) VALUES (1)")
        rows = await engine.run_ddl("SELECT n FROM t ORDER BY n")
        in_transaction = kept.in_transaction
        await engine.close_connection_pool()
        return reads, after_five, rolled_back_kept, rows, in_transaction

    reads, after_five, rolled_back_kept, rows, in_transaction = asyncio.run(go())
    assert after_five == reads + 1, "five transactions, one connection"
    assert rolled_back_kept, "a transaction rolled back cleanly leaves its connection reusable"
    assert rows == [{"n": n} for n in range(5)]  # the rolled-back and the failed inserts left nothing
    assert not in_transaction


def test_inline_reads_run_on_the_loop_only_outside_transactions_and_see_every_commit(engine):
    async def go():
        assert engine.read_inline("SELECT 1 AS one", []) is None, "no app pool: the ordinary path"
        await engine.start_connection_pool()
        await engine.run_ddl("CREATE TABLE t (n INTEGER PRIMARY KEY)")
        await engine.run_ddl("INSERT INTO t (n) VALUES (1)")
        first = engine.read_inline("SELECT n FROM t WHERE n >= ?", [0])
        async with engine.transaction():
            await engine.run_ddl("INSERT INTO t (n) VALUES (2)")
            inside = engine.read_inline("SELECT n FROM t WHERE n >= ?", [0])
        after = engine.read_inline("SELECT n FROM t WHERE n >= ?", [0])
        with pytest.raises(Exception, match="readonly"):
            engine.read_inline("DELETE FROM t", [])
        reader = engine.loop_pool().readers[False]
        await engine.close_connection_pool()
        return first, inside, after, reader

    first, inside, after, reader = asyncio.run(go())
    assert first == [{"n": 1}]
    assert inside is None, "a transaction's reads go through its own connection, which sees its writes"
    assert after == [{"n": 1}, {"n": 2}]
    with pytest.raises(Exception, match="closed"):
        reader.execute("SELECT 1")


def test_integer_and_boolean_columns_read_as_piccolo_reads_them(engine):
    from piccolo.engine.sqlite import convert_boolean_out, convert_int_out

    async def go():
        await engine.run_ddl("CREATE TABLE v (i INTEGER, b BOOLEAN)")
        await engine.run_ddl("INSERT INTO v (i, b) VALUES (12, 1), (-3, 0), (1.0, 1), (NULL, NULL)")
        return await engine.run_ddl("SELECT i, b FROM v ORDER BY rowid")

    rows = asyncio.run(go())
    assert rows == [{"i": 12, "b": True}, {"i": -3, "b": False}, {"i": 1, "b": True}, {"i": None, "b": None}]
    assert [type(row["i"]) for row in rows[:3]] == [int, int, int]
    for stored in (b"12", b"-3", b"1.0", b"99999999999999999999", "7"):
        assert _int_out(stored) == convert_int_out(stored)
    for stored in (b"1", b"0", "1", "0"):
        assert _boolean_out(stored) == convert_boolean_out(stored)
