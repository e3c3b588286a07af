"""Login factors after the password: the emailed one-time password (with the captcha on the same
screen when ``captcha.placement`` is ``email_otp``) and the captcha step. See :mod:`mypage.identity.factors`.

- ``GET /login/email_otp`` mails a 6-digit code (valid ``identity.tokens.login_otp_minutes``) to the
  account's address, once per pending login, and shows the form;
- ``POST /login/email_otp`` checks the captcha (if any) and the code; a code allows at most
  ``identity.tokens.max_attempts`` wrong tries, then the login starts over;
- ``POST /login/email_otp/resend`` (再送信) sends a new code, throttled by ``resend_interval_seconds``;
- ``/login/captcha``: the captcha alone (``captcha.placement = "step"``);
- ``/login/email_forgotten``: 「登録済みメールアドレスをお忘れの方」 — whom to contact.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from litestar import Request, Response, get, post

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity import captcha, normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.factors import pending, step_passed
from mypage.identity.issued import tokens_for
from mypage.identity.recovery_support import contact_address
from mypage.identity.tables import Account, OneTimeToken
from mypage.identity.tokens import TokenError
from mypage.mail.outbox import enqueue
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of

PURPOSE = "login_otp"
CODE_LENGTH = 6


def mask_email(address: str) -> str:
    """``taro.yamada@example.jp`` → ``ta***@example.jp``."""
    local, sep, domain = (address or "").rpartition("@")
    if not sep:
        return "***"
    return (local[:2] if len(local) > 2 else local[:1]) + "***@" + domain


async def _live_code_recent(tenant: Tenant, account: Account) -> bool:
    """Whether an unused, unexpired code was mailed within the re-send interval (no need to send again)."""
    interval = tenant.config.identity.tokens.resend_interval_seconds
    now = datetime.now(UTC)
    return (
        await OneTimeToken.count()
        .where(OneTimeToken.tenant == tenant.slug)
        .where(OneTimeToken.purpose == PURPOSE)
        .where(OneTimeToken.subject == str(account.id))
        .where(OneTimeToken.used_at.is_null())
        .where(OneTimeToken.attempts < tenant.config.identity.tokens.max_attempts)
        .where(OneTimeToken.expires_at > now)
        .where(OneTimeToken.created_at > now - timedelta(seconds=interval))
        > 0
    )


async def send_code(request: Request, tenant: Tenant, account: Account, *, throttle: bool) -> None:
    """Mails a new one-time password; raises ``TokenError("throttled")`` when re-sent too soon."""
    portal = portal_of(request)
    tokens = tokens_for(portal, tenant)
    minutes = tenant.config.identity.tokens.login_otp_minutes
    async with atomic():
        code = await tokens.issue_code(
            PURPOSE, minutes=minutes, account_id=account.id, subject=str(account.id), throttle=throttle, length=CODE_LENGTH
        )
        await enqueue(
            portal, tenant, to=contact_address(account), template="login_otp", context={"code": code, "minutes": minutes}
        )
        await AuditLog(tenant.slug).record(
            "login.otp_sent", account_id=account.id, address=client_address(request), resend=throttle
        )


async def _pending_account(request: Request, step: str) -> tuple[dict, Account] | None:
    data = pending(request, step)
    if data is None:
        return None
    account = await AccountRepository(tenant_of(request)).by_id(data.get("account_id"))
    if account is None or account.status == "disabled":
        session_of(request).pop("pending_login")
        return None
    return data, account


def _start_over(request: Request, message: str | None = None) -> Response:
    session = session_of(request)
    session.pop("pending_login")
    session.flash(message or _("もう一度ログインしてください。"), "warning")
    return redirect("/login")


def _needs_captcha(tenant: Tenant) -> bool:
    return tenant.config.identity.captcha_placement() == "email_otp"


def _otp_page(
    request: Request, account: Account, *, status_code: int = 200, errors=None, form_error=None, notice=None
) -> Response:
    tenant = tenant_of(request)
    return render(
        request,
        "identity/otp_email.html",
        status_code=status_code,
        errors=errors or {},
        form_error=form_error,
        notice=notice,
        masked_email=mask_email(contact_address(account)),
        minutes=tenant.config.identity.tokens.login_otp_minutes,
        captcha=captcha.widget_context(request) if _needs_captcha(tenant) else None,
    )


@get("/login/email_otp")
async def email_otp_page(request: Request) -> Response:
    tenant = tenant_of(request)
    pending_login = await _pending_account(request, "email_otp")
    if pending_login is None:
        return redirect("/login")
    data, account = pending_login
    if not data.get("otp_sent"):
        if not await _live_code_recent(tenant, account):
            await send_code(request, tenant, account, throttle=False)
        session_of(request)["pending_login"] = {**data, "otp_sent": int(datetime.now(UTC).timestamp())}
    return _otp_page(request, account)


@post("/login/email_otp")
async def email_otp_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    pending_login = await _pending_account(request, "email_otp")
    if pending_login is None:
        return _start_over(request)
    account = pending_login[1]
    form = await request.form()
    code = normalize.digits_only(form.get("otp") or "")
    errors: dict[str, str] = {}
    if not code:
        errors["otp"] = _("入力してください。")
    elif not re.fullmatch(rf"\d{{{CODE_LENGTH}}}", code):
        errors["otp"] = _("ワンタイムパスワードは{n}桁の半角数字で入力してください。").format(n=CODE_LENGTH)
    if _needs_captcha(tenant):
        result = await captcha.check(request, form)
        if not result.ok:
            errors["captcha"] = captcha.error_message(result)
    if errors:
        return _otp_page(request, account, status_code=400, errors=errors)
    audit = AuditLog(tenant.slug)
    address = client_address(request)
    tokens = tokens_for(portal_of(request), tenant)
    try:
        await tokens.verify_code(PURPOSE, str(account.id), code)
    except TokenError as exc:
        await audit.record("login.otp_failed", account_id=account.id, address=address, reason=exc.reason)
        if exc.reason == "too_many_attempts":
            await tokens.revoke(PURPOSE, str(account.id))
            await audit.record("login.otp_locked", account_id=account.id, address=address)
            return _start_over(
                request,
                _("ワンタイムパスワードの入力に続けて失敗したため、ログインを中止しました。もう一度ログインしてください。"),
            )
        if exc.reason == "used":  # ended by a parallel try (or a finished login): this code is gone
            return _start_over(request)
        if exc.reason == "expired":
            message = _(
                "ワンタイムパスワードの有効期限が切れています。「再送信」ボタンを押して、新しいワンタイムパスワードを受け取ってください。"
            )
        else:
            message = _("ワンタイムパスワードが正しくありません。")
        return _otp_page(request, account, status_code=400, errors={"otp": message})
    await audit.record("login.otp_ok", account_id=account.id, address=address)
    return await step_passed(request, tenant, account, "email_otp")


@post("/login/email_otp/resend")
async def email_otp_resend(request: Request) -> Response:
    tenant = tenant_of(request)
    pending_login = await _pending_account(request, "email_otp")
    if pending_login is None:
        return _start_over(request)
    data, account = pending_login
    try:
        await send_code(request, tenant, account, throttle=True)
    except TokenError:
        await AuditLog(tenant.slug).record("login.otp_resend_throttled", account_id=account.id, address=client_address(request))
        seconds = tenant.config.identity.tokens.resend_interval_seconds
        return _otp_page(
            request,
            account,
            status_code=429,
            form_error=_(
                "ワンタイムパスワードを送信したばかりです。再送信は{seconds}秒ほど時間をおいてからお試しください。"
            ).format(seconds=seconds),
        )
    session_of(request)["pending_login"] = {**data, "otp_sent": int(datetime.now(UTC).timestamp())}
    session_of(request).flash(_("ワンタイムパスワードを再送信しました。"), "info")
    return redirect("/login/email_otp")


def _captcha_page(request: Request, *, status_code: int = 200, errors=None) -> Response:
    return render(
        request,
        "identity/captcha_login.html",
        status_code=status_code,
        errors=errors or {},
        captcha=captcha.widget_context(request),
    )


@get("/login/captcha")
async def captcha_page(request: Request) -> Response:
    pending_login = await _pending_account(request, "captcha")
    if pending_login is None:
        return redirect("/login")
    return _captcha_page(request)


@post("/login/captcha")
async def captcha_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    pending_login = await _pending_account(request, "captcha")
    if pending_login is None:
        return _start_over(request)
    account = pending_login[1]
    form = await request.form()
    result = await captcha.check(request, form)
    if not result.ok:
        return _captcha_page(request, status_code=400, errors={"captcha": captcha.error_message(result)})
    await AuditLog(tenant.slug).record("login.captcha_ok", account_id=account.id, address=client_address(request))
    return await step_passed(request, tenant, account, "captcha")


@get("/login/email_forgotten")
async def email_forgotten(request: Request) -> Response:
    return render(request, "identity/otp_email_forgotten.html")


ROUTES = [email_otp_page, email_otp_submit, email_otp_resend, captcha_page, captcha_submit, email_forgotten, *captcha.ROUTES]
