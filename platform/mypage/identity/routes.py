"""Login (password step) and logout. Further factors and the registration and recovery journeys
live in their own modules and are chosen by the tenant's ``identity`` config."""

from __future__ import annotations

from litestar import Request, Response, get, post

from mypage.i18n import gettext as _
from mypage.identity import captcha, factors
from mypage.identity.issued import refuse_pending_login
from mypage.identity.login import PasswordLogin
from mypage.identity.session_auth import end_session, load_account
from mypage.web.render import client_address, redirect, render, safe_next, session_of, tenant_of


def login_error_message(tenant, result) -> str:
    label = tenant.config.identity.login_id.label.get(session_locale())
    if result.error == "locked":
        return _(
            "ログインに続けて失敗したため、ログインを一時的に停止しています。{minutes}分後にもう一度お試しください。"
        ).format(minutes=result.locked_minutes)
    if result.error == "address_limited":
        return _("短時間に多くのログイン失敗がありました。{minutes}分ほど時間をおいてからお試しください。").format(
            minutes=result.locked_minutes
        )
    return _("{label}またはパスワードが正しくありません。").format(label=label)


def session_locale() -> str:
    from mypage.i18n import current_locale

    return current_locale()


def login_form(request: Request, *, status_code: int = 200, **context) -> Response:
    """The login page; with ``captcha.placement = "login"`` it carries the captcha."""
    on_form = tenant_of(request).config.identity.captcha_placement() == "login"
    return render(
        request,
        "identity/login.html",
        status_code=status_code,
        captcha=captcha.widget_context(request) if on_form else None,
        **{"errors": {}, "values": {}, **context},
    )


@get("/login")
async def login_page(request: Request) -> Response:
    next = request.query_params.get("next")
    if await load_account(request) is not None:
        return redirect(safe_next(next))
    session = session_of(request)
    notice = None
    forced = session.pop("forced_logout")
    if forced == "credentials":
        notice = _("ご登録情報(IDまたはパスワード等)が変更されたため、ログアウトしました。もう一度ログインしてください。")
    elif forced == "view_as":
        notice = _("お客様としての閲覧時間が終了しました。")
    elif forced == "absolute":
        notice = _("ログインから長時間が経過したため、ログアウトしました。もう一度ログインしてください。")
    elif forced:
        notice = _("{minutes}分間操作がなかったため、ログアウトしました。もう一度ログインしてください。").format(
            minutes=tenant_of(request).config.session.idle_timeout_minutes
        )
    return login_form(request, next=safe_next(next, ""), notice=notice)


@post("/login")
async def login_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    form = await request.form()
    login_id = (form.get("login_id") or "").strip()
    password = form.get("password") or ""
    next_path = safe_next(form.get("next"), "")
    errors = {}
    if not login_id:
        errors["login_id"] = _("入力してください。")
    if not password:
        errors["password"] = _("入力してください。")
    if tenant.config.identity.captcha_placement() == "login":
        checked = await captcha.check(request, form)
        if not checked.ok:
            errors["captcha"] = captcha.error_message(checked)
    if errors:
        return login_form(request, status_code=400, next=next_path, values={"login_id": login_id}, errors=errors)
    result = await PasswordLogin(tenant).authenticate(login_id, password, client_address(request))
    if result.account is None:
        return login_form(
            request,
            status_code=400 if result.error == "invalid" else 429,
            next=next_path,
            values={"login_id": login_id},
            form_error=login_error_message(tenant, result),
        )
    pending_message = await refuse_pending_login(request, result.account)
    if pending_message:
        return login_form(request, status_code=403, next=next_path, values={"login_id": login_id}, form_error=pending_message)
    return await factors.after_password(request, tenant, result.account, next_path)


@post("/logout")
async def logout(request: Request) -> Response:
    account = await load_account(request)
    if account is not None:
        from mypage.audit.log import AuditLog

        await AuditLog(tenant_of(request).slug).record("logout", account_id=account.id, address=client_address(request))
    end_session(request)
    session_of(request).flash(_("ログアウトしました。"), "info")
    return redirect("/login")


ROUTES = [login_page, login_submit, logout]

from mypage.identity.registration import all_routes as registration_routes  # noqa: E402

ROUTES += registration_routes()


from mypage.identity.account_routes import ROUTES as ACCOUNT_PROFILE_ROUTES  # noqa: E402
from mypage.identity.recovery_link import ROUTES as RECOVERY_LINK_ROUTES  # noqa: E402
from mypage.identity.totp import ROUTES as TOTP_ROUTES  # noqa: E402

ROUTES += ACCOUNT_PROFILE_ROUTES + RECOVERY_LINK_ROUTES + TOTP_ROUTES

from mypage.identity.otp import ROUTES as OTP_ROUTES  # noqa: E402

ROUTES += OTP_ROUTES

from mypage.identity import account_changes, recovery_code, recovery_lookup, recovery_question  # noqa: E402

ROUTES += [*recovery_question.ROUTES, *recovery_code.ROUTES, *account_changes.ROUTES]
ROUTES += recovery_lookup.ROUTES

from mypage.identity import invited  # noqa: E402

ROUTES += invited.ROUTES
