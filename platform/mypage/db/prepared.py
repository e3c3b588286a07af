"""Hot-path queries whose SQL is built once, then run with new values.

Building a Piccolo query (columns, joins, aliases, nested ``QueryString`` trees) costs far more CPU than
SQLite or PostgreSQL take to answer the small indexed queries of a logged-in page: the account with its
customer was ~2 ms of query building per request. :class:`PreparedSelect` builds the query once per
database kind with marker values in place of the parameters, keeps the compiled SQL, and runs it through the
engine's ordinary ``run_querystring`` (transactions, the SQLite write queue and the pool behave as for any
query); the rows go through the prototype query's own result processing (nested output, JSON).

Only the values passed to :meth:`PreparedSelect.run` change between runs: keep the tenant among them.
On the embedded database a prepared select runs on the event loop's thread (see
``EmbeddedSQLiteEngine.read_inline``): keep them small, bounded reads over an index.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from piccolo.query.methods.select import M2MSelect, Select
from piccolo.utils.dictionary import make_nested


def reads_are_round_trips(table: Any) -> bool:
    """Whether each query on ``table``'s database is a round trip to a server (PostgreSQL), not a read on the event
    loop (the embedded SQLite): where a page's reads are worth gathering into one statement. Such a round trip
    costs the worker and the server more CPU than the rows a page reads (``docs/performance.md``)."""
    return table._meta.db.engine_type in ("postgres", "cockroach")


@functools.cache
def _column_names(table: Any) -> frozenset[str]:
    return frozenset(column._meta.name for column in table._meta.columns)


def stored_object(table: Any, row: dict) -> Any:
    """``table(**row, _exists_in_db=True)`` for a row read from the database.

    For a row holding every column, what ``Table.__init__`` would leave (the columns are descriptors over the
    instance's ``__dict__``) without its walk over every column for defaults: a fifth of a contract page's CPU.
    """
    if row.keys() != _column_names(table):
        return table(**row, _exists_in_db=True)
    instance = object.__new__(table)
    instance.__dict__.update(row, _exists_in_db=True, _was_created=None)
    return instance


class _Compiled:
    """What an engine's ``run_querystring`` reads of a ``QueryString``, already compiled."""

    __slots__ = ("args", "sql", "table")
    query_type = "select"

    def __init__(self, sql: str, args: list[Any], table: Any) -> None:
        self.sql, self.args, self.table = sql, args, table

    def compile_string(self, engine_type: str = "postgres") -> tuple[str, list[Any]]:
        return self.sql, self.args

    def __str__(self) -> str:  # what the engines print with ``log_queries``
        return f"{self.sql} {self.args!r}"


async def _read(db: Any, sql: str, args: list[Any], table: Any) -> Any:
    """The rows of a prepared read: inline on the embedded database when it can, on PostgreSQL's read lane when
    it can (``db/postgres.py``), else through the engine (its transaction, its pool)."""
    read_inline = getattr(db, "read_inline", None)
    if read_inline is not None:
        results = read_inline(sql, args)
    else:
        read_prepared = getattr(db, "read_prepared", None)
        results = await read_prepared(sql, args) if read_prepared is not None else None
    return results if results is not None else await db.run_querystring(_Compiled(sql, args, table))


class _Plan:
    __slots__ = ("constants", "nested", "plain", "prototype", "slots", "sql")

    def __init__(self, prototype: Select, sql: str, slots: list[int | None], constants: list[Any]) -> None:
        self.prototype, self.sql, self.slots, self.constants = prototype, sql, slots, constants
        output = prototype.output_delegate._output
        selected = prototype.columns_delegate.selected_columns
        # What Piccolo's result processing does for this query's shape, decided once: for plain columns (no
        # JSON to load, no objects, no many-to-many) it is the engine's rows as dicts, nested on request.
        self.plain = not (
            output.load_json
            or output.as_objects
            or any(isinstance(column, M2MSelect) for column in selected)
            or hasattr(prototype, "_raw_response_callback")
        )
        self.nested = output.nested and bool(selected)


class PreparedSelect:
    """``build(*params)`` returns a Piccolo ``Select`` on ``table``; :meth:`run` runs it with new values."""

    def __init__(self, table: Any, build: Callable[..., Select], arity: int) -> None:
        self.table = table
        self.build = build
        self.arity = arity
        self._plans: dict[str, _Plan] = {}

    def _plan(self, engine_type: str) -> _Plan:
        plan = self._plans.get(engine_type)
        if plan is None:
            markers = [f"\x00mypage-prepared-{n}\x00" for n in range(self.arity)]
            prototype = self.build(*markers)
            if not isinstance(prototype, Select):
                raise TypeError("build a plain Select (use .limit(1) and PreparedSelect.first() for one row)")
            (querystring,) = prototype.querystrings
            sql, args = querystring.compile_string(engine_type=engine_type)
            index = {marker: n for n, marker in enumerate(markers)}
            slots = [index.get(arg) if isinstance(arg, str) else None for arg in args]
            if {s for s in slots if s is not None} != set(range(self.arity)):
                raise ValueError(f"a parameter is missing from the query: {sql}")
            plan = self._plans[engine_type] = _Plan(prototype, sql, slots, list(args))
        return plan

    async def run(self, *values: Any) -> Any:
        if len(values) != self.arity:
            raise TypeError(f"expected {self.arity} values, got {len(values)}")
        db = self.table._meta.db
        plan = self._plan(db.engine_type)
        args = [constant if slot is None else values[slot] for slot, constant in zip(plan.slots, plan.constants, strict=True)]
        results = await _read(db, plan.sql, args, self.table)
        if plan.plain:
            rows = db.transform_response_to_dicts(results) if results else []
            return [make_nested(row) for row in rows] if plan.nested else rows
        # The prototype's own processing (JSON, objects): it reads only the query's shape.
        return await plan.prototype._process_results(results)

    async def objects(self, *values: Any) -> list[Any]:
        """The rows as table objects, as ``Table.objects()`` gives them (build ``table.select()`` of every column)."""
        table = self.table
        return [stored_object(table, row) for row in await self.run(*values)]

    async def first(self, *values: Any) -> Any:
        """The first row, or None (build the query with ``.limit(1)``)."""
        rows = await self.run(*values)
        return rows[0] if rows else None


def _nest_once(row: dict) -> dict:
    """``make_nested`` for names with at most one dot, without its sort."""
    nested: dict = {}
    for name, value in row.items():
        group, dot, column = name.partition(".")
        if dot:
            inner = nested.get(group)
            if inner is None:
                inner = nested[group] = {}
            inner[column] = value
        else:
            nested[name] = value
    return nested


class PreparedSQL:
    """A hot-path read Piccolo cannot build (a join on a column that is not a foreign key), written once in
    PostgreSQL's notation (``$1``, ``$2``…; SQLite reads the same numbered parameters as ``?1``, ``?2``…) and run
    like a :class:`PreparedSelect`: inline on the embedded database, rows as dicts, nested on ``.`` in the column
    names, one level (``"account.id"`` → ``{"account": {"id": …}}``). Values come out as Piccolo's selects give them.
    """

    def __init__(self, table: Any, sql: str) -> None:
        self.table = table
        self._sql = {"postgres": sql, "cockroach": sql, "sqlite": re.sub(r"\$(\d+)", r"?\1", sql)}

    @property
    def postgres_sql(self) -> str:
        """The statement as written (PostgreSQL's notation)."""
        return self._sql["postgres"]

    async def run(self, *values: Any) -> list[dict]:
        db = self.table._meta.db
        results = await _read(db, self._sql[db.engine_type], list(values), self.table)
        return [_nest_once(row) for row in db.transform_response_to_dicts(results)] if results else []

    async def first(self, *values: Any) -> dict | None:
        rows = await self.run(*values)
        return rows[0] if rows else None
