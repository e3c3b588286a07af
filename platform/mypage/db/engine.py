"""Chooses SQLite (embedded default) or PostgreSQL from the settings and binds every table to it."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, unquote, urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from mypage.db.postgres import PortalPostgresEngine
from mypage.db.sqlite import EmbeddedSQLiteEngine
from mypage.settings import Settings

CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a new PostgreSQL connection (asyncpg's default, 60 s, would hang every request while
the server is unreachable); a failed connection answers 503 (``mypage.db.errors``)."""


async def _keep_session(connection) -> None:
    """The pool's reset of a connection handed back: nothing to undo (see :data:`POOL_OPTIONS`)."""


POOL_OPTIONS = {"max_size": 10, "reset": _keep_session}
"""The PostgreSQL pool of a server process. Piccolo takes a pool connection for each query, and asyncpg's
default reset on release (``RESET ALL; CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all()``) was one more
round trip per query. The portal leaves no session state behind: its locks are transaction-scoped
(``pg_advisory_xact_lock``, ``FOR UPDATE``), its settings ``SET LOCAL``, it never listens; a transaction left
open is still rolled back by the pool before any reset."""


def postgres_config(url: str) -> dict:
    """asyncpg's connection settings from ``postgresql://user:password@host:port/database``. As in libpq,
    ``?host=/var/run/postgresql`` names the folder of a Unix-domain socket: on a machine that runs the database
    too, each query then skips the loopback TCP stack."""
    parts = urlparse(url)
    query = parse_qs(parts.query)
    config = {
        "host": (query.get("host") or [parts.hostname or "127.0.0.1"])[-1],
        "port": parts.port or 5432,
        "database": (parts.path or "/").lstrip("/") or "postgres",
        "user": unquote(parts.username) if parts.username else "postgres",
    }
    if parts.password:
        config["password"] = unquote(parts.password)
    return config


def with_database(url: str, database: str) -> str:
    """``url`` naming another database on the same server (its socket, credentials and options kept)."""
    return urlparse(url)._replace(path=f"/{database}").geturl()


def make_engine(settings: Settings) -> Engine:
    if settings.uses_postgres:
        return PortalPostgresEngine(config={**postgres_config(settings.database_url), "timeout": CONNECT_TIMEOUT})
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return EmbeddedSQLiteEngine(path=str(settings.sqlite_path))


def bind_tables(engine: Engine) -> None:
    from mypage.db.registry import all_tables

    for table in all_tables():
        table._meta.db = engine


def current_engine() -> Engine:
    """The engine the tables are bound to."""
    from mypage.records.tables import Customer

    return Customer._meta.db


async def refresh_statistics(tables) -> None:
    """``ANALYZE`` of ``tables`` on PostgreSQL, after a bulk load: until autovacuum gets to them, the planner
    works from no or outdated row counts, and picked e.g. a walk over a tenant's whole index where one
    customer's rows were wanted. SQLite plans without statistics; nothing to do there."""
    engine = current_engine()
    if isinstance(engine, PostgresEngine):
        for table in tables:
            await engine.run_ddl(f'ANALYZE "{table._meta.tablename}"')


async def check_database(timeout: float = 2.0) -> str | None:
    """``SELECT 1`` on the bound database within ``timeout`` seconds: None when it answers, else the reason."""
    try:
        await asyncio.wait_for(current_engine().run_ddl("SELECT 1"), timeout=timeout)
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # anything at all: the database cannot serve requests
        return f"{type(exc).__name__}: {exc}"[:200]
    return None
