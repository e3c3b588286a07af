"""Database errors the portal answers calmly instead of with a 500.

- :func:`is_unique_violation`: a unique index refused a write another request made first.
- :func:`is_unavailable`: the database (or session store) is unavailable. A request that fails because
  PostgreSQL is down, its database is gone, every connection is taken, or the embedded database is
  overloaded is not a bug in the portal: the customer sees the tenant's "service unavailable" page with
  ``Retry-After`` (``mypage.web.errors.unavailable``), and ``/readyz`` says 503.
"""

from __future__ import annotations

import sqlite3

import asyncpg

SQLITE_UNAVAILABLE = ("database is locked", "database is busy", "unable to open database file", "disk i/o error")
DRIVER_MODULES = ("asyncpg", "piccolo", "aiosqlite", "redis", "mypage.db")


def is_unique_violation(exc: BaseException) -> bool:
    """A unique index refused the write (another request took the value first), on either engine."""
    if isinstance(exc, asyncpg.exceptions.UniqueViolationError):
        return True
    return isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc)


class DatabaseUnavailable(Exception):
    """The database cannot serve the request now (down, unreachable or overloaded); try again later."""


def _raised_by_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.split(".", 1)[0] in DRIVER_MODULES or module.startswith(DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return str(exc).lower().startswith(SQLITE_UNAVAILABLE)
    pg = asyncpg.exceptions
    if isinstance(
        exc,
        (
            pg.PostgresConnectionError,  # 08xxx: cannot connect, connection lost
            pg.OperatorInterventionError,  # 57xxx: shutting down, terminated, database dropped, cancelled
            pg.InsufficientResourcesError,  # 53xxx: too many connections, disk full, out of memory
            pg.InvalidCatalogNameError,  # 3D000: the database does not exist
        ),
    ):
        return True
    try:
        import redis.exceptions as redis_errors
    except ImportError:  # pragma: no cover - redis is optional
        redis_errors = None
    if redis_errors is not None and isinstance(exc, (redis_errors.ConnectionError, redis_errors.TimeoutError)):
        return True
    # Refused, reset, unresolvable or timed-out connections (OSError, socket.gaierror, TimeoutError), when they
    # come out of a database driver.
    if isinstance(exc, OSError):
        return _raised_by_driver(exc)
    return False


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or the exception it was raised from) means the database is unavailable."""
    seen = 0
    while exc is not None and seen < 5:
        if _is_unavailable(exc):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
