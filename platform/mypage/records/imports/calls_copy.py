"""Call records on PostgreSQL: the fast path first (``calls_direct.py``), else COPY into a temporary table,
then checks and the upsert in SQL.

The rows stream from the file (constant memory, whatever its size): each is parsed and checked by
``calls_direct.row_parser`` (the columns' parsers) and goes into ``import_calls`` (a temporary table dropped
at commit) with a COPY. Once a row has a problem, no more rows are copied but every row is still checked, so
every problem is reported. The checks that need all rows (a 明細キー twice in the file, an unknown 契約番号)
and the upsert by 明細キー (update where a field differs, insert the new) are single statements over that
table. Everything runs in one transaction: a file with any problem writes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable

from mypage.records import csvparse as p
from mypage.records.csvparse import FieldError, RowError
from mypage.records.imports.base import NO_ROWS, ImportResult, Progress, header_columns
from mypage.records.imports.calls_direct import CHUNK, copy_new_calls, row_parser
from mypage.records.imports.columns import Column

TEMP_TABLE = "import_calls"
_COLUMNS = (
    "line",
    "contract_number",
    "month",
    "started_at",
    "kind",
    "caller",
    "callee",
    "duration_seconds",
    "charge",
    "record_key",
)
_CREATE = (
    f"CREATE TEMPORARY TABLE {TEMP_TABLE} (line integer, contract_number text, month text, started_at timestamptz, "
    "kind text, caller text, callee text, duration_seconds integer, charge integer, record_key text) ON COMMIT DROP"
)
_DUPLICATES = (
    f"SELECT line, record_key, first FROM (SELECT line, record_key, min(line) OVER (PARTITION BY record_key) AS first "
    f"FROM {TEMP_TABLE}) AS keyed WHERE line <> first ORDER BY line"
)
_UNKNOWN_CONTRACTS = (
    f"SELECT t.line, t.contract_number FROM {TEMP_TABLE} t LEFT JOIN contracts k ON k.tenant = $1 "
    "AND k.number = t.contract_number WHERE k.id IS NULL ORDER BY t.line"
)
_SOURCE = (
    f"SELECT t.*, k.id AS contract_id FROM {TEMP_TABLE} t JOIN contracts k ON k.tenant = $1 AND k.number = t.contract_number"
)
_FIELDS = ("month", "started_at", "kind", "caller", "callee", "duration_seconds", "charge")
_UPDATE = (
    f"WITH src AS ({_SOURCE}) UPDATE call_records c SET contract = s.contract_id, "
    + ", ".join(f"{f} = s.{f}" for f in _FIELDS)
    + " FROM src s WHERE c.tenant = $1 AND c.record_key = s.record_key AND "
    + f"(c.contract, {', '.join(f'c.{f}' for f in _FIELDS)}) IS DISTINCT FROM (s.contract_id, {', '.join(f's.{f}' for f in _FIELDS)})"
)
_EXISTING = f"SELECT count(*) FROM {TEMP_TABLE} t JOIN call_records c ON c.tenant = $1 AND c.record_key = t.record_key"
_INSERT = (
    f"WITH src AS ({_SOURCE}), ins AS (INSERT INTO call_records (tenant, created_at, contract, {', '.join(_FIELDS)}, record_key) "
    f"SELECT $1, now(), s.contract_id, {', '.join(f's.{f}' for f in _FIELDS)}, s.record_key FROM src s "
    "WHERE NOT EXISTS (SELECT 1 FROM call_records c WHERE c.tenant = $1 AND c.record_key = s.record_key) "
    # In the order of most of the table's indexes (contract, month, time): each index page is visited once.
    "ORDER BY s.contract_id, s.month, s.started_at RETURNING id, contract) "
    "SELECT k.customer, count(*) AS added FROM ins JOIN contracts k ON k.id = ins.contract GROUP BY k.customer ORDER BY min(ins.id)"
)


class _Problems(Exception):
    """Leaves the transaction (rolling it back) when the file has problems."""


async def import_calls(
    tenant: str, header: list[str], open_rows: Callable[[], Iterable[tuple[int, list[str]]]], progress: Progress, **audit
) -> ImportResult:
    """``open_rows`` gives the file's data rows from the start each time it is called (a second time when the
    fast path gives up). ``audit``: more detail for the ``records.import`` audit event (who, which file)."""
    result = ImportResult(kind="calls")
    columns, errors = header_columns("calls", header)
    if errors:
        result.errors = errors
        return result
    attempt = _Resumable(progress)
    try:
        written = await copy_new_calls(tenant, columns, open_rows(), attempt, **audit)
    except p.CsvSyntaxError as exc:
        result.errors = [RowError(exc.line, "", str(exc))]
        return result
    except FieldError as exc:
        result.errors = [RowError(0, "", str(exc))]
        return result
    if written is not None:
        return written
    return await _upsert(tenant, columns, open_rows(), _Resumable(progress, skip=attempt.seen), result, errors, **audit)


class _Resumable(Progress):
    """Passes on the rows after the first ``skip`` (those the given-up fast path counted already)."""

    def __init__(self, inner: Progress, skip: int = 0):
        self.bar, self.inner, self.skip, self.seen = None, inner, skip, 0

    def advance(self, count: int) -> None:
        self.seen += count
        forward = min(count, self.seen - self.skip)
        if forward > 0:
            self.inner.advance(forward)


async def _upsert(
    tenant: str,
    columns: list[Column | None],
    rows: Iterable[tuple[int, list[str]]],
    progress: Progress,
    result: ImportResult,
    errors: list[RowError],
    **audit,
) -> ImportResult:
    """Every row through the temporary table: all problems reported, or new rows inserted and changed ones updated."""
    from mypage.audit.log import AuditLog
    from mypage.db.transaction import atomic

    parse = row_parser(columns, errors)

    async def lines() -> AsyncIterator[bytes]:
        batch: list[str] = []
        for line, cells in rows:
            result.rows += 1
            progress.advance(1)
            parsed = parse(line, cells)
            if parsed is None or errors:  # every row is still checked, but none copied after a problem
                continue
            contract_number, _, rest = parsed
            batch.append(f"{line}\t{contract_number}\t{rest}\n")
            if len(batch) >= CHUNK:
                yield "".join(batch).encode()
                batch.clear()
        if batch:
            yield "".join(batch).encode()

    try:
        async with atomic() as transaction:
            connection = transaction.connection
            await connection.execute(_CREATE)
            await connection.execute("SET LOCAL work_mem = '64MB'")  # the checks sort every row
            await connection.copy_to_table(TEMP_TABLE, source=lines(), columns=list(_COLUMNS), format="text")
            if not result.rows:
                errors.append(RowError(0, "", NO_ROWS))
            if errors:
                raise _Problems
            await connection.execute(f"ANALYZE {TEMP_TABLE}")
            for row in await connection.fetch(_DUPLICATES):
                errors.append(
                    RowError(row["line"], "record_key", f"同じ明細キー「{row['record_key']}」が{row['first']}行目にもあります。")
                )
            for row in await connection.fetch(_UNKNOWN_CONTRACTS, tenant):
                errors.append(
                    RowError(row["line"], "contract_number", f"契約番号「{row['contract_number']}」の契約が登録されていません。")
                )
            if errors:
                raise _Problems
            existing = await connection.fetchval(_EXISTING, tenant)
            status = await connection.execute(_UPDATE, tenant)
            result.updated = int(status.split()[-1])
            result.unchanged = existing - result.updated
            for row in await connection.fetch(_INSERT, tenant):
                result.created += row["added"]
                result.note_added(row["customer"], "call")
            await AuditLog(tenant).record(
                "records.import", kind="calls", rows=result.rows, created=result.created, updated=result.updated, **audit
            )
    except _Problems:
        result.errors = sorted(errors, key=lambda e: (e.line, e.column))
    except p.CsvSyntaxError as exc:
        result.errors = [RowError(exc.line, "", str(exc))]
    except FieldError as exc:
        result.errors = [RowError(0, "", str(exc))]
    return result
