"""会員情報 (``/account/profile``): the logged-in customer changes nickname, e-mail address and password.

Changing the e-mail address or the password asks for the current password; every change is audited
and announced by mail (to the old address too when the address changes). Too many wrong current
passwords (counted per account) end the session.
"""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Request, Response, get, post

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password_async
from mypage.identity.policy import check_email, check_password
from mypage.identity.reauth import Reauth, check_current_password
from mypage.identity.recovery_support import mail_account_changed
from mypage.identity.session_auth import current_account, end_session, keep_session, login_required
from mypage.identity.tables import Account
from mypage.identity.totp import available as totp_available
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of

PATH = "/account/profile"
NICKNAME_MAX = 30


def _render(request: Request, account: Account, *, errors=None, values=None, status_code=200) -> Response:
    return render(
        request,
        "identity/account_profile.html",
        status_code=status_code,
        errors=errors or {},
        values=values or {},
        nickname_max=NICKNAME_MAX,
        security=totp_available(tenant_of(request)),
        me=account,
    )


async def _check_current_password(
    request: Request, tenant: Tenant, account: Account, current: str, field: str, values: dict | None = None
) -> Response | None:
    """``None`` when ``current`` is the account's password; else the answer (the session ends at the limit)."""
    outcome = await check_current_password(tenant, account, current, client_address(request))
    if outcome is Reauth.OK:
        return None
    if outcome is not Reauth.WRONG:
        await AuditLog(tenant.slug).record(
            "account.session_ended", account_id=account.id, address=client_address(request), reason="wrong_passwords"
        )
        end_session(request)
        session_of(request).flash(_("現在のパスワードの入力に続けて失敗したため、ログアウトしました。"), "warning")
        return redirect("/login")
    return _render(request, account, errors={field: _("現在のパスワードが正しくありません。")}, values=values, status_code=400)


@get(PATH, guards=[login_required])
async def profile_page(request: Request) -> Response:
    account = await current_account(request)
    return _render(request, account)


@post(f"{PATH}/nickname", guards=[login_required])
async def change_nickname(request: Request) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    form = await request.form()
    nickname = normalize.name(str(form.get("nickname") or "")).replace("\u3000", " ")[:100]
    if not nickname:
        return _render(
            request, account, errors={"nickname": _("入力してください。")}, values={"nickname": nickname}, status_code=400
        )
    if len(nickname) > NICKNAME_MAX:
        message = _("{n}文字以内で入力してください。").format(n=NICKNAME_MAX)
        return _render(request, account, errors={"nickname": message}, values={"nickname": nickname}, status_code=400)
    async with atomic():
        await AccountRepository(tenant).update(account, nickname=nickname)
        await AuditLog(tenant.slug).record("account.nickname_changed", account_id=account.id, address=client_address(request))
    session_of(request).flash(_("ニックネームを変更しました。"), "success")
    return redirect(PATH)


@post(f"{PATH}/email", guards=[login_required])
async def change_email(request: Request) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    form = await request.form()
    email = normalize.email(str(form.get("email") or ""))[:254]
    current = str(form.get("email_current_password") or "")[:200]
    values = {"email": email}
    errors: dict = {}
    problems = check_email(email)
    if problems:
        errors["email"] = problems
    if not current:
        errors["email_current_password"] = _("入力してください。")
    if errors:
        return _render(request, account, errors=errors, values=values, status_code=400)
    refusal = await _check_current_password(request, tenant, account, current, "email_current_password", values)
    if refusal:
        return refusal
    old = account.email
    async with atomic():
        await AccountRepository(tenant).update(account, email=email)
        await mail_account_changed(portal_of(request), tenant, account, [_("メールアドレス")], [old, email])
        await AuditLog(tenant.slug).record("account.email_changed", account_id=account.id, address=client_address(request))
    session_of(request).flash(_("メールアドレスを変更しました。"), "success")
    return redirect(PATH)


@post(f"{PATH}/password", guards=[login_required])
async def change_password(request: Request) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    form = await request.form()
    current = str(form.get("current_password") or "")[:200]
    new = str(form.get("new_password") or "")[:200]
    confirm = str(form.get("new_password_confirm") or "")[:200]
    errors: dict = {}
    if not current:
        errors["current_password"] = _("入力してください。")
    problems = check_password(new, tenant.config.identity.password)
    if problems:
        errors["new_password"] = problems
    elif new != confirm:
        errors["new_password_confirm"] = _("パスワードが一致しません。もう一度入力してください。")
    if errors:
        return _render(request, account, errors=errors, status_code=400)
    refusal = await _check_current_password(request, tenant, account, current, "current_password")
    if refusal:
        return refusal
    new_hash = await hash_password_async(new)
    async with atomic():
        await AccountRepository(tenant).update(
            account, password_hash=new_hash, password_changed_at=datetime.now(UTC), must_change_password=False
        )
        await mail_account_changed(portal_of(request), tenant, account, [_("パスワード")], [account.email])
        await AuditLog(tenant.slug).record("password.changed", account_id=account.id, address=client_address(request))
    keep_session(request, account)
    session_of(request).flash(_("パスワードを変更しました。"), "success")
    return redirect(PATH)


ROUTES = [profile_page, change_nickname, change_email, change_password]
