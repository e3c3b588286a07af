"""Password verification with lockout per account and per client address, audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from mypage.audit.log import AuditLog
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password, needs_rehash, verify_password
from mypage.identity.tables import Account, LoginFailure
from mypage.tenancy.registry import Tenant


@dataclass
class LoginResult:
    account: Account | None
    error: str | None = None
    """``invalid``, ``locked``, ``address_limited`` or ``disabled``."""
    locked_minutes: int = 0


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class PasswordLogin:
    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.accounts = AccountRepository(tenant)
        self.audit = AuditLog(tenant.slug)
        self.policy = tenant.config.identity.lockout

    async def _address_failures(self, address: str) -> int:
        since = datetime.now(timezone.utc) - timedelta(minutes=self.policy.lock_minutes)
        return await (
            LoginFailure.count()
            .where(LoginFailure.tenant == self.tenant.slug)
            .where(LoginFailure.address == address)
            .where(LoginFailure.created_at > since)
        )

    async def authenticate(self, login_id: str, password: str, address: str) -> LoginResult:
        now = datetime.now(timezone.utc)
        if await self._address_failures(address) >= self.policy.per_address_max_failures:
            await self.audit.record("login.address_limited", address=address, login_id=login_id[:100])
            return LoginResult(None, "address_limited", self.policy.lock_minutes)
        account = await self.accounts.by_login_id(login_id) if login_id else None
        locked_until = _aware(account.locked_until) if account else None
        if account and locked_until and locked_until > now:
            verify_password(None, password)
            await self.audit.record("login.locked", account_id=account.id, address=address)
            minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
            return LoginResult(None, "locked", minutes)
        if account is None or not verify_password(account.password_hash, password):
            await LoginFailure.insert(LoginFailure(tenant=self.tenant.slug, address=address, login_id=login_id[:254]))
            if account is None:
                await self.audit.record("login.failure", address=address, login_id=login_id[:100], reason="unknown_id")
                return LoginResult(None, "invalid")
            failures = account.failed_logins + 1
            changes: dict = {"failed_logins": failures}
            if failures >= self.policy.max_failures:
                changes = {"failed_logins": 0, "locked_until": now + timedelta(minutes=self.policy.lock_minutes)}
            await self.accounts.update(account, **changes)
            await self.audit.record("login.failure", account_id=account.id, address=address, failures=failures)
            if "locked_until" in changes:
                await self.audit.record("account.locked", account_id=account.id, address=address)
                return LoginResult(None, "locked", self.policy.lock_minutes)
            return LoginResult(None, "invalid")
        if account.status == "disabled":
            await self.audit.record("login.disabled", account_id=account.id, address=address)
            return LoginResult(None, "disabled")
        changes = {"failed_logins": 0, "locked_until": None}
        if needs_rehash(account.password_hash):
            changes["password_hash"] = hash_password(password)
        await self.accounts.update(account, **changes)
        await self.audit.record("login.password_ok", account_id=account.id, address=address)
        return LoginResult(account)

    async def complete(self, account: Account, address: str) -> None:
        await self.accounts.update(account, last_login_at=datetime.now(timezone.utc))
        await self.audit.record("login.success", account_id=account.id, address=address)
