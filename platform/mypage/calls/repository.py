"""The only code that reads call records; always for one tenant and one contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from piccolo.query.functions.aggregate import Count, Sum

from mypage.records.tables import CallRecord
from mypage.tenancy.registry import Tenant

ROW_COLUMNS = (
    CallRecord.id,
    CallRecord.started_at,
    CallRecord.kind,
    CallRecord.caller,
    CallRecord.callee,
    CallRecord.duration_seconds,
    CallRecord.charge,
)


@dataclass(frozen=True)
class MonthTotals:
    count: int
    charge: int


class CallRepository:
    def __init__(self, tenant: Tenant, contract_id: int):
        self.slug = tenant.slug
        self.contract_id = contract_id

    def _where(self, query, month: str):
        return (
            query.where(CallRecord.tenant == self.slug)
            .where(CallRecord.contract == self.contract_id)
            .where(CallRecord.month == month)
        )

    async def totals(self, month: str) -> MonthTotals:
        row = await self._where(CallRecord.select(Count(), Sum(CallRecord.charge)), month).first()
        return MonthTotals(count=int(row.get("count") or 0), charge=int(row.get("sum") or 0))

    async def page(self, month: str, page: int, page_size: int) -> list[dict]:
        """One screen of a month, oldest first (offset paging: a screen is at most ``page_size`` rows)."""
        return await (
            self._where(CallRecord.select(*ROW_COLUMNS), month)
            .order_by(CallRecord.started_at)
            .order_by(CallRecord.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )

    async def months(self) -> list[str]:
        rows = await (
            CallRecord.select(CallRecord.month)
            .where(CallRecord.tenant == self.slug)
            .where(CallRecord.contract == self.contract_id)
            .distinct()
        )
        return sorted({r["month"] for r in rows}, reverse=True)

    async def iter_batches(self, month: str, batch_size: int = 1000) -> AsyncIterator[list[dict]]:
        """Every record of the month, oldest first, ``batch_size`` rows per query (keyset pagination:
        each query continues after the last (started_at, id) seen, so memory stays constant)."""
        last: tuple[datetime, int] | None = None
        while True:
            query = self._where(CallRecord.select(*ROW_COLUMNS), month)
            if last is not None:
                started_at, last_id = last
                # (started_at, id) > (last started_at, last id), written so the index on started_at
                # gives a range scan: started_at >= x AND (started_at > x OR id > y).
                query = query.where(CallRecord.started_at >= started_at).where(
                    (CallRecord.started_at > started_at) | (CallRecord.id > last_id)
                )
            rows = await query.order_by(CallRecord.started_at).order_by(CallRecord.id).limit(batch_size)
            if not rows:
                return
            yield rows
            if len(rows) < batch_size:
                return
            last = (rows[-1]["started_at"], rows[-1]["id"])
