"""Base classes for tables.

Every tenant-owned table derives from :class:`TenantOwned`: a non-null indexed ``tenant`` column,
and ``UNIQUE_TOGETHER`` column sets that always start with ``tenant`` (made unique indexes by the
migrations, which work on SQLite and PostgreSQL alike). Tables that are not tenant-owned derive from
:class:`GlobalTable` and so appear on an explicit list.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


def utcnow() -> datetime:
    return datetime.now(UTC)


class TenantOwned(Table):
    if TYPE_CHECKING:  # Piccolo adds the primary key ``id`` when it builds the class: declared for the type checker
        id: Any

    tenant = Varchar(length=40, index=True, null=False, required=True)
    created_at = Timestamptz(default=TimestamptzNow())

    UNIQUE_TOGETHER: ClassVar[tuple[tuple[str, ...], ...]] = ()
    INDEX_TOGETHER: ClassVar[tuple[tuple[str, ...], ...]] = ()
    """Composite (non-unique) indexes, e.g. for keyset pagination; made by the migrations like UNIQUE_TOGETHER."""


class GlobalTable(Table):
    """A table that is deliberately not tenant-owned (sessions, migration bookkeeping)."""

    if TYPE_CHECKING:
        id: Any

    UNIQUE_TOGETHER: ClassVar[tuple[tuple[str, ...], ...]] = ()
