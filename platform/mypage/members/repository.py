"""The accounts of one customer (ユーザ管理); always within one tenant and one customer."""

from __future__ import annotations

from mypage.identity.accounts import AccountRepository
from mypage.identity.tables import Account
from mypage.tenancy.registry import Tenant

ADMIN_ROLES = ("owner", "admin")


class MemberRepository:
    def __init__(self, tenant: Tenant, customer_id: int):
        self.accounts = AccountRepository(tenant)
        self.slug = tenant.slug
        self.customer_id = customer_id

    async def all(self) -> list[Account]:
        return await self.accounts.by_customer(self.customer_id)

    async def get(self, member_id) -> Account | None:
        try:
            member_id = int(member_id)
        except (TypeError, ValueError):
            return None
        account = await self.accounts.by_id(member_id)
        if account is None or account.customer != self.customer_id:
            return None
        return account

    async def admins(self) -> list[Account]:
        """The active administrators: a pending account (temporary password not yet replaced) or a disabled one
        does not count towards "at least one administrator"."""
        return [a for a in await self.all() if a.role in ADMIN_ROLES and a.status == "active"]

    async def email_taken(self, email: str, *, except_id: int | None = None) -> bool:
        wanted = email.lower()
        return any(a.email.lower() == wanted and a.id != except_id for a in await self.all())

    async def count(self) -> int:
        return await Account.count().where(Account.tenant == self.slug).where(Account.customer == self.customer_id)

    async def update(self, account: Account, **fields) -> None:
        await self.accounts.update(account, **fields)

    async def delete(self, account: Account) -> None:
        if account.customer != self.customer_id:
            raise PermissionError("account of another customer")
        await self.accounts.delete(account)
