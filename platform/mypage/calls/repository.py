"""The only code that reads call records; always for one tenant and one contract."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass

from piccolo.engine.sqlite import SQLiteEngine

from mypage.contracts.repository import plausible_number
from mypage.db.prepared import stored_object
from mypage.records.tables import CallRecord, Contract
from mypage.tenancy.registry import Tenant
from mypage.web.page_reads import read_alone_and_with_session

_TABLE = CallRecord._meta.tablename
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
"""A month as its URLs and rows write it."""

# A stored time as Unix seconds on the embedded database: ``unixepoch`` (SQLite 3.38+) reads the stored text
# directly, at a third of the cost of formatting it as text with ``strftime('%s')`` and casting that back.
_SQLITE_EPOCH = (
    "unixepoch(started_at)" if sqlite3.sqlite_version_info >= (3, 38) else "CAST(strftime('%s', started_at) AS INTEGER)"
)

# The export's page query: raw tuples (no Piccolo row objects or dicts, no Python-side datetime parsing),
# the start time as Unix seconds computed by the database. Keyset: (started_at, id) > that of the last row
# seen, written so the (tenant, contract, month, started_at, id) index gives a range scan:
# started_at >= x AND (started_at > x OR id > y), x being the last row's started_at, looked up by its id
# (a constant subquery) so the rows themselves need not carry the stored time stamp.
_EXPORT_SQL = {
    "sqlite": (
        f"SELECT id, {_SQLITE_EPOCH}, kind, caller, callee, duration_seconds, charge "
        f"FROM {_TABLE} WHERE tenant = ? AND contract = ? AND month = ?{{after}} ORDER BY started_at, id LIMIT ?"
    ),
    "postgres": (
        "SELECT id, CAST(EXTRACT(EPOCH FROM started_at) AS BIGINT), kind, caller, callee, duration_seconds, charge "
        f"FROM {_TABLE} WHERE tenant = $1 AND contract = $2 AND month = $3{{after}} ORDER BY started_at, id LIMIT $4"
    ),
}
_EXPORT_AFTER = {
    "sqlite": (
        f" AND started_at >= (SELECT started_at FROM {_TABLE} WHERE id = ?)"
        f" AND (started_at > (SELECT started_at FROM {_TABLE} WHERE id = ?) OR id > ?)"
    ),
    "postgres": (
        f" AND started_at >= (SELECT started_at FROM {_TABLE} WHERE id = $5)"
        f" AND (started_at > (SELECT started_at FROM {_TABLE} WHERE id = $5) OR id > $5)"
    ),
}

# One screen of the month (offset paging) and the month's totals, in the same raw form as the export.
_PAGE_SQL = {
    "sqlite": _EXPORT_SQL["sqlite"].format(after="") + " OFFSET ?",
    "postgres": _EXPORT_SQL["postgres"].format(after="") + " OFFSET $5",
}
# The same screen with the month's totals on every row, as two uncorrelated subqueries (each computed once):
# a screen that has rows needs no second query for the totals. Numbered parameters (SQLite reads ``?N``).
_MONTH_FILTER = "tenant = $1 AND contract = $2 AND month = $3"
_PAGE_WITH_TOTALS = (
    "SELECT id, {epoch}, kind, caller, callee, duration_seconds, charge, "
    f"(SELECT COUNT(*) FROM {_TABLE} WHERE {_MONTH_FILTER}), (SELECT COALESCE(SUM(charge), 0) FROM {_TABLE} WHERE {_MONTH_FILTER}) "
    f"FROM {_TABLE} WHERE {_MONTH_FILTER} ORDER BY started_at, id LIMIT $4 OFFSET $5"
)
_PAGE_WITH_TOTALS_SQL = {
    "sqlite": _PAGE_WITH_TOTALS.format(epoch=_SQLITE_EPOCH).replace("$", "?"),
    "postgres": _PAGE_WITH_TOTALS.format(epoch="CAST(EXTRACT(EPOCH FROM started_at) AS BIGINT)"),
}
_TOTALS_SQL = {
    kind: f"SELECT COUNT(*), COALESCE(SUM(charge), 0) FROM {_TABLE} WHERE tenant = {a} AND contract = {b} AND month = {c}"
    for kind, (a, b, c) in {"sqlite": ("?", "?", "?"), "postgres": ("$1", "$2", "$3")}.items()
}

# PostgreSQL: the customer's contract by number with a screen of its month and the month's totals, in one
# statement (the screen as an array of anonymous records, which asyncpg decodes into tuples): the call list's
# reads in one round trip instead of two. Both totals come from one pass over the month (a lateral aggregate).
# Its values: the tenant's slug, the customer's id, the contract's number, the month, the screen's size and offset.
_CONTRACT_MONTH = "tenant = {tenant} AND contract = c.id AND month = $4"
_CONTRACT_WITH_SCREEN_SQL = (
    "SELECT {columns}, ARRAY("
    "SELECT ROW(id, CAST(EXTRACT(EPOCH FROM started_at) AS BIGINT), kind, caller, callee, duration_seconds, charge) "
    f"FROM {_TABLE} WHERE {_CONTRACT_MONTH} ORDER BY started_at, id LIMIT $5 OFFSET $6) AS {{screen}}, "
    "totals.count AS {count}, totals.charge AS {charge} "
    f"FROM {Contract._meta.tablename} c CROSS JOIN LATERAL ("
    f"SELECT COUNT(*) AS count, COALESCE(SUM(charge), 0) AS charge FROM {_TABLE} WHERE {_CONTRACT_MONTH}"
    ") AS totals WHERE c.tenant = {tenant} AND c.customer = {customer} AND c.number = $3 LIMIT 1"
)
_CONTRACT_WITH_SCREEN, CONTRACT_WITH_SCREEN_WITH_SESSION = read_alone_and_with_session(
    Contract,
    _CONTRACT_WITH_SCREEN_SQL,
    ("screen", "count", "charge"),
    lambda params, tenant, query: screen_values(tenant, params["number"], params["month"], query.get("page")),
)
"""The same, read with the session (``web/page_reads.py``): no row when the number is not one of the customer's
contracts (its columns are then empty)."""

MAX_PAGE_ASKED = 1_000_000
"""Page numbers asked past this one are taken as this one (its offset still fits the databases' integers)."""


def _asked_page(page: int) -> int:
    """The screen number to read for ``page`` as asked: at least 1, at most :data:`MAX_PAGE_ASKED`."""
    return min(max(page, 1), MAX_PAGE_ASKED)


ExportRow = tuple
"""``(id, unix_seconds, kind, caller, callee, duration_seconds, charge)``."""


@dataclass(frozen=True)
class MonthTotals:
    count: int
    charge: int


Screen = tuple[MonthTotals, int, list[ExportRow]]
"""A screen of the call list: the month's totals, the screen's number, its rows."""


class CallRepository:
    def __init__(self, tenant: Tenant, contract_id: int):
        self.slug = tenant.slug
        self.contract_id = contract_id

    async def totals(self, month: str) -> MonthTotals:
        kind, engine = _engine_kind()
        ((count, charge),) = await _read_bounded(engine, kind, _TOTALS_SQL[kind], [self.slug, self.contract_id, month])
        return MonthTotals(count=int(count), charge=int(charge))

    async def screen(self, month: str, page: int, page_size: int) -> Screen:
        """The month's totals, and screen ``page`` of it (moved to the last screen when past it) with its number.
        One query when the screen has rows; the totals are read on their own only for an empty month or a
        page past the end."""
        kind, engine = _engine_kind()
        page = _asked_page(page)
        args = [self.slug, self.contract_id, month, page_size, (page - 1) * page_size]
        rows = await _read_bounded(engine, kind, _PAGE_WITH_TOTALS_SQL[kind], args)
        if rows:
            totals = MonthTotals(count=int(rows[0][7]), charge=int(rows[0][8]))
            return totals, page, [tuple(row[:7]) for row in rows]
        return await self._past_the_end(month, page, page_size, await self.totals(month))

    async def _past_the_end(self, month: str, page: int, page_size: int, totals: MonthTotals) -> Screen:
        """An empty screen: the month is empty, or ``page`` is past its last screen, which is shown instead."""
        last = max(1, -(-totals.count // page_size))
        if page <= last:
            return totals, page, []
        return totals, last, await self.page(month, last, page_size)

    async def page(self, month: str, page: int, page_size: int) -> list[ExportRow]:
        """One screen of a month, oldest first (offset paging: a screen is at most ``page_size`` rows)."""
        kind, engine = _engine_kind()
        args = [self.slug, self.contract_id, month, page_size, (page - 1) * page_size]
        return await _read_bounded(engine, kind, _PAGE_SQL[kind], args)

    async def months(self) -> list[str]:
        rows = await (
            CallRecord.select(CallRecord.month)
            .where(CallRecord.tenant == self.slug)
            .where(CallRecord.contract == self.contract_id)
            .distinct()
        )
        return sorted({r["month"] for r in rows}, reverse=True)

    async def iter_export_pages(self, month: str, page_size: int = 2000) -> AsyncIterator[list[ExportRow]]:
        """Every record of the month for the CSV export, oldest first, as raw tuples (:data:`ExportRow`),
        ``page_size`` rows per query (keyset pagination: each query continues after the last row seen, so
        memory stays constant whatever the month's size, and no lock or transaction is held between pages)."""
        kind, engine = _engine_kind()
        first = _EXPORT_SQL[kind].format(after="")
        following = _EXPORT_SQL[kind].format(after=_EXPORT_AFTER[kind])
        last_id: int | None = None
        while True:
            if last_id is None:
                sql, args = first, [self.slug, self.contract_id, month, page_size]
            elif kind == "sqlite":
                sql, args = following, [self.slug, self.contract_id, month, last_id, last_id, last_id, page_size]
            else:
                sql, args = following, [self.slug, self.contract_id, month, page_size, last_id]
            rows = await _fetch_tuples(engine, kind, sql, args)
            if not rows:
                return
            yield rows
            if len(rows) < page_size:
                return
            last_id = rows[-1][0]


def screen_values(tenant: Tenant, number: str, month: str, page_asked: str | None) -> list | None:
    """The call list's values after the tenant's slug and the customer's id (see :data:`_CONTRACT_WITH_SCREEN`) for
    the screen ``page_asked`` (the query's text) of ``month``; None when there is nothing to read."""
    details = tenant.config.features.call_details
    if details is None or not tenant.config.features.enabled("call_details"):
        return None
    if not plausible_number(number) or not MONTH.match(month):
        return None
    try:
        page = _asked_page(int(page_asked or 1))
    except ValueError:
        page = 1
    return [number, month, details.page_size, (page - 1) * details.page_size]


async def contract_with_screen(
    tenant: Tenant, customer_id: int | None, values: list, read_with_session: dict | None = None
) -> tuple[Contract, Screen] | None:
    """The customer's contract (None when it is not theirs) with :meth:`CallRepository.screen` of the month, as
    :func:`screen_values` gives them, in one statement: for PostgreSQL (:func:`~mypage.db.prepared.reads_are_round_trips`).
    ``read_with_session``: that statement's row, already read with the session."""
    _number, month, page_size, offset = values
    if read_with_session is not None:
        row = read_with_session if read_with_session.get("id") is not None else None
    elif customer_id is None:
        row = None
    else:
        row = await _CONTRACT_WITH_SCREEN.first(tenant.slug, customer_id, *values)
    if row is None:
        return None
    rows, totals = row.pop("_screen"), MonthTotals(count=int(row.pop("_count")), charge=int(row.pop("_charge")))
    contract = stored_object(Contract, row)
    page = offset // page_size + 1
    if rows:
        return contract, (totals, page, [tuple(record) for record in rows])
    return contract, await CallRepository(tenant, contract.id)._past_the_end(month, page, page_size, totals)


def _engine_kind():
    engine = CallRecord._meta.db
    return ("sqlite" if isinstance(engine, SQLiteEngine) else "postgres"), engine


async def _read_bounded(engine, kind: str, sql: str, args: list) -> list:
    """A read of at most one screen of rows: on the embedded database on the event loop's thread when it can
    (see ``EmbeddedSQLiteEngine.read_inline``), else as :func:`_fetch_tuples`."""
    read_inline = getattr(engine, "read_inline", None)
    rows = read_inline(sql, args, raw=True) if read_inline is not None else None
    return rows if rows is not None else await _fetch_tuples(engine, kind, sql, args)


def _sqlite_fetch(connection_kwargs: dict, sql: str, args: list) -> list[tuple]:
    # Piccolo's own connection settings, but no declared-type converters: values come back as stored.
    connection = sqlite3.connect(**{**connection_kwargs, "detect_types": 0})
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


async def _fetch_tuples(engine, kind: str, sql: str, args: list) -> list:
    """Runs a read query on the tables' engine; rows as tuples (SQLite) or asyncpg records."""
    if engine.log_queries:  # as the engine's own queries are logged (and counted by the tests)
        engine.print_query(query_id=engine.get_query_id(), query=f"{sql} {args!r}")
    if kind == "sqlite":
        # One call on a worker thread (connect, query, fetch, close) rather than aiosqlite's hop per step:
        # the page is read while the event loop formats the previous one.
        return await asyncio.to_thread(_sqlite_fetch, engine.connection_kwargs, sql, args)
    # PostgreSQL (asyncpg): records unpack like tuples. On the engine's read lane when it can (``db/postgres.py``).
    read_prepared = getattr(engine, "read_prepared", None)
    rows = await read_prepared(sql, args) if read_prepared is not None else None
    if rows is not None:
        return rows
    if engine.pool is not None:
        async with engine.pool.acquire() as connection:
            return await connection.fetch(sql, *args)
    connection = await engine.get_new_connection()
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()
