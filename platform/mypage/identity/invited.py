"""Accounts created for someone else (ユーザ管理) on tenants whose login IDs are not issued.

The administrator gives the member's e-mail address (and, with ``login_id.kind = "chosen"``, proposes a
login ID checked against the tenant's rules and availability; with ``"email"`` the address is the ID). The
account is ``pending`` with no usable password; a link (valid ``identity.tokens.registration_link_minutes``)
is mailed to the address. ``/welcome/<token>`` lets the member set a password by the tenant's policy, which
activates the account and confirms the address, then leads to the login page — the same ending as
registration's. Until then the account cannot log in (``issued.refuse_pending_login``).
"""

from __future__ import annotations

import secrets

from litestar import Request, Response, get, post
from litestar.params import FromPath

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.issued import link_validity, tokens_for
from mypage.identity.passwords import hash_password_async
from mypage.identity.policy import check_password
from mypage.identity.recovery_support import reset_changes
from mypage.identity.tables import Account
from mypage.identity.tokens import TokenError
from mypage.mail.outbox import enqueue
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, render, tenant_of

PURPOSE = "invited_first_login"
PREFIX = "/welcome"


async def create_invited_account(
    portal,
    tenant: Tenant,
    *,
    login_id: str,
    customer_id: int,
    email: str,
    display_name: str = "",
    role: str = "general",
    mail_notify: bool = True,
) -> Account:
    """Creates a ``pending`` account with ``login_id`` and mails the password-setting link; raises
    ``LoginIdTaken``. Call it inside the caller's transaction (account, token and mail together)."""
    unusable = await hash_password_async(secrets.token_urlsafe(32))  # never told to anyone: no login before the link
    account = await AccountRepository(tenant).create(
        login_id=login_id,
        customer=customer_id,
        email=normalize.email(email),
        display_name=display_name,
        role=role,
        mail_notify=mail_notify,
        status="pending",
        password_hash=unusable,
    )
    minutes = tenant.config.identity.tokens.registration_link_minutes
    issued = await tokens_for(portal, tenant).issue(
        PURPOSE,
        minutes=minutes,
        account_id=account.id,
        payload={"account_id": account.id},
        subject=f"account:{account.id}",
        throttle=False,
    )
    amount, unit = link_validity(minutes)
    await enqueue(
        portal,
        tenant,
        to=account.email,
        template="member_invitation",
        context={
            "url": f"{portal.base_url(tenant)}{PREFIX}/{issued.secret}",
            "login_id": account.login_id_display or account.login_id,
            "display_name": display_name,
            "valid_amount": amount,
            "valid_unit": unit,
        },
    )
    await AuditLog(tenant.slug).record("account.invited", account_id=account.id, customer_id=customer_id, role=role)
    return account


async def _account_for(request: Request, tenant: Tenant, token: str) -> Account:
    payload = await tokens_for(portal_of(request), tenant).peek(PURPOSE, token)
    account = await AccountRepository(tenant).by_id(payload.get("account_id"))
    if account is None or account.status != "pending":
        raise TokenError("used" if account is not None else "invalid")
    return account


def _invalid(request: Request, reason: str) -> Response:
    return render(
        request, "identity/welcome_invalid.html", status_code=410 if reason in ("expired", "used") else 400, reason=reason
    )


def _password_page(request: Request, token: str, *, errors=None, status_code: int = 200) -> Response:
    return render(
        request,
        "identity/first_login_password.html",
        status_code=status_code,
        errors=errors or {},
        action=f"{PREFIX}/{token}",
    )


@get(f"{PREFIX}/{{token:str}}")
async def welcome_page(request: Request, token: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    try:
        await _account_for(request, tenant, token)
    except TokenError as exc:
        return _invalid(request, exc.reason)
    return _password_page(request, token)


@post(f"{PREFIX}/{{token:str}}")
async def welcome_submit(request: Request, token: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    try:
        account = await _account_for(request, tenant, token)
    except TokenError as exc:
        return _invalid(request, exc.reason)
    form = await request.form()
    password = str(form.get("password") or "")[:200]
    confirm = str(form.get("password_confirm") or "")[:200]
    problems = check_password(password, tenant.config.identity.password)
    if problems:
        return _password_page(request, token, errors={"password": problems}, status_code=400)
    if password != confirm:
        errors = {"password_confirm": _("パスワードが一致しません。もう一度入力してください。")}
        return _password_page(request, token, errors=errors, status_code=400)
    changes = await reset_changes(tenant, account, password)
    try:
        async with atomic():
            await tokens_for(portal_of(request), tenant).consume(PURPOSE, token)
            await AccountRepository(tenant).update(account, status="active", **changes)
            await AuditLog(tenant.slug).record("account.first_password", account_id=account.id, address=client_address(request))
    except TokenError as exc:
        return _invalid(request, exc.reason)
    return render(request, "identity/first_login_done.html", access_id=account.login_id_display or account.login_id)


ROUTES = [welcome_page, welcome_submit]
