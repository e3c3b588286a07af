"""Staff login, one implementation for the tenant console's staff and the platform console's staff.

Password, then a second factor: a 6-digit authenticator code (each time step accepted once) or a
single-use recovery code. Every try is counted *before* it is compared (:mod:`mypage.identity.attempts`):
per client address and per e-mail address typed at the password step, per member at the second step;
the try that uses up the limit locks the member (``locked_until``). What differs between the two kinds of
staff is given, not asked: where the members and their recovery codes are (a :class:`StaffStore`), the
``tenant`` value and scope prefix of the attempt counters and the limits (a :class:`Lockout`), and how an
event is written to which audit log (a :class:`Recorder`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

from mypage.db.base import utcnow
from mypage.db.transaction import atomic
from mypage.identity import normalize
from mypage.identity.attempts import AttemptLimit
from mypage.identity.passwords import verify_password_async
from mypage.identity.totp import clean_code, matching_step, new_recovery_codes

RECOVERY_MIN, RECOVERY_MAX = 6, 20


class StaffEvent(StrEnum):
    """What happened; each console maps it to the name of its own audit event."""

    ADDRESS_LIMITED = "address_limited"
    REFUSED_LOCKED = "refused_locked"
    FAILURE = "failure"
    PASSWORD_OK = "password_ok"
    LOCKED = "locked"
    TOTP_BLOCKED = "totp_blocked"
    TOTP_FAILURE = "totp_failure"
    RECOVERY_CODE_USED = "recovery_code_used"
    SUCCESS = "success"
    RECOVERY_CODES_RENEWED = "recovery_codes_renewed"


class StaffStore(Protocol):
    """The member rows (with ``id``, ``status``, ``password_hash``, ``totp_secret``, ``locked_until``) and
    their recovery codes, within one scope (one tenant, or the platform)."""

    async def by_email(self, email: str) -> Any: ...

    async def update(self, staff: Any, **fields: Any) -> None: ...

    async def take_step(self, staff: Any, step: int) -> bool:
        """Marks the authenticator time step as used; False when it already was (a replay)."""
        ...

    async def replace_recovery_codes(self, staff_id: int, hashes: list[str]) -> None: ...

    async def use_recovery_code(self, staff_id: int, code_hash: str) -> bool: ...

    async def remaining_recovery_codes(self, staff_id: int) -> int: ...


class Recorder(Protocol):
    async def __call__(self, event: StaffEvent, staff: Any | None, address: str, **detail: Any) -> None: ...


@dataclass(frozen=True)
class Lockout:
    scope: str
    """The attempt counters' ``tenant`` value: the tenant's slug, or a scope no slug can be."""
    prefix: str
    """The counters' scope prefix (``staff``, ``platform``)."""
    max_failures: int
    per_address_max: int
    lock_minutes: int

    def limit(self, name: str, limit: int | None = None) -> AttemptLimit:
        return AttemptLimit(
            self.scope,
            f"{self.prefix}.{name}",
            limit=self.max_failures if limit is None else limit,
            window_minutes=self.lock_minutes,
        )


class LoginError(StrEnum):
    INVALID = "invalid"
    LOCKED = "locked"
    ADDRESS_LIMITED = "address_limited"


@dataclass
class LoginOutcome:
    staff: Any | None
    error: LoginError | None = None
    minutes: int = 0
    remaining_codes: int | None = field(default=None)
    """Set when a recovery code was used: how many are left."""


def email_key(raw: str) -> str:
    return normalize.email(raw or "").lower()


def minutes_locked(staff: Any | None) -> int:
    """Whole minutes (rounded up) the member stays locked; 0 when not locked."""
    if staff is None or staff.locked_until is None:
        return 0
    until = staff.locked_until if staff.locked_until.tzinfo else staff.locked_until.replace(tzinfo=utcnow().tzinfo)
    left = (until - utcnow()).total_seconds()
    return max(1, int(left // 60) + 1) if left > 0 else 0


def recovery_hash(secret_key: str, scope: str, staff_id: int, code: str) -> str:
    """The keyed hash stored for a recovery code; ``scope`` (tenant slug or platform scope) keeps them apart."""
    message = f"{scope}:staff:{staff_id}:{clean_code(code)}".encode()
    return hmac.new(f"{secret_key}:staff-recovery".encode(), message, hashlib.sha256).hexdigest()


@dataclass
class StaffLogin:
    store: StaffStore
    lockout: Lockout
    record: Recorder
    secret_key: str

    async def _lock(self, staff: Any, address: str, reason: str) -> None:
        await self.store.update(staff, locked_until=utcnow() + timedelta(minutes=self.lockout.lock_minutes))
        await self.record(StaffEvent.LOCKED, staff, address, reason=reason)

    async def check_password(self, email: str, password: str, address: str) -> LoginOutcome:
        """The password step. Tries are counted before the comparison, per address and per e-mail address
        typed (known or not: an unknown address is answered alike, and as slowly)."""
        key = email_key(email)[:254]
        by_address = self.lockout.limit("address", self.lockout.per_address_max)
        by_login = self.lockout.limit("login")
        address_claim = await by_address.claim(address)
        if not address_claim.allowed:
            await verify_password_async(None, password)
            await self.record(StaffEvent.ADDRESS_LIMITED, None, address, email=key[:100])
            return LoginOutcome(None, LoginError.ADDRESS_LIMITED, self.lockout.lock_minutes)
        staff = await self.store.by_email(key)
        claim = await by_login.claim(key)
        held = minutes_locked(staff)
        if held or not claim.allowed:
            await by_login.release(claim)
            await verify_password_async(None, password)
            await self.record(StaffEvent.REFUSED_LOCKED, staff, address, email=key[:100])
            return LoginOutcome(None, LoginError.LOCKED, held or await by_login.minutes_left(key))
        usable = staff is not None and staff.status == "active"
        verified = await verify_password_async(staff.password_hash if usable else None, password)
        if not (usable and verified):
            await self.record(StaffEvent.FAILURE, staff, address, email=key[:100])
            if claim.is_last(by_login.limit):
                if staff is not None:
                    await self._lock(staff, address, "password")
                return LoginOutcome(None, LoginError.LOCKED, self.lockout.lock_minutes)
            return LoginOutcome(None, LoginError.INVALID)
        async with atomic():
            await by_login.clear(key)
            await by_address.release(address_claim)
            await self.record(StaffEvent.PASSWORD_OK, staff, address)
        return LoginOutcome(staff)

    async def _use_totp(self, staff: Any, code: str) -> bool:
        step = matching_step(staff.totp_secret, code)
        return step is not None and await self.store.take_step(staff, step)

    async def check_second_factor(self, staff: Any, raw_code: str, address: str) -> LoginOutcome:
        """A 6-digit authenticator code or a recovery code, counted per member before it is compared."""
        code = clean_code(raw_code)[:40]
        limit = self.lockout.limit("second_factor")
        claim = await limit.claim(str(staff.id))
        if not claim.allowed or minutes_locked(staff):
            await self.record(StaffEvent.TOTP_BLOCKED, staff, address)
            return LoginOutcome(None, LoginError.LOCKED, minutes_locked(staff) or self.lockout.lock_minutes)
        remaining = None
        if re.fullmatch(r"\d{6}", code):
            ok = await self._use_totp(staff, code)
        else:
            code_hash = recovery_hash(self.secret_key, self.lockout.scope, staff.id, code)
            ok = RECOVERY_MIN <= len(code) <= RECOVERY_MAX and await self.store.use_recovery_code(staff.id, code_hash)
            if ok:
                remaining = await self.store.remaining_recovery_codes(staff.id)
                await self.record(StaffEvent.RECOVERY_CODE_USED, staff, address, remaining=remaining)
        if ok:
            async with atomic():
                await limit.clear(str(staff.id))
                await self.store.update(staff, last_login_at=utcnow(), locked_until=None)
                await self.record(StaffEvent.SUCCESS, staff, address)
            return LoginOutcome(staff, remaining_codes=remaining)
        await self.record(StaffEvent.TOTP_FAILURE, staff, address)
        if claim.is_last(limit.limit):
            await self._lock(staff, address, "totp")
            return LoginOutcome(None, LoginError.LOCKED, self.lockout.lock_minutes)
        return LoginOutcome(None, LoginError.INVALID)

    async def store_recovery_codes(self, staff_id: int) -> list[str]:
        """New recovery codes replace the old ones (inside the caller's transaction); returned to be shown once."""
        codes = new_recovery_codes()
        hashes = [recovery_hash(self.secret_key, self.lockout.scope, staff_id, c) for c in codes]
        await self.store.replace_recovery_codes(staff_id, hashes)
        return codes

    async def renew_recovery_codes(self, staff: Any, address: str) -> list[str]:
        async with atomic():
            codes = await self.store_recovery_codes(staff.id)
            await self.record(StaffEvent.RECOVERY_CODES_RENEWED, staff, address)
        return codes
