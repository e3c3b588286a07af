"""The PostgreSQL pool of a server process (``MYPAGE_DB_POOL``, on in production) skips asyncpg's per-release
``RESET ALL`` round trip (``mypage.db.engine.POOL_OPTIONS``) but still hands back no open transaction."""

from __future__ import annotations

import pytest

from conftest import run
from mypage.app import create_app
from mypage.db.engine import bind_tables, make_engine
from mypage.portal import Portal
from mypage.records.tables import Customer


def test_a_connection_handed_back_mid_transaction_is_rolled_back(db, portal):
    if not db.uses_postgres:
        pytest.skip("the pool is PostgreSQL's")
    settings = db.with_(db_pool=True)
    app = create_app(settings, portal=Portal(settings, tenants=portal.tenants))
    engine = Customer._meta.db

    async def go():
        async with app.lifespan():  # starts the pool as the server does
            pool = engine.pool
            assert pool is not None
            connection = await pool.acquire()
            await connection.execute("BEGIN")
            await connection.execute(
                "INSERT INTO customers (tenant, number, name, created_at) VALUES ('aicom', 'P-1', '途中 太郎', now())"
            )
            await pool.release(connection)  # never committed
            states = []
            for _ in range(pool.get_size()):
                async with pool.acquire() as again:
                    states.append(again.is_in_transaction())
            rows = await Customer.select(Customer.id).where(Customer.number == "P-1")
            return states, rows

    try:
        states, rows = run(go())
    finally:
        bind_tables(make_engine(db))
    assert not any(states)
    assert rows == []
