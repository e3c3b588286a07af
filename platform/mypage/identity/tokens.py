"""Single-use link tokens and emailed codes.

Only a keyed hash (HMAC-SHA256 with the secret key and the tenant) is stored. A token expires, counts
wrong tries (at most ``max_attempts``), is consumed once, and a new one for the same purpose and
subject is refused until the tenant's re-send interval has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mypage.identity.tables import OneTimeToken


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class TokenError(Exception):
    """``expired``, ``used``, ``invalid``, ``too_many_attempts`` or ``throttled``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Issued:
    secret: str
    row_id: int


class Tokens:
    def __init__(self, tenant: str, secret_key: str, max_attempts: int = 5, resend_interval_seconds: int = 60):
        self.tenant = tenant
        self._key = f"{secret_key}:{tenant}".encode()
        self.max_attempts = max_attempts
        self.resend_interval = timedelta(seconds=resend_interval_seconds)

    def digest(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()

    def code_digest(self, purpose: str, subject: str, code: str) -> str:
        """Short typed codes collide across accounts, so their hash also covers purpose and subject."""
        return self.digest(f"{purpose}\x00{subject}\x00{code}")

    @staticmethod
    def new_link_secret() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def new_code(length: int = 6) -> str:
        return "".join(secrets.choice(string.digits) for _ in range(length))

    async def issue(
        self,
        purpose: str,
        *,
        minutes: int,
        account_id: int | None = None,
        payload: dict | None = None,
        secret: str | None = None,
        subject: str = "",
        throttle: bool = True,
        code: bool = False,
    ) -> Issued:
        """Stores a new token; earlier unused tokens of the same purpose and subject are revoked.

        ``subject`` identifies who the token is for (an account id or an address) for throttling.
        """
        subject = subject or (str(account_id) if account_id is not None else "")
        if throttle and subject and self.resend_interval:
            recent = await (
                OneTimeToken.count()
                .where(OneTimeToken.tenant == self.tenant)
                .where(OneTimeToken.purpose == purpose)
                .where(OneTimeToken.subject == subject)
                .where(OneTimeToken.created_at > _now() - self.resend_interval)
            )
            if recent:
                raise TokenError("throttled")
        await self.revoke(purpose, subject)
        secret = secret or self.new_link_secret()
        token_hash = self.code_digest(purpose, subject, secret) if code else self.digest(secret)
        row = OneTimeToken(
            tenant=self.tenant,
            account=account_id,
            purpose=purpose,
            subject=subject,
            token_hash=token_hash,
            payload=dict(payload or {}),
            expires_at=_now() + timedelta(minutes=minutes),
        )
        await row.save()
        return Issued(secret=secret, row_id=row.id)

    async def issue_code(
        self,
        purpose: str,
        *,
        minutes: int,
        subject: str,
        account_id: int | None = None,
        payload: dict | None = None,
        throttle: bool = True,
        length: int = 6,
    ) -> str:
        """Stores a new numeric code for ``subject`` (checked by :meth:`verify_code`) and returns it."""
        code = self.new_code(length)
        await self.issue(
            purpose,
            minutes=minutes,
            account_id=account_id,
            payload=payload,
            secret=code,
            subject=subject,
            throttle=throttle,
            code=True,
        )
        return code

    async def revoke(self, purpose: str, subject: str) -> None:
        if not subject:
            return
        await (
            OneTimeToken.update({OneTimeToken.used_at: _now()})
            .where(OneTimeToken.tenant == self.tenant)
            .where(OneTimeToken.purpose == purpose)
            .where(OneTimeToken.subject == subject)
            .where(OneTimeToken.used_at.is_null())
        )

    async def peek(self, purpose: str, secret: str) -> dict:
        """The payload of a valid link token, without consuming it."""
        row = await self._find(purpose, secret)
        return self._check(row)["payload"] or {}

    async def consume(self, purpose: str, secret: str) -> dict:
        """Validates and marks the link token used; returns its payload (with ``account_id``)."""
        row = self._check(await self._find(purpose, secret))
        return await self._mark_used(row)

    async def verify_code(self, purpose: str, subject: str, code: str) -> dict:
        """Checks an emailed code for ``subject``; wrong tries are counted, the code is single use."""
        latest = await (
            OneTimeToken.select()
            .where(OneTimeToken.tenant == self.tenant)
            .where(OneTimeToken.purpose == purpose)
            .where(OneTimeToken.subject == subject)
            .order_by(OneTimeToken.id, ascending=False)
            .first()
            .output(load_json=True)
        )
        row = self._check(latest)
        attempts = await self.count_attempt(row)
        if not hmac.compare_digest(row["token_hash"], self.code_digest(purpose, subject, code.strip())):
            raise TokenError("too_many_attempts" if attempts >= self.max_attempts else "invalid")
        return await self._mark_used(row)

    async def count_attempt(self, row: dict) -> int:
        """Counts one try at the token *before* it is compared, in one statement, so that of any number of
        concurrent tries at most ``max_attempts`` are ever compared. Returns the tries so far; raises
        ``too_many_attempts`` (or ``used``) when no try is left."""
        counted = await (
            OneTimeToken.update({OneTimeToken.attempts: OneTimeToken.attempts + 1})
            .where(OneTimeToken.id == row["id"])
            .where(OneTimeToken.used_at.is_null())
            .where(OneTimeToken.attempts < self.max_attempts)
            .returning(OneTimeToken.attempts)
        )
        if counted:
            return counted[0]["attempts"]
        now = await OneTimeToken.select(OneTimeToken.used_at, OneTimeToken.attempts).where(OneTimeToken.id == row["id"]).first()
        if now is not None and now["used_at"] is not None and now["attempts"] < self.max_attempts:
            raise TokenError("used")
        raise TokenError("too_many_attempts")

    @staticmethod
    async def _mark_used(row: dict) -> dict:
        """Marks the token used, once (of two concurrent uses one gets ``used``); returns its payload with ``account_id``."""
        updated = await (
            OneTimeToken.update({OneTimeToken.used_at: _now()})
            .where(OneTimeToken.id == row["id"])
            .where(OneTimeToken.used_at.is_null())
            .returning(OneTimeToken.id)
        )
        if not updated:
            raise TokenError("used")
        return {**(row["payload"] or {}), "account_id": row["account"]}

    async def _find(self, purpose: str, secret: str) -> dict | None:
        if not secret or len(secret) > 200:
            return None
        return await (
            OneTimeToken.select()
            .where(OneTimeToken.tenant == self.tenant)
            .where(OneTimeToken.purpose == purpose)
            .where(OneTimeToken.token_hash == self.digest(secret))
            .first()
            .output(load_json=True)
        )

    @staticmethod
    def _check(row: dict | None) -> dict:
        if row is None:
            raise TokenError("invalid")
        if row["used_at"] is not None:
            raise TokenError("used")
        if _aware(row["expires_at"]) < _now():
            raise TokenError("expired")
        return row
