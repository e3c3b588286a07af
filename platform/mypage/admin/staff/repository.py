"""The only code that queries staff accounts and their recovery codes; always within one tenant."""

from __future__ import annotations

from datetime import UTC, datetime

from mypage.admin.tables import StaffMember, StaffRecoveryCode
from mypage.db.errors import is_unique_violation
from mypage.db.locks import lock_where

CREDENTIALS = frozenset({"password_hash", "totp_secret", "role", "status"})
"""Fields whose change ends the staff member's other sessions."""


class EmailTaken(Exception):
    """Another staff member of the tenant has the address (the unique index decided)."""


class StaffRepository:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def _select(self):
        return StaffMember.objects().where(StaffMember.tenant == self.tenant)

    async def by_id(self, staff_id: int | None) -> StaffMember | None:
        if not isinstance(staff_id, int):
            return None
        return await self._select().where(StaffMember.id == staff_id).first()

    async def by_email(self, email: str) -> StaffMember | None:
        return await self._select().where(StaffMember.email == email).first()

    async def listing(self) -> list[StaffMember]:
        return await self._select().order_by(StaffMember.id)

    async def count_active_admins(self) -> int:
        return await (
            StaffMember.count()
            .where(StaffMember.tenant == self.tenant)
            .where(StaffMember.role == "admin")
            .where(StaffMember.status == "active")
        )

    async def lock_active_admins(self) -> None:
        """Inside ``atomic()``: holds the tenant's active 管理者 rows until the transaction ends."""
        await lock_where(StaffMember, "tenant = {} AND role = 'admin' AND status = 'active'", self.tenant)

    async def create(self, **fields) -> StaffMember:
        staff = StaffMember(tenant=self.tenant, **fields)
        try:
            await staff.save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise EmailTaken(fields.get("email", "")) from exc
            raise
        return staff

    async def update(self, staff: StaffMember, **fields) -> None:
        """Writes ``fields``; a change of :data:`CREDENTIALS` raises ``credentials_version`` (other sessions end)."""
        if staff.tenant != self.tenant:
            raise PermissionError("staff member of another tenant")
        for name, value in fields.items():
            setattr(staff, name, value)
        values = {getattr(StaffMember, k): v for k, v in fields.items()}
        if CREDENTIALS & fields.keys():
            values[StaffMember.credentials_version] = StaffMember.credentials_version + 1
        updated = await (
            StaffMember.update(values)
            .where(StaffMember.tenant == self.tenant)
            .where(StaffMember.id == staff.id)
            .returning(StaffMember.credentials_version)
        )
        if updated:
            staff.credentials_version = updated[0]["credentials_version"]

    async def replace_recovery_codes(self, staff_id: int, hashes: list[str]) -> None:
        await StaffRecoveryCode.delete().where(StaffRecoveryCode.tenant == self.tenant).where(StaffRecoveryCode.staff == staff_id)
        await StaffRecoveryCode.insert(*[StaffRecoveryCode(tenant=self.tenant, staff=staff_id, code_hash=h) for h in hashes])

    async def use_recovery_code(self, staff_id: int, code_hash: str) -> bool:
        updated = await (
            StaffRecoveryCode.update({StaffRecoveryCode.used_at: datetime.now(UTC)})
            .where(StaffRecoveryCode.tenant == self.tenant)
            .where(StaffRecoveryCode.staff == staff_id)
            .where(StaffRecoveryCode.code_hash == code_hash)
            .where(StaffRecoveryCode.used_at.is_null())
            .returning(StaffRecoveryCode.id)
        )
        return bool(updated)

    async def remaining_recovery_codes(self, staff_id: int) -> int:
        return await (
            StaffRecoveryCode.count()
            .where(StaffRecoveryCode.tenant == self.tenant)
            .where(StaffRecoveryCode.staff == staff_id)
            .where(StaffRecoveryCode.used_at.is_null())
        )
