"""One transaction helper for both engines (IMMEDIATE on SQLite, so read-then-write is safe).

On the embedded database a transaction also waits for this process's write slot first (``mypage.db.sqlite``):
concurrent writers queue instead of failing with "database is locked"."""

from __future__ import annotations

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from mypage.records.tables import Customer


def atomic():
    """``async with atomic():`` — every Piccolo query inside runs in one transaction."""
    engine = Customer._meta.db
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate, allow_nested=True)
    return engine.transaction(allow_nested=True)
