"""Limits on guessing: every try at a limited secret is counted *before* the secret is compared.

Each subject (a login ID, an address, an account, a customer record) has one counter row. A try is
claimed with one conditional ``UPDATE … SET failures = failures + 1 WHERE failures < limit … RETURNING``:
concurrent claims queue on the row (PostgreSQL re-checks the condition after the row lock; SQLite has one
writer), so of any number of parallel tries exactly ``limit`` are allowed and the rest are refused
without being compared. A successful try is released (it was no failure) or clears the count (a correct
password starts over). The count is forgotten once a whole window has passed since the last counted
failure, so a lock lasts ``window_minutes`` after the failure that reached the limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from piccolo.columns.combination import Combinable

from mypage.identity.tables import AttemptCounter
from mypage.tenancy.registry import Tenant

_TABLE = AttemptCounter._meta.tablename

_CLAIM = f"""
UPDATE {_TABLE}
   SET failures = CASE WHEN last_at < {{}} THEN 1 ELSE failures + 1 END, last_at = {{}}
 WHERE tenant = {{}} AND scope = {{}} AND subject = {{}} AND (failures < {{}} OR last_at < {{}})
RETURNING failures
"""


@dataclass(frozen=True)
class Claim:
    allowed: bool
    count: int = 0
    """Failures counted so far, this try included (when allowed)."""
    subject: str = ""

    def is_last(self, limit: int) -> bool:
        """This allowed try used up the limit: if it fails, the subject is locked."""
        return self.allowed and self.count >= limit


async def purge_stale(now: float | None = None) -> None:
    """Deletes the counters that no window can still need (older than the longest lock the schema allows)."""
    oldest = int((now or time.time()) - MAX_WINDOW_SECONDS)
    await AttemptCounter.delete().where(AttemptCounter.last_at < oldest)


MAX_WINDOW_SECONDS = 24 * 60 * 60
"""The longest window: ``lockout.lock_minutes`` is at most a day."""


class AttemptLimit:
    def __init__(self, tenant: str, scope: str, *, limit: int, window_minutes: int):
        self.tenant = tenant
        self.scope = scope
        self.limit = limit
        self.window = window_minutes * 60

    @classmethod
    def in_lock_window(cls, tenant: Tenant, scope: str, limit: int | None = None) -> AttemptLimit:
        """``limit`` tries (default ``lockout.max_failures``) per ``lockout.lock_minutes``, the tenant's lock window."""
        lockout = tenant.config.identity.lockout
        return cls(
            tenant.slug, scope, limit=lockout.max_failures if limit is None else limit, window_minutes=lockout.lock_minutes
        )

    def _where(self, subject: str) -> Combinable:
        return (
            (AttemptCounter.tenant == self.tenant)
            & (AttemptCounter.scope == self.scope)
            & (AttemptCounter.subject == subject[:254])
        )

    async def claim(self, subject: str) -> Claim:
        subject = subject[:254]
        counted = await self._count_one(subject)
        if not counted:  # no row yet for this subject (or no try left): make sure the row exists, then once more
            await AttemptCounter.insert(AttemptCounter(tenant=self.tenant, scope=self.scope, subject=subject)).on_conflict(
                action="DO NOTHING"
            )
            counted = await self._count_one(subject)
        if counted:
            return Claim(True, counted[0]["failures"], subject)
        return Claim(False, self.limit, subject)

    async def _count_one(self, subject: str) -> list[dict]:
        now = int(time.time())
        expired = now - self.window
        return await AttemptCounter.raw(_CLAIM, expired, now, self.tenant, self.scope, subject, self.limit, expired)

    async def release(self, claim: Claim) -> None:
        """The try succeeded: it does not count as a failure."""
        if claim.allowed:
            await AttemptCounter.update({AttemptCounter.failures: AttemptCounter.failures - 1}).where(
                self._where(claim.subject) & (AttemptCounter.failures > 0)
            )

    async def clear(self, subject: str) -> None:
        """Forget the subject's failures (a correct password, a reset, staff unlocking). The row stays: the
        subject's next try is then one statement."""
        await AttemptCounter.update({AttemptCounter.failures: 0}).where(self._where(subject) & (AttemptCounter.failures > 0))

    async def failures(self, subject: str) -> int:
        """Failures counted for the subject within the current window (0 once a whole window has passed)."""
        row = await AttemptCounter.select(AttemptCounter.failures, AttemptCounter.last_at).where(self._where(subject)).first()
        if row is None or row["last_at"] < time.time() - self.window:
            return 0
        return row["failures"]

    async def minutes_left(self, subject: str) -> int:
        """Whole minutes until the subject may try again (at least 1)."""
        row = await AttemptCounter.select(AttemptCounter.last_at).where(self._where(subject)).first()
        if row is None:
            return 1
        return max(1, math.ceil((row["last_at"] + self.window - time.time()) / 60))
