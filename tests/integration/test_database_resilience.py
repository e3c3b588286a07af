"""The embedded database's write queue, the "database unavailable" classification and the 503 page.

The live tests (``tests/security/test_write_burst.py``, ``tests/security/test_database_unavailable.py``)
prove the whole thing over HTTP; these pin the mechanism down.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from piccolo.engine.sqlite import TransactionType

from mypage.db import sqlite as embedded
from mypage.db.errors import DatabaseUnavailable, is_unavailable
from mypage.db.sqlite import EmbeddedSQLiteEngine, write_slot


def engine_at(tmp_path, **kwargs) -> EmbeddedSQLiteEngine:
    engine = EmbeddedSQLiteEngine(path=str(tmp_path / "queue.sqlite3"), **kwargs)
    asyncio.run(engine.run_ddl("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)"))
    return engine


def test_wal_and_per_connection_settings(tmp_path):
    engine = engine_at(tmp_path)

    async def pragmas():
        connection = await engine.get_connection()
        try:
            values = {}
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys"):
                async with connection.execute(f"PRAGMA {name}") as cursor:
                    values[name] = next(iter((await cursor.fetchone()).values()))
            return values
        finally:
            await connection.close()

    assert asyncio.run(pragmas()) == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 30000, "foreign_keys": 1}


def test_concurrent_writers_queue_instead_of_failing_with_locked(tmp_path):
    # A busy timeout far too short for 300 contending writers: only the in-process queue keeps them apart.
    # (Piccolo's plain SQLiteEngine fails most of these with "database is locked".)
    engine = engine_at(tmp_path, timeout=0.2)
    inside = 0
    most_inside = 0

    async def transaction(i):
        nonlocal inside, most_inside
        async with engine.transaction(transaction_type=TransactionType.immediate):
            inside += 1
            most_inside = max(most_inside, inside)
            await engine.run_ddl("SELECT count(*) FROM t")
            await asyncio.sleep(0.001)
            await engine.run_ddl(f"INSERT INTO t (v) VALUES ('tx{i}')")
            inside -= 1

    async def single(i):
        await engine.run_ddl(f"INSERT INTO t (v) VALUES ('one{i}')")

    async def burst():
        results = await asyncio.gather(*[(transaction if i % 2 else single)(i) for i in range(300)], return_exceptions=True)
        rows = await engine.run_ddl("SELECT count(*) AS n FROM t")
        return [r for r in results if isinstance(r, BaseException)], rows[0]["n"]

    errors, rows = asyncio.run(burst())
    assert errors == []
    assert rows == 300
    assert most_inside == 1


def test_nested_transactions_and_reads_do_not_wait_for_the_slot(tmp_path):
    engine = engine_at(tmp_path)

    async def go():
        async with engine.transaction(transaction_type=TransactionType.immediate):
            async with engine.transaction(transaction_type=TransactionType.immediate):  # re-entrant
                await engine.run_ddl("INSERT INTO t (v) VALUES ('nested')")
        async with write_slot(engine.path):
            # another task reads while this one holds the slot (WAL: readers never wait for the writer)
            return await asyncio.wait_for(asyncio.create_task(engine.run_ddl("SELECT v FROM t")), timeout=5)

    assert asyncio.run(go()) == [{"v": "nested"}]


def test_a_write_that_waits_too_long_is_unavailable(tmp_path, monkeypatch):
    engine = engine_at(tmp_path)
    monkeypatch.setattr(embedded, "WRITE_QUEUE_TIMEOUT", 0.2)

    async def go():
        holder_ready, release = asyncio.Event(), asyncio.Event()

        async def holder():
            async with write_slot(engine.path):
                holder_ready.set()
                await release.wait()

        task = asyncio.create_task(holder())
        await holder_ready.wait()
        try:
            with pytest.raises(DatabaseUnavailable) as raised:
                await engine.run_ddl("INSERT INTO t (v) VALUES ('late')")
        finally:
            release.set()
            await task
        await engine.run_ddl("INSERT INTO t (v) VALUES ('later')")  # the slot is free again
        return raised.value

    assert is_unavailable(asyncio.run(go()))


def test_a_writer_in_another_process_is_waited_for(tmp_path):
    engine = engine_at(tmp_path)
    locked = threading.Event()

    def other_process_writer():
        connection = sqlite3.connect(engine.path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t (v) VALUES ('other')")
        locked.set()
        time.sleep(0.5)
        connection.execute("COMMIT")
        connection.close()

    thread = threading.Thread(target=other_process_writer)
    thread.start()
    locked.wait(5)
    started = time.monotonic()
    asyncio.run(engine.run_ddl("INSERT INTO t (v) VALUES ('mine')"))
    waited = time.monotonic() - started
    thread.join()
    assert waited >= 0.3
    assert len(asyncio.run(engine.run_ddl("SELECT v FROM t"))) == 2


def test_what_counts_as_unavailable():
    import asyncpg.exceptions as pg

    assert is_unavailable(DatabaseUnavailable("overloaded"))
    assert is_unavailable(sqlite3.OperationalError("database is locked"))
    assert not is_unavailable(sqlite3.OperationalError("no such table: nope"))
    assert is_unavailable(pg.InvalidCatalogNameError('database "gone" does not exist'))
    assert is_unavailable(pg.AdminShutdownError("terminating connection due to administrator command"))
    assert is_unavailable(pg.TooManyConnectionsError("sorry, too many clients already"))
    assert not is_unavailable(pg.UniqueViolationError("duplicate key"))
    assert not is_unavailable(ValueError("a bug"))
    # a refused connection counts when a database driver raised it, not when anything else did
    assert not is_unavailable(ConnectionRefusedError("smtp"))

    async def refused():
        import asyncpg

        await asyncpg.connect(host="127.0.0.1", port=1, user="postgres", database="x", timeout=2)

    with pytest.raises(OSError) as raised:
        asyncio.run(refused())
    assert is_unavailable(raised.value)
    wrapped = RuntimeError("while loading")
    wrapped.__cause__ = sqlite3.OperationalError("database is locked")
    assert is_unavailable(wrapped)


def test_the_unavailable_page_is_themed_with_retry_after(client_for, monkeypatch):
    from mypage.identity.login import PasswordLogin

    async def down(*args, **kwargs):
        raise DatabaseUnavailable("test")

    monkeypatch.setattr(PasswordLogin, "authenticate", down)
    client = client_for("itscom")
    response = client.submit("/login", {"login_id": "someone", "password": "Wrong-pass-1"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert response.headers["x-frame-options"] == "DENY"
    assert "ただいまサービスを利用できません。しばらく時間をおいてからもう一度お試しください。" in response.text
    assert '<link rel="stylesheet" href="/brand.css?v=' in response.text
    english = client.submit("/login?lang=en", {"login_id": "someone", "password": "Wrong-pass-1"})
    assert english.status_code == 503
    assert "The service is temporarily unavailable. Please wait a while and try again." in english.text


def test_readyz_answers_when_the_database_does(client_for):
    ready = client_for("aicom").get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok"}
