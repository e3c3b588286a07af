from __future__ import annotations

from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from mypage.db.base import GlobalTable


class TenantGeneration(GlobalTable, tablename="tenant_generation"):
    """One row per kind of tenant change (``folders``, ``overrides``): a new random ``token`` each time the
    change is announced. Every worker polls this small table and reloads when a token differs from the one
    it last applied (``mypage.tenancy.reload``)."""

    name = Varchar(length=40, unique=True)
    token = Varchar(length=64)
    changed_at = Timestamptz(default=TimestamptzNow())
