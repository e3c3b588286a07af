"""Issued credentials: the portal picks the login ID and a temporary password (仮パスワード).

Used by the registration pipeline for ``login_id.kind = "issued"`` and by member management (ユーザ管理): both create an
account in status ``pending`` that must replace its temporary password, and mail the access ID, the
temporary password and a first-login link (valid ``identity.tokens.registration_link_minutes``).
"""

from __future__ import annotations

import secrets

from mypage.audit.log import AuditLog
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password_async
from mypage.identity.tables import Account
from mypage.identity.tokens import Tokens
from mypage.tenancy.registry import Tenant

FIRST_LOGIN_PURPOSE = "issued_first_login"
FIRST_LOGIN_PREFIX = "/register/issued-id/login"
"""The first-login link is ``<base_url>/register/issued-id/login/<token>`` (see ``registration/first_login.py``)."""
TEMP_PASSWORD_LENGTH = 8

# Lower-case letters and digits without the look-alikes (0/o, 1/l/i) that are hard to copy from a mail.
LETTERS = "abcdefghjkmnpqrstuvwxyz"
DIGITS = "23456789"


def _mixed(length: int) -> str:
    """A random string of lower-case letters and digits containing at least one of each."""
    length = max(2, length)
    chars = [secrets.choice(LETTERS), secrets.choice(DIGITS)]
    chars += [secrets.choice(LETTERS + DIGITS) for _ in range(length - 2)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def new_access_id(tenant: Tenant) -> str:
    policy = tenant.config.identity.login_id
    length = min(max(policy.issued_length, policy.min_length), policy.max_length)
    return _mixed(length)


def new_temporary_password(tenant: Tenant) -> str:
    policy = tenant.config.identity.password
    length = min(max(TEMP_PASSWORD_LENGTH, policy.min_length), policy.max_length)
    return _mixed(length)


def tokens_for(portal, tenant: Tenant) -> Tokens:
    lifetimes = tenant.config.identity.tokens
    return Tokens(tenant.slug, portal.settings.secret_key, lifetimes.max_attempts, lifetimes.resend_interval_seconds)


def link_validity(minutes: int) -> tuple[int, str]:
    """``(10, "days")`` for 14400 minutes; hours or minutes when not a whole number of days."""
    if minutes % 1440 == 0:
        return minutes // 1440, "days"
    if minutes % 60 == 0:
        return minutes // 60, "hours"
    return minutes, "minutes"


async def unique_access_id(tenant: Tenant) -> str:
    repo = AccountRepository(tenant)
    for _ in range(50):
        candidate = new_access_id(tenant)
        if not await repo.login_id_taken(candidate):
            return candidate
    raise RuntimeError("could not find a free access ID")


async def send_first_login_link(portal, tenant: Tenant, account: Account, temporary_password: str) -> str:
    """Issues a first-login link for ``account`` and enqueues the credentials mail; returns the link."""
    minutes = tenant.config.identity.tokens.registration_link_minutes
    issued = await tokens_for(portal, tenant).issue(
        FIRST_LOGIN_PURPOSE,
        minutes=minutes,
        account_id=account.id,
        payload={"account_id": account.id},
        subject=f"account:{account.id}",
        throttle=False,
    )
    link = f"{portal.base_url(tenant)}{FIRST_LOGIN_PREFIX}/{issued.secret}"
    amount, unit = link_validity(minutes)
    from mypage.mail.outbox import enqueue

    await enqueue(
        portal,
        tenant,
        to=account.email,
        template="issued_credentials",
        context={
            "login_url": link,
            "access_id": account.login_id_display or account.login_id,
            "temporary_password": temporary_password,
            "valid_amount": amount,
            "valid_unit": unit,
            "display_name": account.display_name,
        },
    )
    return link


async def create_issued_account(
    portal,
    tenant: Tenant,
    *,
    customer_id: int,
    email: str,
    display_name: str = "",
    role: str = "admin",
    mail_notify: bool = True,
) -> tuple[Account, str]:
    """Creates a ``pending`` account with a generated login ID and 仮パスワード and mails them.

    Returns ``(account, temporary_password)``. Call it inside the caller's ``atomic()`` block: the
    account, the first-login token and the outbox mail are written together.
    """
    access_id = await unique_access_id(tenant)
    temporary_password = new_temporary_password(tenant)
    password_hash = await hash_password_async(temporary_password)
    account = await AccountRepository(tenant).create(
        login_id=access_id,
        customer=customer_id,
        email=normalize.email(email),
        display_name=display_name,
        role=role,
        mail_notify=mail_notify,
        status="pending",
        must_change_password=True,
        password_hash=password_hash,
    )
    await send_first_login_link(portal, tenant, account, temporary_password)
    await AuditLog(tenant.slug).record("account.issued", account_id=account.id, customer_id=customer_id, role=role)
    return account, temporary_password


async def reissue_first_login(portal, tenant: Tenant, account: Account) -> None:
    """A new 仮パスワード and first-login link mailed to a ``pending`` account (the first mail was lost or expired).

    Nobody but the mail's reader learns the temporary password. Call it inside the caller's ``atomic()`` block.
    """
    temporary_password = new_temporary_password(tenant)
    await AccountRepository(tenant).update(account, password_hash=await hash_password_async(temporary_password))
    await send_first_login_link(portal, tenant, account, temporary_password)


async def refuse_pending_login(request, account: Account) -> str | None:
    """The message for a login with issued credentials whose first login (mailed URL) is not done yet.

    A temporary password only works on the first-login pages, so the link's validity means something.
    """
    if account.status != "pending":
        return None
    from mypage.i18n import gettext as _
    from mypage.web.render import client_address, tenant_of

    tenant = tenant_of(request)
    await AuditLog(tenant.slug).record("login.pending_account", account_id=account.id, address=client_address(request))
    return _(
        "初回登録が完了していません。メールに記載のURLから初回登録（パスワード設定）を行ってください。"
        "URLの有効期間が過ぎた場合は、もう一度初回登録を行ってください。"
    )
