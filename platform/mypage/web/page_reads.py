"""A page's read run in the same statement as its session, where each statement is a round trip.

On PostgreSQL a logged-in page makes two round trips: the session with its account and customer
(``DatabaseSessionStore.with_account``), then the page's own read. Each costs the worker and the server more
CPU than the rows themselves (``docs/performance.md``). A route that declares a :class:`PageRead` in its ``opt``
has it run as a lateral join on the session's customer, in the session's statement: one round trip.

The session is read before routing (``PortalMiddleware``); :func:`page_read_for` finds the request's route
the way Litestar's router will (its cached lookup), and :func:`joined_page` gives the handler what was read, or
None, and the handler then reads as usual. The read's rows belong to the account the session names in the same
statement (the join keeps the tenant), and are forgotten with the session's other rows when it changes who is
logged in (``Session.read_with``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from litestar.types import Scope
from litestar.utils import normalize_path
from piccolo.table import Table

from mypage.db.prepared import PreparedSQL

OPT_KEY = "page_read"
"""The route ``opt`` entry that names a route's :class:`PageRead`."""
READ_WITH_KEY = "page"
"""Where the joined row is kept in ``Session.read_with``."""


@dataclass(frozen=True, eq=False)
class PageRead:
    """``sql`` selects exactly one row, its columns named ``"page.<name>"``, written with ``{tenant}`` and
    ``{customer}`` where the tenant's slug and the logged-in customer's id go, and the page's own values as
    ``$3``, ``$4``…; ``values(path_params, tenant, query)`` gives those for a request (None: no joined read for
    it), ``query`` being the query string's parameters (the first value of each)."""

    sql: str
    values: Callable[[dict[str, Any], Any, dict[str, str]], list[Any] | None]


def _page_columns(table: type[Table], alias: str) -> str:
    """The select list of ``table``'s columns (as ``alias``) named ``"page.<column>"``."""
    return ", ".join(f'{alias}."{column._meta.db_column_name}" AS "page.{column._meta.name}"' for column in table._meta.columns)


def read_alone_and_with_session(
    table: type[Table],
    sql: str,
    computed: tuple[str, ...],
    values: Callable[[dict[str, Any], Any, dict[str, str]], list[Any] | None],
) -> tuple[PreparedSQL, PageRead]:
    """A page's read written once, with ``{columns}`` where ``table``'s columns go (the table as ``c``), ``{tenant}``,
    ``{customer}``, and ``{<name>}`` where each of its ``computed`` columns is named: the statement on its own (its
    values: the tenant's slug, the customer's id, then the page's own; the columns ``c.*`` and ``"_<name>"``), and
    the same as a :class:`PageRead` with ``values``."""
    alone = sql.format(columns="c.*", tenant="$1", customer="$2", **{name: f'"_{name}"' for name in computed})
    with_session = sql.format(
        columns=_page_columns(table, "c"),
        tenant="{tenant}",
        customer="{customer}",
        **{name: f'"page._{name}"' for name in computed},
    )
    return PreparedSQL(table, alone), PageRead(with_session, values)


@functools.cache
def joined_statement(session_read: PreparedSQL, page_read: PageRead) -> PreparedSQL:
    """``session_read`` (its values: the session key, the tenant's slug) with ``page_read`` joined on its
    customer: the session's columns, then the page's."""
    page = page_read.sql.format(tenant="$2", customer='sa."customer.id"')
    return PreparedSQL(
        session_read.table,
        f"SELECT sa.*, page.* FROM ({session_read.postgres_sql}) AS sa LEFT JOIN LATERAL ({page}) AS page ON TRUE",
    )


def page_read_for(scope: Scope, tenant: Any) -> tuple[PageRead, list[Any]] | None:
    """The :class:`PageRead` of the route this request goes to, with its values, if it has one."""
    if scope.get("method") != "GET":
        return None
    try:
        _app, handler, _path, params, _template = scope["app"].asgi_router.handle_routing(
            path=normalize_path(scope["path"]), method="GET"
        )
    except Exception:  # no such route: the router answers it after the session is read
        return None
    read = handler.opt.get(OPT_KEY)
    if read is None:
        return None
    values = read.values(params, tenant, _first_values(scope["query_string"]))
    return None if values is None else (read, values)


def _first_values(query_string: bytes) -> dict[str, str]:
    if not query_string:
        return {}
    found: dict[str, str] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        found.setdefault(name, value)
    return found


def joined_page(scope: Scope, read: PageRead, values: list[Any] | None = None) -> dict[str, Any] | None:
    """The row ``read`` gave with this request's session, or None when it was not read so; given ``values``, only
    when it was read with those (a handler that reads its values its own way gets no row read for others)."""
    session = scope["state"].get("session")
    found = session.read_with.get(READ_WITH_KEY) if session is not None else None
    if found is None or found[0] is not read or (values is not None and found[1] != values):
        return None
    return found[2]
