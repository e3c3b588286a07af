"""「IDまたはパスワードをお忘れの方」 by e-mail link (``"email_link"`` in ``identity.recovery.methods``).

``/forgot/email``: the customer enters the registered e-mail address; the answer is always the same
(no account enumeration). If accounts use that address, one mail lists their login IDs, each with a
password reset link (single use, ``identity.tokens.password_reset_minutes``). The link leads to a new
password (tenant policy), a notice mail and the login page.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.policy import check_email, check_password
from mypage.identity.recovery_support import mail_account_changed, reset_changes
from mypage.identity.tokens import TokenError, Tokens
from mypage.mail.outbox import enqueue
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of

PREFIX = "/forgot/email"
PURPOSE = "password_reset_link"


def _tenant(request: Request) -> Tenant:
    tenant = tenant_of(request)
    if "email_link" not in tenant.config.identity.recovery.methods:
        raise NotFoundException()
    return tenant


def _tokens(request: Request, tenant: Tenant) -> Tokens:
    lifetimes = tenant.config.identity.tokens
    return Tokens(tenant.slug, portal_of(request).settings.secret_key, lifetimes.max_attempts, lifetimes.resend_interval_seconds)


def _minutes_text(minutes: int) -> str:
    if minutes % 60 == 0:
        return _("{n}時間").format(n=minutes // 60)
    return _("{n}分").format(n=minutes)


@get(PREFIX)
async def forgot_page(request: Request) -> Response:
    _tenant(request)
    return render(request, "identity/forgot_request.html", values={}, errors={}, action=PREFIX)


@post(PREFIX)
async def forgot_submit(request: Request) -> Response:
    tenant = _tenant(request)
    form = await request.form()
    email = normalize.email(str(form.get("email") or ""))[:254]
    problems = check_email(email)
    if problems:
        return render(
            request,
            "identity/forgot_request.html",
            status_code=400,
            values={"email": email},
            errors={"email": problems},
            action=PREFIX,
        )
    repo = AccountRepository(tenant)
    accounts = [a for a in await repo.by_email(email) if a.status != "disabled"]
    audit = AuditLog(tenant.slug)
    if accounts:
        tokens = _tokens(request, tenant)
        minutes = tenant.config.identity.tokens.password_reset_minutes
        portal = portal_of(request)
        base = portal.base_url(tenant)
        items = []
        async with atomic():
            for account in accounts:
                try:
                    issued = await tokens.issue(PURPOSE, minutes=minutes, account_id=account.id, subject=f"account:{account.id}")
                except TokenError:
                    continue  # a link was sent moments ago; the same answer is shown
                items.append(
                    {
                        "login_id": account.login_id_display or account.login_id,
                        "url": f"{base}{PREFIX}/reset?token={issued.secret}",
                    }
                )
            if items:
                await enqueue(
                    portal,
                    tenant,
                    to=email,
                    template="forgot_link",
                    context={"items": items, "validity": _minutes_text(minutes)},
                )
            await audit.record(
                "recovery.link_requested", address=client_address(request), accounts=[a.id for a in accounts], sent=bool(items)
            )
    else:
        await audit.record("recovery.link_unknown_address", address=client_address(request))
    session_of(request)["forgot_email_sent"] = email
    return redirect(f"{PREFIX}/sent")


@get(f"{PREFIX}/sent")
async def forgot_sent(request: Request) -> Response:
    tenant = _tenant(request)
    email = session_of(request).get("forgot_email_sent")
    if not email:
        return redirect(PREFIX)
    return render(
        request,
        "identity/forgot_sent.html",
        email=email,
        validity=_minutes_text(tenant.config.identity.tokens.password_reset_minutes),
    )


def _render_invalid(request: Request, reason: str) -> Response:
    return render(
        request, "identity/forgot_invalid.html", status_code=410 if reason in ("expired", "used") else 400, reason=reason
    )


def _render_reset(request: Request, token: str, login_id: str, *, errors=None, status_code=200) -> Response:
    return render(
        request,
        "identity/forgot_reset.html",
        status_code=status_code,
        token=token,
        login_id=login_id,
        errors=errors or {},
        action=f"{PREFIX}/reset",
    )


async def _account_for(request: Request, tenant: Tenant, token: str):
    tokens = _tokens(request, tenant)
    await tokens.peek(PURPOSE, token)
    from mypage.identity.tables import OneTimeToken

    row = await (
        OneTimeToken.select(OneTimeToken.account)
        .where(OneTimeToken.tenant == tenant.slug)
        .where(OneTimeToken.token_hash == tokens.digest(token))
        .first()
    )
    account = await AccountRepository(tenant).by_id(row["account"] if row else None)
    if account is None or account.status == "disabled":
        raise TokenError("invalid")
    return account


@get(f"{PREFIX}/reset")
async def reset_page(request: Request) -> Response:
    tenant = _tenant(request)
    token = request.query_params.get("token") or ""
    try:
        account = await _account_for(request, tenant, token)
    except TokenError as exc:
        return _render_invalid(request, exc.reason)
    return _render_reset(request, token, account.login_id_display or account.login_id)


@post(f"{PREFIX}/reset")
async def reset_submit(request: Request) -> Response:
    tenant = _tenant(request)
    form = await request.form()
    token = str(form.get("token") or "")
    password = str(form.get("password") or "")[:200]
    confirm = str(form.get("password_confirm") or "")[:200]
    try:
        account = await _account_for(request, tenant, token)
    except TokenError as exc:
        return _render_invalid(request, exc.reason)
    errors: dict = {}
    problems = check_password(password, tenant.config.identity.password)
    if problems:
        errors["password"] = problems
    elif password != confirm:
        errors["password_confirm"] = _("パスワードが一致しません。もう一度入力してください。")
    if errors:
        return _render_reset(request, token, account.login_id_display or account.login_id, errors=errors, status_code=400)
    repo = AccountRepository(tenant)
    tokens = _tokens(request, tenant)
    changes = await reset_changes(tenant, account, password)
    try:
        async with atomic():
            await tokens.consume(PURPOSE, token)
            await repo.update(account, **changes)
            await mail_account_changed(portal_of(request), tenant, account, [_("パスワード")], [account.email])
            await AuditLog(tenant.slug).record(
                "password.reset", account_id=account.id, address=client_address(request), via="email_link"
            )
    except TokenError as exc:
        return _render_invalid(request, exc.reason)
    return render(request, "identity/forgot_done.html")


ROUTES = [forgot_page, forgot_submit, forgot_sent, reset_page, reset_submit]
