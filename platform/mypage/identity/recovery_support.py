"""What the password-recovery flows, the registration pipeline and the account-change pages share:
the login-ID label, the contact address, lock state, generated passwords, the
account fields a password reset sets, and mailing a one-time code."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from litestar import Request

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import current_locale
from mypage.identity.issued import tokens_for
from mypage.identity.login import login_id_limit
from mypage.identity.passwords import hash_password_async
from mypage.identity.policy import check_password
from mypage.identity.tables import Account
from mypage.mail.outbox import enqueue
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of


def login_label(tenant: Tenant) -> str:
    return tenant.config.identity.login_id.label.get(current_locale())


def contact_address(account: Account) -> str:
    """連絡先メールアドレス; an account without one is reached at its login ID when that is an address."""
    if account.email:
        return account.email
    shown = account.login_id_display or account.login_id
    return shown if "@" in shown else ""


_POOLS = {
    "upper": "ABCDEFGHJKLMNPQRSTUVWXYZ",
    "lower": "abcdefghijkmnpqrstuvwxyz",
    "digit": "23456789",
    "symbol": "%+./:=@^_-!#$&*?",
}


def generate_password(tenant: Tenant, length: int = 10) -> str:
    """A random password that satisfies the tenant's password policy (easy to copy: no look-alikes)."""
    policy = tenant.config.identity.password
    allowed = re.compile(f"[{policy.allowed}]")
    pools = {k: "".join(c for c in v if allowed.fullmatch(c)) for k, v in _POOLS.items()}
    length = min(max(length, policy.min_length), policy.max_length)
    wanted = set(policy.required_classes) | set(policy.classes[: max(policy.min_classes, 0)]) | {"lower", "digit"}
    base = pools["lower"] + pools["digit"] + pools["upper"]
    rng = secrets.SystemRandom()
    for _attempt in range(200):
        chars = [rng.choice(pools[k]) for k in sorted(wanted) if pools[k]]
        chars += [rng.choice(base) for _ in range(length - len(chars))]
        rng.shuffle(chars)
        candidate = "".join(chars[:length])
        if not check_password(candidate, policy):
            return candidate
    raise RuntimeError("could not generate a password for the tenant policy")


async def reset_changes(tenant: Tenant, account: Account, password: str) -> dict:
    """The account fields a forgotten-password reset sets: the new password, and the account unlocked
    (its failed logins forgotten). Writing them ends the account's sessions."""
    await login_id_limit(tenant).clear(account.login_id)
    return {
        "password_hash": await hash_password_async(password),
        "password_changed_at": datetime.now(UTC),
        "locked_until": None,
        "must_change_password": False,
    }


async def mail_account_changed(
    portal, tenant: Tenant, account: Account, changes: list[str], to: list[str], *, login_id: str = ""
) -> None:
    """「登録情報変更のお知らせ」 (what changed, and what to do if it was not the customer) to each address of ``to``
    once; ``login_id`` when the mail should name another ID than the account's current one."""
    for address in dict.fromkeys(a for a in to if a):
        await enqueue(
            portal,
            tenant,
            to=address,
            template="account_changed",
            context={
                "name": account.nickname or account.display_name,
                "login_id": login_id or account.login_id_display or account.login_id,
                "changes": changes,
            },
        )


async def mail_code(
    request: Request,
    tenant: Tenant,
    account: Account,
    *,
    purpose: str,
    to: str,
    template: str,
    event: str,
    payload: dict | None = None,
) -> None:
    """Issues a code for ``purpose``, mails it to ``to`` and audits ``event``, in one transaction; raises
    ``TokenError("throttled")`` when a code was sent moments ago."""
    portal = portal_of(request)
    minutes = tenant.config.identity.tokens.email_code_minutes
    async with atomic():
        code = await tokens_for(portal, tenant).issue_code(
            purpose, minutes=minutes, account_id=account.id, subject=str(account.id), payload=payload
        )
        await enqueue(
            portal,
            tenant,
            to=to,
            template=template,
            context={"code": code, "minutes": minutes, "label": login_label(tenant)},
        )
        await AuditLog(tenant.slug).record(event, account_id=account.id, address=client_address(request))
