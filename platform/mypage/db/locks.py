"""One way to keep an "at most N" or "at least one" rule under parallel requests: serialise on the parent row.

A rule such as "a customer has at most 5 mailboxes" or "a customer keeps at least one administrator" is a
count followed by a write. Two transactions at READ COMMITTED (PostgreSQL's default) both count, both see
room, and both write: 8 mailboxes, or no administrator. So every such rule runs as::

    async with serialised(Customer, customer_id):
        if await repo.count(customer_id) >= limit: ...   # the count and the write in the same locked transaction
        await repo.create(...)

``serialised`` opens :func:`~mypage.db.transaction.atomic` and, on PostgreSQL, locks the parent row
(``SELECT … FOR NO KEY UPDATE``) before anything is read, so the next request for the same parent waits until
this one has committed and then counts what it wrote. ``NO KEY UPDATE`` is the row lock PostgreSQL takes for
an ordinary UPDATE: two of them exclude each other, but it does not block other transactions that merely
insert or update rows referring to the parent by foreign key (those take ``KEY SHARE``), so unrelated writes
(a login, a session, an audit row) never queue behind it. On SQLite, ``atomic()`` is an IMMEDIATE
transaction: it holds the database's write lock from its first statement, which already serialises every
writer, so there is nothing more to take.

Rules that must hold together lock the same parent (all of a customer's rules lock the customer), and the
lock is taken first in the transaction: a transaction that reads the rows before it locks could act on
what it read before the wait.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from mypage.db.transaction import atomic


async def lock_for_update(table: type[Table], row_id: int) -> bool:
    """Locks one row of ``table`` until the current transaction ends; ``False`` where there is no such row.

    Call it inside ``atomic()`` (on PostgreSQL a lock outside a transaction would end with its statement);
    :func:`serialised` does both.
    """
    engine = table._meta.db
    if isinstance(engine, SQLiteEngine):
        # The IMMEDIATE transaction holds the write lock; this only says whether the row exists.
        rows = await table.raw(f'SELECT "id" FROM "{table._meta.tablename}" WHERE "id" = {{}}', row_id)
        return bool(rows)
    if engine.current_transaction.get() is None:
        raise RuntimeError("lock_for_update() outside a transaction: use `async with serialised(...)`")
    rows = await table.raw(f'SELECT "id" FROM "{table._meta.tablename}" WHERE "id" = {{}} FOR NO KEY UPDATE', row_id)
    return bool(rows)


async def lock_where(table: type[Table], condition: str, *values: object) -> None:
    """Locks every row of ``table`` matching ``condition`` (SQL, ``{}`` for each value) until the current
    transaction ends: the rows an "at least one" rule counts where no single parent row stands for them (a
    tenant's active administrators, the platform's active members). Two changes that each leave "one other"
    cannot both pass; after the wait PostgreSQL reads the rows again. On SQLite the IMMEDIATE transaction of
    ``atomic()`` already serialises every writer."""
    engine = table._meta.db
    if isinstance(engine, SQLiteEngine):
        return
    if engine.current_transaction.get() is None:
        raise RuntimeError("lock_where() outside a transaction: call it inside `async with atomic()`")
    await table.raw(f'SELECT "id" FROM "{table._meta.tablename}" WHERE {condition} FOR UPDATE', *values)


@asynccontextmanager
async def serialised(table: type[Table], row_id: int) -> AsyncIterator[bool]:
    """``async with serialised(Customer, customer_id):`` one transaction that no other ``serialised`` block on the
    same row runs alongside. Yields whether the row exists."""
    async with atomic():
        yield await lock_for_update(table, row_id)
