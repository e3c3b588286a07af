"""Writes security events and staff actions to the audit log of one tenant."""

from __future__ import annotations

from mypage.audit.tables import AuditEvent


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
