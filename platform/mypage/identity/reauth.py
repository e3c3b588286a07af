"""The current password asked again before a change (ID, password, e-mail, second factor), with its limit.

Wrong current passwords are counted per account (:mod:`mypage.identity.attempts`), before the compare, so
a stolen session cannot be used to guess the password in parallel.
"""

from __future__ import annotations

from enum import Enum

from mypage.audit.log import AuditLog
from mypage.i18n import gettext as _
from mypage.identity.attempts import AttemptLimit
from mypage.identity.passwords import verify_password_async
from mypage.identity.tables import Account
from mypage.tenancy.registry import Tenant


class Reauth(Enum):
    OK = "ok"
    WRONG = "wrong"
    EXHAUSTED = "exhausted"
    """This wrong try used up the limit."""
    BLOCKED = "blocked"
    """No try left: the password was not compared."""


def blocked_message(tenant: Tenant) -> str:
    """What to say when no try is left (:attr:`Reauth.BLOCKED`)."""
    return _(
        "現在のパスワードの入力に続けて失敗したため、一時的に変更できません。{minutes}分ほど時間をおいてからお試しください。"
    ).format(minutes=tenant.config.identity.lockout.lock_minutes)


def current_password_limit(tenant: Tenant) -> AttemptLimit:
    return AttemptLimit.in_lock_window(tenant, "account.current_password")


async def check_current_password(tenant: Tenant, account: Account, password: str, address: str) -> Reauth:
    limit = current_password_limit(tenant)
    claim = await limit.claim(str(account.id))
    if not claim.allowed:
        return Reauth.BLOCKED
    if await verify_password_async(account.password_hash, password):
        await limit.clear(str(account.id))
        return Reauth.OK
    await AuditLog(tenant.slug).record("account.password_check_failed", account_id=account.id, address=address)
    return Reauth.EXHAUSTED if claim.is_last(limit.limit) else Reauth.WRONG
