"""Queries of the platform console's tables: platform staff and audit (global) and the per-tenant controls."""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column

from mypage.db.base import utcnow
from mypage.db.locks import lock_where
from mypage.platformconsole.tables import PlatformAudit, PlatformRecoveryCode, PlatformStaff, TenantControl


class PlatformStaffRepository:
    async def by_id(self, staff_id: Any) -> PlatformStaff | None:
        if not isinstance(staff_id, int):
            return None
        return await PlatformStaff.objects().where(PlatformStaff.id == staff_id).first()

    async def by_email(self, email: str) -> PlatformStaff | None:
        return await PlatformStaff.objects().where(PlatformStaff.email == email).first()

    async def listing(self) -> list[PlatformStaff]:
        return await PlatformStaff.objects().order_by(PlatformStaff.id)

    async def lock_active(self) -> None:
        """Inside ``atomic()``: holds every active member's row until the transaction ends."""
        await lock_where(PlatformStaff, "status = 'active'")

    async def count_active(self) -> int:
        return await PlatformStaff.count().where(PlatformStaff.status == "active")

    async def set_status(self, staff: PlatformStaff, status: str) -> None:
        """A new status; ``credentials_version`` goes up, so no session opened before comes back with it."""
        updated = await (
            PlatformStaff.update(
                {PlatformStaff.status: status, PlatformStaff.credentials_version: PlatformStaff.credentials_version + 1}
            )
            .where(PlatformStaff.id == staff.id)
            .returning(PlatformStaff.credentials_version)
        )
        staff.status = status
        staff.credentials_version = updated[0]["credentials_version"]

    async def by_invite(self, invite_hash: str) -> PlatformStaff | None:
        if not invite_hash:
            return None
        return await PlatformStaff.objects().where(PlatformStaff.invite_hash == invite_hash).first()

    async def create(self, **values: Any) -> PlatformStaff:
        staff = PlatformStaff(**values)
        await staff.save()
        return staff

    async def update(self, staff: PlatformStaff, **values: Any) -> None:
        for key, value in values.items():
            setattr(staff, key, value)
        changes: dict[Column | str, Any] = {key: value for key, value in values.items()}
        await PlatformStaff.update(changes).where(PlatformStaff.id == staff.id)

    async def activate(self, staff: PlatformStaff, **values: Any) -> bool:
        """Sets the credentials of an invited member and ends the invitation, if it is still open (once)."""
        values = {**values, "status": "active", "invite_hash": "", "invite_expires": None}
        changes: dict[Column | str, Any] = {key: value for key, value in values.items()}
        changes[PlatformStaff.credentials_version] = PlatformStaff.credentials_version + 1
        updated = await (
            PlatformStaff.update(changes)
            .where(PlatformStaff.id == staff.id)
            .where(PlatformStaff.status == "invited")
            .where(PlatformStaff.invite_hash == staff.invite_hash)
            .returning(PlatformStaff.credentials_version)
        )
        if not updated:
            return False
        for key, value in values.items():
            setattr(staff, key, value)
        staff.credentials_version = updated[0]["credentials_version"]
        return True

    async def take_step(self, staff: PlatformStaff, step: int) -> bool:
        """Records ``step`` as used when it is newer than the last one (atomically: a replay gets False)."""
        updated = await (
            PlatformStaff.update({PlatformStaff.totp_last_step: step})
            .where(PlatformStaff.id == staff.id)
            .where(PlatformStaff.totp_last_step < step)
            .returning(PlatformStaff.id)
        )
        return bool(updated)

    async def replace_recovery_codes(self, staff_id: int, hashes: list[str]) -> None:
        await PlatformRecoveryCode.delete().where(PlatformRecoveryCode.staff == staff_id)
        await PlatformRecoveryCode.insert(*[PlatformRecoveryCode(staff=staff_id, code_hash=h) for h in hashes])

    async def use_recovery_code(self, staff_id: int, code_hash: str) -> bool:
        """Marks the code used; of parallel uses of one code exactly one gets True (conditional UPDATE)."""
        updated = await (
            PlatformRecoveryCode.update({PlatformRecoveryCode.used_at: utcnow()})
            .where(PlatformRecoveryCode.staff == staff_id)
            .where(PlatformRecoveryCode.code_hash == code_hash)
            .where(PlatformRecoveryCode.used_at.is_null())
            .returning(PlatformRecoveryCode.id)
        )
        return bool(updated)

    async def remaining_recovery_codes(self, staff_id: int) -> int:
        return await (
            PlatformRecoveryCode.count()
            .where(PlatformRecoveryCode.staff == staff_id)
            .where(PlatformRecoveryCode.used_at.is_null())
        )


async def record_platform(
    event: str, *, staff_id: int | None, actor: str = "", tenant: str = "", address: str = "", **detail: Any
) -> None:
    await PlatformAudit.insert(
        PlatformAudit(
            event=event, staff_id=staff_id, actor=actor[:120], target_tenant=tenant[:40], address=address[:64], detail=detail
        )
    )


async def recent_platform_events(limit: int = 100) -> list[dict]:
    return await PlatformAudit.select().order_by(PlatformAudit.id, ascending=False).limit(limit)


class TenantControlRepository:
    """One tenant's control row (tenant-scoped like every tenant-owned table)."""

    def __init__(self, tenant: str):
        self.tenant = tenant

    async def get(self) -> dict | None:
        return await TenantControl.select().where(TenantControl.tenant == self.tenant).first()

    async def upsert(self, **values: Any) -> None:
        row = TenantControl(tenant=self.tenant, **values)
        columns = [getattr(TenantControl, key) for key in values]
        await TenantControl.insert(row).on_conflict(target=TenantControl.tenant, action="DO UPDATE", values=columns)


async def controls_of(tenants: list[str]) -> dict[str, dict]:
    """The control rows of these tenants (one query)."""
    if not tenants:
        return {}
    rows = await TenantControl.select().where(TenantControl.tenant.is_in(tenants))
    return {row["tenant"]: row for row in rows}


async def suspended_tenants() -> frozenset[str]:
    rows = await TenantControl.select(TenantControl.tenant).where(TenantControl.suspended == True)  # noqa: E712
    return frozenset(row["tenant"] for row in rows)
