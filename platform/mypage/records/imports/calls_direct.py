"""Call records on PostgreSQL, the fast path: one COPY straight into ``call_records`` when every row is new.

Taken first for every call file: the rows go from the file into ``call_records`` in one COPY (text format,
built here), so PostgreSQL writes the rows and their indexes on one core while this process reads and checks
the next rows on the other. The attempt is given up (its transaction rolled back, nothing written) at the
first row that does not parse, a 契約番号 that is not registered, or a 明細キー already stored (looked up for
the first rows, the usual re-import) or twice (the unique index refuses it). The caller then imports through
the temporary table (``calls_copy.py``), which reports every problem with its line or upserts.

Most rows take :func:`row_parser`'s plain path (``2024-12-01 10:19:05`` in Japan time, digits): the same
values as the columns' parsers without a datetime object per row; any other row goes through them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from mypage.records import csvparse as p
from mypage.records.csvparse import FieldError, RowError
from mypage.records.imports.base import ImportResult, Progress, parse_cells
from mypage.records.imports.calls import derived_record_key
from mypage.records.imports.columns import Column

CHUNK = 5_000
"""Rows read ahead: their contracts are looked up together before they go into the COPY."""
MEMO_SIZE = 50_000
COLUMNS = ("tenant", "contract", "month", "started_at", "kind", "caller", "callee", "duration_seconds", "charge", "record_key")
_CONTRACTS = "SELECT number, id, customer FROM contracts WHERE tenant = $1 AND number = ANY($2::text[])"
_STORED_KEY = "SELECT 1 FROM call_records WHERE tenant = $1 AND record_key = ANY($2::text[]) LIMIT 1"
_PLAIN = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?", re.ASCII)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

Parsed = tuple[str, str, str]
"""(契約番号, 明細キー, the rest of the COPY line after the contract's id)."""


class GiveUp(Exception):
    """The file is not a clean set of new rows: leave it to the temporary-table import."""


def escape(value: str) -> str:
    """A value for COPY's text format."""
    return value.translate(_ESCAPES)


def _memoized(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    known: dict[str, Any] = {}

    def cached(raw: str) -> Any:
        value = known.get(raw, known)
        if value is known:
            if len(known) >= MEMO_SIZE:
                known.clear()
            value = known[raw] = parse(raw)
        return value

    return cached


def _utc_hour(day_hour: str) -> str:
    """``2025-10-01 07`` (Japan time) → ``20251000T22`` (UTC, as in :func:`derived_record_key`)."""
    t = datetime(int(day_hour[:4]), int(day_hour[5:7]), int(day_hour[8:10]), int(day_hour[11:13]), tzinfo=p.JST)
    t = t.astimezone(UTC)
    return f"{t.year:04d}{t.month:02d}{t.day:02d}T{t.hour:02d}"


def row_parser(columns: list[Column | None], errors: list[RowError] | None = None) -> Callable[[int, list[str]], Parsed | None]:
    """A function of (line, cells) → :data:`Parsed`, or None when the row has a problem (added to ``errors``)."""
    at = {c.name: i for i, c in enumerate(columns) if c is not None}
    spec = {c.name: c for c in columns if c is not None}
    width = len(columns)
    contract_at, started_at, kind_at, caller_at, callee_at, duration_at, charge_at = (
        at[name] for name in ("contract_number", "started_at", "kind", "caller", "callee", "duration", "charge")
    )
    key_at, month_at = at.get("record_key"), at.get("month")
    contract_code = _memoized(spec["contract_number"].parse)
    kind_text = _memoized(lambda raw: escape(spec["kind"].parse(raw)))
    utc_hour = _memoized(_utc_hour)
    dialled, duration, charge_of = p.dialled, p.duration, spec["charge"].parse
    sha256 = hashlib.sha256

    def general(line: int, cells: list[str]) -> Parsed | None:
        found: list[RowError] = []
        values = parse_cells(columns, line, cells, found)
        if values is None or found:
            if errors is not None:
                errors.extend(found)
            return None
        started: datetime = values["started_at"]
        key = values.get("record_key") or derived_record_key(
            values["contract_number"], started, values["caller"], values["callee"], values["duration"]
        )
        local = started.astimezone(p.JST)
        month = values.get("month") or f"{local.year:04d}-{local.month:02d}"
        rest = (
            f"{month}\t{started.isoformat(' ')}\t{escape(values['kind'])}\t{values['caller']}\t{values['callee']}\t"
            f"{values['duration']}\t{values['charge']}\t{escape(key)}"
        )
        return values["contract_number"], key, rest

    def parse(line: int, cells: list[str]) -> Parsed | None:
        if len(cells) != width:
            return general(line, cells)
        plain = _PLAIN.fullmatch(cells[started_at])
        if plain is None:
            return general(line, cells)
        day, hour, minute, second = plain.groups("00")
        if minute > "59" or second > "59":
            return general(line, cells)
        try:
            contract = contract_code(cells[contract_at])
            utc = utc_hour(f"{day} {hour}")
            kind = kind_text(cells[kind_at])
            caller, callee = dialled(cells[caller_at]), dialled(cells[callee_at])
            seconds, charge = duration(cells[duration_at]), charge_of(cells[charge_at])
            month = key = ""
            if month_at is not None and cells[month_at].strip():
                month = spec["month"].parse(cells[month_at])
            if key_at is not None and cells[key_at].strip():
                key = spec["record_key"].parse(cells[key_at])
        except (FieldError, ValueError):  # ValueError: no such day or hour (the general path says which)
            return general(line, cells)
        if not kind:
            return general(line, cells)
        if key:
            text_key = escape(key)
        else:  # hexadecimal: nothing to escape
            digest = sha256(f"{contract}|{utc}{minute}{second}Z|{caller}|{callee}|{seconds}".encode()).hexdigest()
            key = text_key = f"h:{digest[:40]}"
        rest = (
            f"{month or day[:7]}\t{day} {hour}:{minute}:{second}+09\t{kind}\t{caller}\t{callee}\t{seconds}\t{charge}\t{text_key}"
        )
        return contract, key, rest

    return parse


async def copy_new_calls(
    tenant: str, columns: list[Column | None], rows: Iterable[tuple[int, list[str]]], progress: Progress, **audit
) -> ImportResult | None:
    """Writes every row of the file if all are new and clean (the result), else writes nothing (None)."""
    import asyncpg
    from piccolo.engine.postgres import PostgresEngine

    from mypage.audit.log import AuditLog
    from mypage.db.transaction import atomic
    from mypage.records.tables import CallRecord

    engine = CallRecord._meta.db
    assert isinstance(engine, PostgresEngine)
    result = ImportResult(kind="calls")
    lookup = await engine.get_new_connection()  # contracts and stored keys, while the COPY runs
    try:
        async with atomic() as transaction:
            source = _lines(tenant, row_parser(columns), rows, lookup, progress, result)
            await transaction.connection.copy_to_table(
                CallRecord._meta.tablename, source=source, columns=list(COLUMNS), format="text"
            )
            if not result.rows:
                raise GiveUp
            result.created = result.rows
            await AuditLog(tenant).record(
                "records.import", kind="calls", rows=result.rows, created=result.created, updated=0, **audit
            )
    except (GiveUp, asyncpg.UniqueViolationError, asyncpg.ForeignKeyViolationError):
        return None
    finally:
        await lookup.close()
    return result


async def _lines(
    tenant: str,
    parse: Callable[[int, list[str]], Parsed | None],
    rows: Iterable[tuple[int, list[str]]],
    lookup,
    progress: Progress,
    result: ImportResult,
) -> AsyncIterator[bytes]:
    """The COPY's data, a chunk of rows at a time."""
    contracts: dict[str, tuple[int, int]] = {}  # 契約番号 → (id, customer)
    prefix = f"{escape(tenant)}\t"
    batch: list[Parsed] = []
    first = True

    async def encode() -> bytes:
        unknown = list({number for number, _, _ in batch if number not in contracts})
        if unknown:
            if len(contracts) + len(unknown) > MEMO_SIZE:
                contracts.clear()
                unknown = list({number for number, _, _ in batch})
            for row in await lookup.fetch(_CONTRACTS, tenant, unknown):
                contracts[row["number"]] = (row["id"], row["customer"])
                result.note_added(row["customer"], "call")
            if any(number not in contracts for number in unknown):
                raise GiveUp
        if first and await lookup.fetchval(_STORED_KEY, tenant, [key for _, key, _ in batch]):
            raise GiveUp  # the file (or its start) was imported before: an upsert
        return "".join([f"{prefix}{contracts[number][0]}\t{rest}\n" for number, _, rest in batch]).encode()

    for line, cells in rows:
        result.rows += 1
        progress.advance(1)
        parsed = parse(line, cells)
        if parsed is None:
            raise GiveUp
        batch.append(parsed)
        if len(batch) >= CHUNK:
            yield await encode()
            batch.clear()
            first = False
    if batch:
        yield await encode()
