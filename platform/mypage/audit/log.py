"""Writes security events and staff actions to the audit log of one tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mypage.audit.tables import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    """What the console's audit viewer asks for; empty fields do not filter."""

    staff_id: int | None = None
    event_prefix: str = ""
    """``admin.customer`` matches ``admin.customer.unlock`` …; an exact name matches itself."""
    customer_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    """Exclusive."""


class AuditLog:
    def __init__(self, tenant: str):
        self.tenant = tenant

    async def record(
        self,
        event: str,
        *,
        account_id: int | None = None,
        address: str = "",
        staff_id: int | None = None,
        actor: str = "",
        customer_id: int | None = None,
        before: dict | None = None,
        after: dict | None = None,
        **detail,
    ) -> None:
        await AuditEvent.insert(
            AuditEvent(
                tenant=self.tenant,
                event=event,
                account_id=account_id,
                address=address,
                detail=detail,
                staff_id=staff_id,
                actor=actor[:120],
                customer_id=customer_id,
                before=before or {},
                after=after or {},
            )
        )

    async def events(self, *, event: str | None = None, account_id: int | None = None, limit: int = 100) -> list[dict]:
        query = AuditEvent.select().where(AuditEvent.tenant == self.tenant)
        if event:
            query = query.where(AuditEvent.event == event)
        if account_id is not None:
            query = query.where(AuditEvent.account_id == account_id)
        return await query.order_by(AuditEvent.id, ascending=False).limit(limit)

    async def search(self, wanted: AuditFilter, *, before_id: int | None = None, limit: int = 100) -> list[dict]:
        """Entries matching ``wanted``, newest first; ``before_id`` pages on (keyset)."""
        query = AuditEvent.select().where(AuditEvent.tenant == self.tenant)
        if wanted.staff_id is not None:
            query = query.where(AuditEvent.staff_id == wanted.staff_id)
        if wanted.event_prefix:
            prefix = wanted.event_prefix.replace("%", "")
            query = query.where((AuditEvent.event == wanted.event_prefix) | AuditEvent.event.like(f"{prefix}.%"))
        if wanted.customer_id is not None:
            query = query.where(AuditEvent.customer_id == wanted.customer_id)
        if wanted.since is not None:
            query = query.where(AuditEvent.created_at >= wanted.since)
        if wanted.until is not None:
            query = query.where(AuditEvent.created_at < wanted.until)
        if before_id is not None:
            query = query.where(AuditEvent.id < before_id)
        return await query.order_by(AuditEvent.id, ascending=False).limit(limit).output(load_json=True)

    async def count(self, events: tuple[str, ...], since: datetime, until: datetime) -> int:
        """How many entries of these events were written in ``[since, until)``."""
        return await (
            AuditEvent.count()
            .where(AuditEvent.tenant == self.tenant)
            .where(AuditEvent.event.is_in(list(events)))
            .where(AuditEvent.created_at >= since)
            .where(AuditEvent.created_at < until)
        )
