"""Password verification with lockout per login ID and per client address, audited.

Tries are counted before the password is compared (:mod:`mypage.identity.attempts`), for every login ID
typed, whether an account has it or not: an unknown ID is answered like a known one, in content (the
same lock after the same number of failures) and in time (a dummy hash is verified).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.identity.accounts import AccountRepository
from mypage.identity.attempts import AttemptLimit
from mypage.identity.passwords import hash_password_async, needs_rehash, verify_password_async
from mypage.identity.tables import Account
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
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def login_id_limit(tenant: Tenant) -> AttemptLimit:
    return AttemptLimit.in_lock_window(tenant, "login.id")


def address_limit(tenant: Tenant) -> AttemptLimit:
    return AttemptLimit.in_lock_window(tenant, "login.address", tenant.config.identity.lockout.per_address_max_failures)


def locked_minutes_left(account: Account) -> int:
    locked_until = _aware(account.locked_until)
    now = datetime.now(UTC)
    if locked_until is None or locked_until <= now:
        return 0
    return max(1, int((locked_until - now).total_seconds() // 60) + 1)


class PasswordLogin:
    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.accounts = AccountRepository(tenant)
        self.audit = AuditLog(tenant.slug)
        self.policy = tenant.config.identity.lockout
        self.by_id = login_id_limit(tenant)
        self.by_address = address_limit(tenant)

    async def authenticate(self, typed_id: str, password: str, address: str) -> LoginResult:
        login_id = self.accounts.key(typed_id)
        logged_id = login_id[:100]
        address_claim = await self.by_address.claim(address)
        if not address_claim.allowed:
            await verify_password_async(None, password)
            await self.audit.record("login.address_limited", address=address, login_id=logged_id)
            return LoginResult(None, "address_limited", self.policy.lock_minutes)
        account = await self.accounts.by_login_id(typed_id) if login_id else None
        id_claim = await self.by_id.claim(login_id)
        held = locked_minutes_left(account) if account else 0
        if held or not id_claim.allowed:
            await self.by_id.release(id_claim)
            await verify_password_async(None, password)
            await self.audit.record(
                "login.locked", account_id=account.id if account else None, address=address, login_id=logged_id
            )
            return LoginResult(None, "locked", held or await self.by_id.minutes_left(login_id))
        verified = await verify_password_async(account.password_hash if account else None, password)
        if account is None or not verified:
            return await self._failure(account, login_id, address, id_claim.is_last(self.policy.max_failures))
        if account.status == "disabled":
            await self.audit.record("login.disabled", account_id=account.id, address=address)
            return LoginResult(None, "disabled")
        changes: dict = {"locked_until": None} if account.locked_until else {}
        if needs_rehash(account.password_hash):
            changes["password_hash"] = await hash_password_async(password)
        async with atomic():  # the bookkeeping of a good password in one commit
            await self.by_id.clear(login_id)
            await self.by_address.release(address_claim)
            if changes:
                await self.accounts.update(account, keep_sessions=True, **changes)
            await self.audit.record("login.password_ok", account_id=account.id, address=address)
        return LoginResult(account)

    async def _failure(self, account: Account | None, login_id: str, address: str, locks: bool) -> LoginResult:
        if account is None:
            await self.audit.record("login.failure", address=address, login_id=login_id[:100], reason="unknown_id")
        else:
            await self.audit.record("login.failure", account_id=account.id, address=address)
        if not locks:
            return LoginResult(None, "invalid")
        if account is not None:
            until = datetime.now(UTC) + timedelta(minutes=self.policy.lock_minutes)
            await self.accounts.update(account, locked_until=until)
            await self.audit.record("account.locked", account_id=account.id, address=address)
        return LoginResult(None, "locked", self.policy.lock_minutes)

    async def complete(self, account: Account, address: str) -> None:
        async with atomic():
            await self.accounts.update(account, last_login_at=datetime.now(UTC))
            await self.audit.record("login.success", account_id=account.id, address=address)
