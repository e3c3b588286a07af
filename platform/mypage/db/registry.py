"""Every table of the portal, found in the ``tables.py`` module of each feature folder.

A feature adds tables by defining them in its own ``tables.py``; they are ordered so that a table
comes after the tables its foreign keys point to.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from piccolo.columns import ForeignKey
from piccolo.table import Table

import mypage
from mypage.db.base import GlobalTable, TenantOwned

BASES = (Table, TenantOwned, GlobalTable)


def table_modules() -> list[str]:
    names = []
    for info in pkgutil.iter_modules(mypage.__path__):
        if info.ispkg:
            try:
                importlib.import_module(f"mypage.{info.name}.tables")
            except ModuleNotFoundError as exc:
                if exc.name != f"mypage.{info.name}.tables":
                    raise
                continue
            names.append(f"mypage.{info.name}.tables")
    return sorted(names)


@cache
def all_tables() -> tuple[type[Table], ...]:
    found: dict[str, type[Table]] = {}
    for module_name in table_modules():
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Table) and value not in BASES and value.__module__ == module_name:
                found[value._meta.tablename] = value
    ordered: list[type[Table]] = []
    visiting: set[str] = set()

    def visit(table: type[Table]) -> None:
        name = table._meta.tablename
        if table in ordered or name in visiting:
            return
        visiting.add(name)
        for column in table._meta.foreign_key_columns:
            assert isinstance(column, ForeignKey)
            target = column._foreign_key_meta.resolved_references
            if target._meta.tablename in found:
                visit(found[target._meta.tablename])
        ordered.append(table)

    for name in sorted(found):
        visit(found[name])
    return tuple(ordered)


def tenant_owned_tables() -> list[type[Table]]:
    return [t for t in all_tables() if issubclass(t, TenantOwned)]


def global_tables() -> list[type[Table]]:
    return [t for t in all_tables() if not issubclass(t, TenantOwned)]
