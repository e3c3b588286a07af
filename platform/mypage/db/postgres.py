"""The PostgreSQL engine: Piccolo's, with a lane of held connections for the hot path's prepared reads."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine

READ_LANE_SIZE = 6
"""How many of a server process's pool connections (``POOL_OPTIONS["max_size"]``: 10) its prepared reads keep;
the others stay in the pool for transactions."""


class ReadLane:
    """Pool connections kept acquired for prepared reads outside transactions, handed from one read to the next.

    Through asyncpg's pool a read costs the worker about 28 µs of CPU to acquire and release its connection (the
    release is a task under ``asyncio.shield``, three turns of the event loop, and re-arms the idle timer), more
    than the read itself on a connection already held (21 µs); a logged-in page makes two or more. A read takes
    an idle lane connection, or acquires one from the pool while the lane holds fewer than ``size``, else waits
    for the next one handed back (first come, first served). A connection whose read failed or was cancelled,
    or whose server process has ended, goes back to the pool, which waits for the cancellation to finish and
    replaces a broken connection; the lane acquires another when it needs one. While the app runs, a process
    keeps the connections its busiest moment needed (at most ``size``); the pool's idle timeout does not close
    them.
    """

    def __init__(self, pool: Any, size: int) -> None:
        self.pool = pool
        self.size = size
        self.held = 0
        self.idle: list[Any] = []
        self.waiting: deque[asyncio.Future] = deque()
        self.closed = False

    async def fetch(self, sql: str, args: list[Any]) -> list[Any]:
        connection = await self._take()
        if connection is None:
            return await self.pool.fetch(sql, *args)
        try:
            rows = await connection.fetch(sql, *args)
        except BaseException:
            await self._give_back(connection)
            raise
        await self._put(connection)
        return rows

    async def _take(self) -> Any:
        """An idle connection, a newly acquired one while the lane holds fewer than ``size``, else the next one
        handed back (first come, first served); None once the lane is closed (the read goes through the pool)."""
        while not self.closed:
            if self.idle:
                connection = self.idle.pop()
                if _open(connection):
                    return connection
                await self._give_back(connection)
                continue
            if self.held < self.size:
                self.held += 1
                try:
                    return await self.pool.acquire()
                except BaseException:
                    self.held -= 1
                    self._wake_one()
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self.waiting.append(waiter)
            try:
                connection = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    # Handed over as the wait was cancelled: to the next read.
                    handed = waiter.result()
                    if handed is None:
                        self._wake_one()
                    else:
                        await self._put(handed)
                raise
            if connection is not None:
                return connection
            # None: a connection left the lane; loop to acquire its replacement.
        return None

    async def _put(self, connection: Any) -> None:
        """A connection whose read ended: to the first waiting read, else idle (back to the pool once closed)."""
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if self.closed:
            await self._give_back(connection)
        else:
            self.idle.append(connection)

    def _wake_one(self) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _give_back(self, connection: Any) -> None:
        self.held -= 1
        self._wake_one()
        await self.pool.release(connection)

    async def close(self) -> None:
        """The idle connections back to the pool; a read still running hands its connection to a waiting read,
        else back to the pool, when it ends (the pool's ``close`` waits for them)."""
        self.closed = True
        while self.idle:
            await self._give_back(self.idle.pop())


def _open(connection: Any) -> bool:
    """Whether a held connection still reaches its server process: asyncpg hands a connection that ended back to
    the pool by itself, detached from the lane's proxy (whose methods then raise ``InterfaceError``)."""
    try:
        return not connection.is_closed()
    except asyncpg.InterfaceError:
        return False


class PortalPostgresEngine(PostgresEngine):
    """Piccolo's engine; while its pool runs, prepared reads outside a transaction use a :class:`ReadLane`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_lane: ReadLane | None = None

    async def start_connection_pool(self, **kwargs: Any) -> None:
        await super().start_connection_pool(**kwargs)
        if self.read_lane is None or self.read_lane.pool is not self.pool:  # Piccolo keeps a pool already running
            self.read_lane = ReadLane(self.pool, min(READ_LANE_SIZE, kwargs.get("max_size", 10) - 1))

    async def close_connection_pool(self) -> None:
        lane, self.read_lane = self.read_lane, None
        if lane is not None:
            await lane.close()
        await super().close_connection_pool()

    async def read_prepared(self, sql: str, args: list[Any]) -> list[Any] | None:
        """The rows of a prepared read on the lane, or None when it must go through ``run_querystring`` (in a
        transaction, without a pool, or with the queries logged)."""
        lane = self.read_lane
        if lane is None or self.log_queries or self.current_transaction.get() is not None:
            return None
        return await lane.fetch(sql, args)
