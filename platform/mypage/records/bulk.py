"""Fast multi-row INSERTs (one statement per chunk of rows) for imports and demo data.

Piccolo's ``Table.insert(Table(...), ...)`` builds a nested query string per row, which dominates the
time of loading tens of thousands of rows; this writes one flat parameterised statement per chunk
instead, through Piccolo's engine (so it joins the current ``atomic()`` transaction), for SQLite and
PostgreSQL alike. Columns missing from a row get the column's null/empty default; ``created_at`` is now.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from piccolo.columns import JSON, JSONB, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

CHUNK = 500
MAX_PARAMETERS = 30000


def _empty(column, now: datetime) -> Any:
    if column._meta.null:
        return None
    if isinstance(column, (Varchar, Text)):
        return ""
    if isinstance(column, (JSON, JSONB)):
        return "{}"
    if isinstance(column, Boolean):
        return False
    if isinstance(column, Integer):
        return 0
    if isinstance(column, Timestamptz):
        return now
    return None


def _converter(column):
    if isinstance(column, (JSON, JSONB)):
        return lambda value: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if isinstance(column, Timestamptz):
        return lambda value: value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo else value
    return None


def _connection(table: type[Table]):
    """The connection of the current transaction, when there is one (then the driver is used directly)."""
    engine = table._meta.db
    current = getattr(engine, "current_transaction", None)
    transaction = current.get() if current is not None else None
    return getattr(transaction, "connection", None) if transaction is not None else None


async def bulk_insert(table: type[Table], rows: list[dict], returning: tuple[str, ...] = ()) -> list[dict]:
    """Inserts ``rows`` (dicts by column name; keys starting with ``_`` are ignored) in chunks.

    Returns the ``returning`` columns of every inserted row (in insertion order) when asked.
    """
    if not rows:
        return []
    now = datetime.now(UTC)
    columns = [c for c in table._meta.columns if not c._meta.primary_key]
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    tail = (" RETURNING " + ", ".join(f'"{name}"' for name in returning)) if returning else ""
    chunk_size = max(1, min(CHUNK, MAX_PARAMETERS // len(columns)))
    plan = [(c._meta.name, _empty(c, now), _converter(c)) for c in columns]
    engine_type = table._meta.db.engine_type
    connection = _connection(table)
    out: list[dict] = []
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        values: list[Any] = []
        for row in chunk:
            for name, default, convert in plan:
                if name in row:
                    value = row[name]
                    values.append(convert(value) if convert is not None and value is not None else value)
                else:
                    values.append(default)
        width = len(columns)
        if connection is not None and engine_type == "sqlite":
            groups = ", ".join(["(" + ", ".join("?" * width) + ")"] * len(chunk))
            sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {groups}{tail}'
            cursor = await connection.execute(sql, values)
            result = await cursor.fetchall() if returning else []
            await cursor.close()
            out.extend(r if isinstance(r, dict) else dict(zip(returning, r, strict=False)) for r in result)
        elif connection is not None and engine_type == "postgres":
            groups = ", ".join("(" + ", ".join(f"${i * width + j + 1}" for j in range(width)) + ")" for i in range(len(chunk)))
            sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {groups}{tail}'
            if returning:
                out.extend(dict(r) for r in await connection.fetch(sql, *values))
            else:
                await connection.execute(sql, *values)
        else:
            groups = ", ".join(["(" + ", ".join("{}" for _ in range(width)) + ")"] * len(chunk))
            sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {groups}{tail}'
            result = await table.raw(sql, *values)
            if returning:
                out.extend(result)
    return out
