"""The embedded database under concurrent writes: one writer at a time, queued in-process.

Piccolo's ``SQLiteEngine`` opens a new aiosqlite connection (and thread) for every query outside a
transaction, and SQLite lets one connection write at a time. Left to SQLite, a burst of concurrent writes
polls the lock with growing sleeps (the busy handler is not a queue: late arrivals may win, early ones
starve) and, past the busy timeout, fails with "database is locked" — a 500 for the customer.

:class:`EmbeddedSQLiteEngine` changes three things:

- **WAL journal mode** (set once on the file; it persists): readers never block the writer nor the writer
  the readers, and a commit appends to the log instead of rewriting pages with several fsyncs.
  ``synchronous=NORMAL`` on each connection, the documented setting for WAL (a commit survives a crash
  of the process; a power cut may lose the last commits, never corrupt the file). One idle connection
  stays open per process (:func:`prepare_file`), so closing Piccolo's per-query connections does not
  checkpoint the log each time.
- **One writer per process, in a FIFO queue**: every write (``INSERT``/``UPDATE``/``DELETE``/DDL outside a
  transaction, and every transaction, which ``atomic()`` opens as ``BEGIN IMMEDIATE``) first takes this
  process's write slot for the database file. Waiting happens in asyncio (no connection, no thread held),
  in arrival order. Reads (``SELECT``) do not queue.
- **A busy timeout on each connection** for the writers of *other* processes (``mypage run --workers N``,
  the CLI): SQLite's own wait handles those.

Only when a write waits longer than :data:`WRITE_QUEUE_TIMEOUT` seconds for its turn is the database
considered overloaded: :class:`~mypage.db.errors.DatabaseUnavailable` is raised and the portal answers 503
with ``Retry-After`` (see ``mypage.web.errors``).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import sqlite3
import threading
import weakref
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import (
    SQLiteEngine,
    SQLiteTransaction,
    TransactionType,
    convert_int_out,
    dict_factory,
)

from mypage.db.errors import DatabaseUnavailable

WRITE_QUEUE_TIMEOUT = 20.0
"""Seconds a write may wait for its turn in this process before the request answers 503."""

BUSY_TIMEOUT_MS = 30_000
"""SQLite's wait for a writer in another process (``PRAGMA busy_timeout``)."""

READ_ONLY = ("SELECT", "PRAGMA", "EXPLAIN", "VALUES")

# One write slot per database file and event loop (an asyncio lock belongs to one loop; the tests and the CLI
# drive the app from several). Engines for the same file share it.
_slots: dict[str, weakref.WeakKeyDictionary] = {}
_held: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("mypage_sqlite_write_slots", default=frozenset())
_anchors: dict[str, tuple[int, sqlite3.Connection]] = {}
_anchor_lock = threading.Lock()


def _int_out(value: bytes | str) -> int:
    try:
        return int(value)  # the integers SQLite stores, as text bytes: no detour through str and Decimal
    except ValueError:
        return convert_int_out(value)  # Piccolo's for the rest (``1.0`` stored in an INTEGER column)


def _boolean_out(value: bytes | str) -> bool:
    return value in (b"1", "1")  # as Piccolo's, without decoding first


# Piccolo's converters of declared column types run once per value read; its INTEGER one decodes the bytes,
# then parses them as a Decimal, and was a tenth of the CPU of a logged-in page. Same results, registered
# process-wide (sqlite3's converters are global) when the engine is imported.
sqlite3.register_converter("INTEGER", _int_out)
sqlite3.register_converter("BOOLEAN", _boolean_out)


def _slot(path: str) -> asyncio.Lock:
    per_loop = _slots.setdefault(path, weakref.WeakKeyDictionary())
    loop = asyncio.get_running_loop()
    lock = per_loop.get(loop)
    if lock is None:
        lock = per_loop[loop] = asyncio.Lock()  # asyncio.Lock wakes waiters in arrival order
    return lock


@asynccontextmanager
async def write_slot(path: str):
    """Holds this process's single write slot for ``path`` (re-entrant within one task's context)."""
    held = _held.get()
    if path in held:
        yield
        return
    lock = _slot(path)
    try:
        await asyncio.wait_for(lock.acquire(), timeout=WRITE_QUEUE_TIMEOUT)
    except TimeoutError:
        raise DatabaseUnavailable(
            f"the embedded database is overloaded: no write slot within {WRITE_QUEUE_TIMEOUT:.0f} s"
        ) from None
    token = _held.set(held | {path})
    try:
        yield
    finally:
        _held.reset(token)
        lock.release()


def is_write(sql: str) -> bool:
    head = sql.lstrip().split(None, 1)
    return not head or head[0].upper().lstrip("(") not in READ_ONLY


def prepare_file(path: str) -> None:
    """Switches the file to WAL (persistent) and keeps one idle connection to it open in this process.

    Piccolo opens and closes a connection per query; when the last connection to a WAL database closes,
    SQLite checkpoints the log into the file (with fsyncs) and deletes it, so every query would pay for
    a checkpoint. The idle anchor connection (no transaction, no lock) keeps the log open between queries;
    SQLite checkpoints it as it grows. Done again if the file at ``path`` is replaced.
    """
    if path == ":memory:" or path.startswith("file:"):
        return
    with _anchor_lock:
        known = _anchors.get(path)
        try:
            inode = os.stat(path).st_ino
        except FileNotFoundError:
            inode = None
        if known is not None and known[0] == inode:
            return
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL").fetchone()
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if known is not None:
            known[1].close()
        _anchors[path] = (os.stat(path).st_ino, connection)


class QueuedTransaction(SQLiteTransaction):
    """A transaction that holds the write slot from ``BEGIN`` until it ends. While the app runs, it reuses the
    event loop's transaction connection (one suffices: the write slot lets one transaction run at a time per
    loop) instead of opening a connection, a thread and three pragmas for each."""

    __slots__ = ("_slot_cm",)

    def _loop_pool(self) -> _LoopPool | None:
        engine = self.engine
        return engine.loop_pool() if isinstance(engine, EmbeddedSQLiteEngine) else None

    async def get_connection(self):
        pool = self._loop_pool()
        if pool is not None and pool.transaction_connection is not None:
            connection, pool.transaction_connection = pool.transaction_connection, None
            return connection
        return await self.engine.get_connection()

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self._slot_cm = write_slot(self.engine.path)
        await self._slot_cm.__aenter__()
        try:
            self.connection = await self.get_connection()
            try:
                await self.begin()
            except BaseException:
                # Piccolo would leave the connection (and its thread, which keeps the process alive) open.
                await self.connection.close()
                raise
        except BaseException as exc:
            await self._slot_cm.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            ended = False
            try:
                # As Piccolo's transaction ends, but the connection may go back to the loop instead of closing.
                if exception:
                    if not self._rolled_back:
                        await self.rollback()
                elif not self._committed and not self._rolled_back:
                    await self.commit()
                ended = not self.connection.in_transaction
            finally:
                pool = self._loop_pool()
                if ended and pool is not None and pool.transaction_connection is None:
                    pool.transaction_connection = self.connection
                else:
                    await self.connection.close()
                self.engine.current_transaction.reset(self.context)
            return exception is None
        finally:
            await self._slot_cm.__aexit__(None, None, None)


POOL_SIZE = 4
"""Connections a server's event loop keeps open for queries outside transactions (see ``start_connection_pool``);
a query waits for one of them rather than open more."""


class _LoopPool:
    def __init__(self) -> None:
        self.idle: list[aiosqlite.Connection] = []
        self.free = asyncio.Semaphore(POOL_SIZE)
        self.transaction_connection: aiosqlite.Connection | None = None
        self.readers: list[sqlite3.Connection | None] = [None, None]  # rows as dicts, as raw tuples


class EmbeddedSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with WAL, a per-connection busy timeout and queued writers (see module doc).

    While the app runs (its lifespan calls :meth:`start_connection_pool`), queries outside transactions reuse
    a few open connections of the server's event loop instead of opening a connection (a thread and three
    pragmas) per query. Elsewhere (the CLI, the tests' own loops) every query opens its own, as Piccolo does.
    """

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        connection_kwargs.setdefault("timeout", BUSY_TIMEOUT_MS / 1000)
        super().__init__(path=path, **connection_kwargs)
        prepare_file(path)
        self._pools: dict[asyncio.AbstractEventLoop, _LoopPool] = {}

    async def start_connection_pool(self, **_: Any) -> None:
        self._pools.setdefault(asyncio.get_running_loop(), _LoopPool())

    async def close_connection_pool(self) -> None:
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is None:
            return
        for connection in [*pool.idle, pool.transaction_connection]:
            if connection is not None:
                await connection.close()
        for reader in pool.readers:
            if reader is not None:
                reader.close()

    def loop_pool(self) -> _LoopPool | None:
        """The running event loop's pool, if the app started one (see :meth:`start_connection_pool`)."""
        if not self._pools:
            return None
        try:
            return self._pools.get(asyncio.get_running_loop())
        except RuntimeError:
            return None

    def read_inline(self, sql: str, args: list[Any], *, raw: bool = False) -> list | None:
        """Runs a small indexed read on the event loop's own thread, or returns None when it cannot.

        For the hot-path reads of a logged-in page (a row or a few by key, ~0.1 ms in SQLite), a hop to a
        connection's thread costs more than the query: the thread waits for the GIL, which a busy event loop
        hands over only every ``sys.getswitchinterval()`` (5 ms), so each hop added milliseconds under load.
        Only for queries known to be bounded (``PreparedSelect``, a page of call records): a long read here
        would stall every request of the worker. Rows are dicts with Piccolo's type conversions, or with
        ``raw`` tuples of the values as stored. None (the caller takes the ordinary path) outside the app's
        pool, inside a transaction (its own connection must see its writes) and when SQLite is momentarily busy.
        """
        pool = self.loop_pool()
        if pool is None or self.current_transaction.get() is not None:
            return None
        reader = pool.readers[raw]
        if reader is None:
            reader = pool.readers[raw] = self._reader(raw)
        if self.log_queries:
            self.print_query(query_id=self.get_query_id(), query=f"{sql} {args!r}")
        try:
            return reader.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                return None  # WAL recovery or a checkpoint restarting the log: wait in a thread instead
            raise

    def _reader(self, raw: bool) -> sqlite3.Connection:
        kwargs = {**self.connection_kwargs, "timeout": 0}
        if raw:
            kwargs["detect_types"] = 0
        reader = sqlite3.connect(**kwargs)
        if not raw:
            reader.row_factory = dict_factory
        reader.execute("PRAGMA query_only = 1")
        return reader

    async def _configure(self, connection) -> None:
        connection.row_factory = dict_factory
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute(f"PRAGMA busy_timeout = {int(self.connection_kwargs['timeout'] * 1000)}")
        await connection.execute("PRAGMA synchronous = NORMAL")

    async def get_connection(self):
        connection = await aiosqlite.connect(**self.connection_kwargs)
        try:
            await self._configure(connection)
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _run_in_new_connection(self, query: str, args=None, query_type: str = "generic", table=None):
        if not is_write(query):
            return await self._run_alone(query, args, query_type, table)
        async with write_slot(self.path):
            return await self._run_alone(query, args, query_type, table)

    async def _run_alone(self, query: str, args, query_type: str, table):
        pool = self._pools.get(asyncio.get_running_loop()) if self._pools else None
        if pool is not None and self.get_version_sync() >= 3.35:
            return await self._run_pooled(pool, query, args)
        async with aiosqlite.connect(**self.connection_kwargs) as connection:
            await self._configure(connection)
            async with connection.execute(query, args or []) as cursor:
                await connection.commit()
                if query_type == "insert" and self.get_version_sync() < 3.35:
                    assert table is not None
                    pk = await self._get_inserted_pk(cursor, table)
                    return [{table._meta.primary_key._meta.db_column_name: pk}]
                return await cursor.fetchall()

    async def _run_in_existing_connection(self, connection, query: str, args=None, query_type: str = "generic", table=None):
        """A query inside a transaction: one hop to the connection's thread (Piccolo's takes four or five, and
        sets pragmas that :meth:`_configure` set once on the connection)."""
        if self.get_version_sync() < 3.35:
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        return list(await connection.execute_fetchall(query, args or []))

    async def _run_pooled(self, pool: _LoopPool, query: str, args) -> list:
        async with pool.free:
            connection = pool.idle.pop() if pool.idle else await self.get_connection()
            try:
                # One hop to the connection's thread for a read (execute + fetch), a second to commit a write:
                # each hop hands the GIL over twice, which cost more than the small queries themselves.
                rows = await connection.execute_fetchall(query, args or [])
                if connection.in_transaction:
                    await connection.commit()
            except BaseException:
                await connection.close()  # never hand on a connection in an unknown state
                raise
            pool.idle.append(connection)
            return list(rows)

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return QueuedTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)
