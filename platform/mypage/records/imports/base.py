"""What every kind of import shares: the result, parsing rows by the kind's columns, and batched database
helpers (chunked look-ups by natural key, bulk inserts, updates of changed fields only)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import click
from piccolo.table import Table

from mypage.records import csvparse as p
from mypage.records.bulk import bulk_insert
from mypage.records.csvparse import FieldError, RowError
from mypage.records.imports.columns import SPECS, Column

CHUNK = 500


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    added: list[tuple[int, str]] = field(default_factory=list)
    """(customer_id, kind) of what was newly added (each pair once): for notifying members after commit."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return f"{self.kind}: {self.rows}行 — 新規 {self.created}件 / 更新 {self.updated}件 / 変更なし {self.unchanged}件"

    def note_added(self, customer_id: int, kind: str) -> None:
        pair = (customer_id, kind)
        if pair not in self._added_set:
            self._added_set.add(pair)
            self.added.append(pair)

    def __post_init__(self) -> None:
        self._added_set: set[tuple[int, str]] = set()


# --- parsing ------------------------------------------------------------------------------------------------


def _header_map(kind: str) -> dict[str, Column]:
    import unicodedata

    mapping = {}
    for column in SPECS[kind]:
        for alias in (column.name, column.label, *column.aliases):
            mapping[unicodedata.normalize("NFKC", alias).strip().lower()] = column
    return mapping


def header_columns(kind: str, header: list[str]) -> tuple[list[Column | None], list[RowError]]:
    """The column of each header cell (None for a cell that is ignored after its error), and the header's problems."""
    import unicodedata

    errors: list[RowError] = []
    mapping = _header_map(kind)
    columns: list[Column | None] = []
    seen: dict[str, str] = {}
    for cell in header:
        column = mapping.get(unicodedata.normalize("NFKC", cell).strip().lower())
        if column is None:
            errors.append(RowError(1, cell, "不明な列です(docs/import.md の列名を使ってください)。"))
        elif column.name in seen:
            errors.append(RowError(1, cell, f"列「{seen[column.name]}」と同じ列です。"))
        else:
            seen[column.name] = cell
        columns.append(column if column is not None and seen.get(column.name) == cell else None)
    for column in SPECS[kind]:
        if column.required and column.name not in seen:
            errors.append(RowError(1, column.name, "必須の列がありません。"))
    return columns, errors


NO_ROWS = "データ行がありません。"


def parse_cells(columns: list[Column | None], line: int, cells: list[str], errors: list[RowError]) -> dict[str, Any] | None:
    """One row's values by column name (only the columns present in the header); its problems go to ``errors``.
    None when the row has more cells than the header."""
    width = len(columns)
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        errors.append(RowError(line, "", f"列の数({len(cells)})がヘッダー({width})より多くなっています。"))
        return None
    values: dict[str, Any] = {}
    for index, column in enumerate(columns):
        if column is None:
            continue
        raw = cells[index] if index < len(cells) else ""
        if not raw.strip():
            if column.required:
                errors.append(RowError(line, column.name, "必須です。入力してください。"))
            values[column.name] = column.empty
            continue
        try:
            values[column.name] = column.parse(raw)
        except FieldError as exc:
            errors.append(RowError(line, column.name, str(exc)))
    return values


def parse_rows(kind: str, csv_file: p.CsvFile) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """Rows as dicts of normalised values (only the columns present in the header), and every problem."""
    columns, errors = header_columns(kind, csv_file.header)
    if errors:
        return [], errors
    if not csv_file.rows:
        return [], [RowError(0, "", NO_ROWS)]
    parsed = []
    for line, cells in csv_file.rows:
        values = parse_cells(columns, line, cells, errors)
        if values is not None:
            parsed.append((line, values))
    return parsed, errors


# --- database helpers ---------------------------------------------------------------------------------------


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def by_key(table: type[Table], key_column, keys: Iterable, tenant: str, *columns) -> dict[Any, dict]:
    """Existing rows of ``tenant`` whose ``key_column`` is one of ``keys``, by key."""
    found: dict[Any, dict] = {}
    keys = list(dict.fromkeys(k for k in keys if k is not None))
    for chunk in chunks(keys):
        query = table.select(*columns) if columns else table.select()
        rows = await query.where(table.tenant == tenant).where(key_column.is_in(chunk))
        for row in rows:
            found[row[key_column._meta.name]] = row
    return found


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        a = a if a.tzinfo else a.replace(tzinfo=UTC)
        b = b if b.tzinfo else b.replace(tzinfo=UTC)
        return a == b
    if isinstance(a, date) and isinstance(b, str):
        return a.isoformat() == b[:10]
    if isinstance(b, date) and isinstance(a, str):
        return b.isoformat() == a[:10]
    if a is None or b is None:
        return (a or "") == (b or "")
    return a == b


def changed_fields(existing: dict, values: dict) -> dict:
    return {k: v for k, v in values.items() if not same_value(existing.get(k), v)}


async def insert_rows(table: type[Table], rows: list[dict], *returning) -> list[dict]:
    return await bulk_insert(table, rows, tuple(c._meta.name for c in returning))


async def update_row(table: type[Table], tenant: str, row_id: int, changes: dict) -> None:
    await table.update({getattr(table, k): v for k, v in changes.items()}).where(table.tenant == tenant).where(table.id == row_id)


class NumberedUpsert:
    """Rows keyed by their ``number``: an existing row is updated where a field differs (its number then goes
    to ``touched``), new rows are inserted together by :meth:`insert_new`; ``ids`` maps every number to its id."""

    def __init__(self, table: type[Table], tenant: str, existing: dict[str, dict]):
        self.table, self.tenant, self.existing = table, tenant, existing
        self.new_rows: list[dict] = []
        self.ids: dict[str, int] = {}
        self.touched: set[str] = set()

    async def put(self, number: str, fields: dict) -> None:
        current = self.existing.get(number)
        if current is None:
            self.new_rows.append({"tenant": self.tenant, "number": number, **fields})
            return
        self.ids[number] = current["id"]
        changes = changed_fields(current, fields)
        if changes:
            await update_row(self.table, self.tenant, current["id"], changes)
            self.touched.add(number)

    async def insert_new(self, *returning) -> list[dict]:
        """Inserts the new rows; returns them with id, number and the ``returning`` columns."""
        inserted = await insert_rows(self.table, self.new_rows, self.table.id, self.table.number, *returning)
        for row in inserted:
            self.ids[row["number"]] = row["id"]
        return inserted


class Progress:
    def __init__(self, total: int, label: str, show: bool):
        self.bar = click.progressbar(length=total, label=label, file=sys.stderr) if show else None

    def __enter__(self) -> Progress:
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)


def duplicate_keys(rows: list[tuple[int, dict]], key: str, column: str, label: str) -> list[RowError]:
    first: dict[Any, int] = {}
    errors = []
    for line, values in rows:
        value = values.get(key)
        if value is None:
            continue
        if value in first:
            errors.append(RowError(line, column, f"同じ{label}「{value}」が{first[value]}行目にもあります。"))
        else:
            first[value] = line
    return errors
