"""What locks an account, and how staff lift it: the lock time on the account and every guessing-limit
counter kept per account (login ID, second factor, current password, 合言葉)."""

from __future__ import annotations

from dataclasses import dataclass

from mypage.identity.accounts import AccountRepository
from mypage.identity.attempts import AttemptLimit
from mypage.identity.login import locked_minutes_left, login_id_limit
from mypage.identity.reauth import current_password_limit
from mypage.identity.recovery_question import answer_limit
from mypage.identity.tables import Account
from mypage.identity.totp import second_factor_limit
from mypage.tenancy.registry import Tenant


def _limits(tenant: Tenant, account: Account) -> list[tuple[AttemptLimit, str]]:
    """Each counter that can hold the account back, with the subject it counts the account under."""
    by_account = str(account.id)
    return [
        (login_id_limit(tenant), account.login_id),
        (second_factor_limit(tenant), by_account),
        (current_password_limit(tenant), by_account),
        (answer_limit(tenant), by_account),
    ]


@dataclass(frozen=True)
class LockState:
    minutes_left: int
    """Minutes until the account's lock ends (0: not locked)."""
    failures: dict[str, int]
    """Counted failures per limit (scope) within its window."""

    @property
    def locked(self) -> bool:
        return self.minutes_left > 0


async def lock_state(tenant: Tenant, account: Account) -> LockState:
    failures = {limit.scope: await limit.failures(subject) for limit, subject in _limits(tenant, account)}
    minutes = locked_minutes_left(account)
    if not minutes and failures.get("login.id", 0) >= tenant.config.identity.lockout.max_failures:
        minutes = await login_id_limit(tenant).minutes_left(account.login_id)
    return LockState(minutes, {scope: count for scope, count in failures.items() if count})


async def unlock(tenant: Tenant, account: Account) -> None:
    """Lifts the lock and forgets the counted failures (staff, after checking who is asking)."""
    for limit, subject in _limits(tenant, account):
        await limit.clear(subject)
    if account.locked_until is not None:
        await AccountRepository(tenant).update(account, locked_until=None)
