"""Console login (password, then the authenticator app), invitation acceptance, logout, own account,
and the 管理者's staff list (invite, change role, stop)."""

from __future__ import annotations

import time

import pyotp
from litestar import Request, Response, get, post
from litestar.params import FromPath

from mypage.admin.auth import (
    PENDING_KEY,
    PUBLIC,
    VIEWER_MAY_POST,
    CurrentStaff,
    end_staff_session,
    load_staff,
    roles_allowed,
    staff_session,
    start_staff_session,
)
from mypage.admin.nav import NavItem
from mypage.admin.render import admin_page
from mypage.admin.roles import ADMIN_ONLY, Role
from mypage.admin.staff import service
from mypage.admin.staff.repository import StaffRepository
from mypage.admin.tables import StaffMember
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.identity.staff_login import LoginError, LoginOutcome
from mypage.identity.tokens import TokenError
from mypage.identity.totp import clean_code, grouped, matching_step
from mypage.web.qrcode import qr_data_uri
from mypage.web.render import client_address, portal_of, redirect, safe_next, tenant_of

PENDING_SECONDS = 5 * 60
SETUP_KEY = "staff_totp_setup"
SETUP_SECONDS = 30 * 60
CODES_KEY = "staff_codes_once"
OPEN = {PUBLIC: True}

FORCED = {
    "idle": N_("一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。"),
    "absolute": N_("ログインから長時間が経過したため、ログアウトしました。もう一度ログインしてください。"),
    "credentials": N_("アカウントの設定が変更されたため、ログアウトしました。もう一度ログインしてください。"),
    "disabled": N_("ログアウトしました。"),
}


def _secret_key(request: Request) -> str:
    return portal_of(request).settings.secret_key


def _admin_next(target: str | None) -> str:
    target = safe_next(target, "/admin")
    return target if target == "/admin" or target.startswith("/admin/") else "/admin"


def login_error(outcome: LoginOutcome) -> str:
    if outcome.error is LoginError.LOCKED:
        return _(
            "ログインに続けて失敗したため、ログインを一時的に停止しています。{minutes}分後にもう一度お試しください。"
        ).format(minutes=outcome.minutes)
    if outcome.error is LoginError.ADDRESS_LIMITED:
        return _("短時間に多くのログイン失敗がありました。{minutes}分ほど時間をおいてからお試しください。").format(
            minutes=outcome.minutes
        )
    return _("メールアドレスまたはパスワードが正しくありません。")


# ---------------------------------------------------------------- login


@get("/login", opt=OPEN)
async def login_page(request: Request) -> Response:
    next_path = _admin_next(request.query_params.get("next"))
    if await load_staff(request) is not None:
        return redirect(next_path)
    forced = staff_session(request).pop("forced_logout")
    notice = _(FORCED[forced]) if forced in FORCED else ""
    return admin_page(request, "admin/login.html", next=next_path, notice=notice, values={}, errors={})


@post("/login", opt=OPEN)
async def login_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    form = await request.form()
    email = str(form.get("email") or "").strip()[:254]
    password = str(form.get("password") or "")[: service.PASSWORD_MAX]
    next_path = _admin_next(form.get("next"))
    errors = {}
    if not email:
        errors["email"] = _("入力してください。")
    if not password:
        errors["password"] = _("入力してください。")
    if errors:
        return admin_page(request, "admin/login.html", status_code=400, next=next_path, values={"email": email}, errors=errors)
    outcome = await service.check_password(tenant, _secret_key(request), email, password, client_address(request))
    if outcome.staff is None:
        return admin_page(
            request,
            "admin/login.html",
            status_code=400 if outcome.error is LoginError.INVALID else 429,
            next=next_path,
            values={"email": email},
            errors={},
            form_error=login_error(outcome),
        )
    session = staff_session(request)
    session.clear()
    session.rotate()
    session[PENDING_KEY] = {"id": outcome.staff.id, "at": int(time.time()), "next": next_path}
    return redirect("/admin/login/totp")


async def _pending_staff(request: Request) -> tuple[StaffMember | None, dict]:
    pending = staff_session(request).get(PENDING_KEY) or {}
    if not pending or int(time.time()) - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None, {}
    staff = await StaffRepository(tenant_of(request).slug).by_id(pending.get("id"))
    if staff is None or staff.status != "active":
        return None, {}
    return staff, pending


@get("/login/totp", opt=OPEN)
async def totp_page(request: Request) -> Response:
    staff, _pending = await _pending_staff(request)
    if staff is None:
        return redirect("/admin/login")
    return admin_page(request, "admin/login_totp.html", errors={})


@post("/login/totp", opt=OPEN)
async def totp_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    staff, pending = await _pending_staff(request)
    if staff is None:
        staff_session(request).pop(PENDING_KEY)
        return redirect("/admin/login")
    code = str((await request.form()).get("code") or "")[:60]
    if not clean_code(code):
        return admin_page(request, "admin/login_totp.html", status_code=400, errors={"code": _("入力してください。")})
    outcome = await service.check_second_factor(tenant, _secret_key(request), staff, code, client_address(request))
    if outcome.staff is None:
        if outcome.error is LoginError.LOCKED:
            session = staff_session(request)
            session.pop(PENDING_KEY)
            session.flash(login_error(outcome), "warning")
            return redirect("/admin/login")
        message = _("確認コードまたはリカバリーコードが正しくありません。")
        return admin_page(request, "admin/login_totp.html", status_code=400, errors={"code": message})
    start_staff_session(request, outcome.staff)
    if outcome.remaining_codes is not None:
        staff_session(request).flash(
            _("リカバリーコードでログインしました。残りのリカバリーコードは{n}個です。").format(n=outcome.remaining_codes),
            "warning",
        )
    return redirect(_admin_next(pending.get("next")))


@post("/logout", opt={VIEWER_MAY_POST: True})
async def logout(request: Request) -> Response:
    end_staff_session(request)
    return redirect("/admin/login")


# ---------------------------------------------------------------- invitation


def _setup_secret(request: Request, staff: CurrentStaff) -> str:
    session = staff_session(request)
    data = session.get(SETUP_KEY) or {}
    if data.get("staff_id") != staff.id or int(time.time()) - int(data.get("at", 0)) > SETUP_SECONDS:
        data = {"staff_id": staff.id, "secret": pyotp.random_base32(), "at": int(time.time())}
        session[SETUP_KEY] = data
    return data["secret"]


def _invite_page(request: Request, staff: CurrentStaff, token: str, *, errors=None, status_code=200) -> Response:
    tenant = tenant_of(request)
    secret = _setup_secret(request, staff)
    issuer = f"{tenant.config.portal_title.get('ja')} admin"
    uri = pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name=issuer)
    return admin_page(
        request,
        "admin/invite.html",
        status_code=status_code,
        invited=staff,
        token=token,
        qr=qr_data_uri(uri),
        secret=grouped(secret),
        errors=errors or {},
        password_min=service.PASSWORD_MIN,
    )


def _invalid_invitation(request: Request) -> Response:
    return admin_page(request, "admin/invite_invalid.html", status_code=404)


@get("/invite/{token:str}", opt=OPEN)
async def invite_page(request: Request, token: FromPath[str]) -> Response:
    staff = await service.invited_staff(tenant_of(request), _secret_key(request), token)
    if staff is None:
        return _invalid_invitation(request)
    return _invite_page(request, staff, token)


@post("/invite/{token:str}", opt=OPEN)
async def invite_submit(request: Request, token: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    staff = await service.invited_staff(tenant, _secret_key(request), token)
    if staff is None:
        return _invalid_invitation(request)
    form = await request.form()
    password = str(form.get("password") or "")[: service.PASSWORD_MAX + 1]
    confirm = str(form.get("password_confirm") or "")[: service.PASSWORD_MAX + 1]
    code = clean_code(str(form.get("code") or ""))[:20]
    errors = {}
    problem = service.password_problem(password, confirm, staff.email)
    if problem:
        errors["password"] = _(problem)
    secret = _setup_secret(request, staff)
    if matching_step(secret, code) is None:
        errors["code"] = _("確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。")
    if errors:
        return _invite_page(request, staff, token, errors=errors, status_code=400)
    try:
        staff, codes = await service.accept_invitation(
            tenant, _secret_key(request), token, password=password, totp_secret=secret, address=client_address(request)
        )
    except TokenError:
        return _invalid_invitation(request)
    session = staff_session(request)
    session.pop(SETUP_KEY)
    session[CODES_KEY] = codes
    return redirect("/admin/recovery-codes")


@get("/recovery-codes", opt=OPEN)
async def codes_page(request: Request) -> Response:
    """The recovery codes, once (after the invitation is accepted or new codes are made)."""
    codes = staff_session(request).pop(CODES_KEY)
    if not codes:
        return redirect("/admin")
    return admin_page(request, "admin/recovery_codes.html", codes=codes, logged_in=await load_staff(request) is not None)


# ---------------------------------------------------------------- own account


@get("/account")
async def account_page(request: Request, staff: CurrentStaff) -> Response:
    remaining = await StaffRepository(staff.tenant).remaining_recovery_codes(staff.id)
    return admin_page(request, "admin/account.html", remaining=remaining)


@post("/account/recovery-codes", opt={VIEWER_MAY_POST: True})
async def renew_codes(request: Request, staff: CurrentStaff) -> Response:
    codes = await service.new_recovery_codes_for(tenant_of(request), _secret_key(request), staff, client_address(request))
    staff_session(request)[CODES_KEY] = codes
    return redirect("/admin/recovery-codes")


# ---------------------------------------------------------------- staff list (管理者)

ADMIN_GUARD = [roles_allowed(ADMIN_ONLY)]


async def _staff_list(request: Request, *, errors=None, values=None, form_error="", status_code=200) -> Response:
    members = await StaffRepository(tenant_of(request).slug).listing()
    return admin_page(
        request,
        "admin/staff.html",
        status_code=status_code,
        members=members,
        roles=list(Role),
        errors=errors or {},
        values=values or {},
        form_error=form_error,
    )


@get("/staff", guards=ADMIN_GUARD)
async def staff_list(request: Request) -> Response:
    return await _staff_list(request)


@post("/staff/invite", guards=ADMIN_GUARD)
async def staff_invite(request: Request, staff: CurrentStaff) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip()[:254] for k in ("email", "name", "role")}
    try:
        invitation = await service.invite(
            portal_of(request), tenant_of(request), **values, by=staff, address=client_address(request)
        )
    except service.StaffRefused as exc:
        return await _staff_list(request, errors={exc.field: _(exc.error.value)}, values=values, status_code=400)
    staff_session(request).flash(_("{email} に招待メールを送りました。").format(email=invitation.staff.email), "success")
    return redirect("/admin/staff")


@post("/staff/{staff_id:int}", guards=ADMIN_GUARD)
async def staff_change(request: Request, staff: CurrentStaff, staff_id: FromPath[int]) -> Response:
    form = await request.form()
    action = str(form.get("action") or "")
    try:
        if action == "role":
            await service.change_staff(
                tenant_of(request), staff, staff_id, role=str(form.get("role") or ""), address=client_address(request)
            )
        elif action in ("disable", "enable"):
            await service.change_staff(
                tenant_of(request), staff, staff_id, disabled=action == "disable", address=client_address(request)
            )
        else:
            return await _staff_list(request, form_error=_("操作を選択してください。"), status_code=400)
    except service.StaffRefused as exc:
        return await _staff_list(
            request, form_error=_(exc.error.value), status_code=404 if exc.error is service.StaffError.NOT_FOUND else 400
        )
    staff_session(request).flash(_("スタッフの設定を変更しました。"), "success")
    return redirect("/admin/staff")


ADMIN_ROUTES = [
    login_page,
    login_submit,
    totp_page,
    totp_submit,
    logout,
    invite_page,
    invite_submit,
    codes_page,
    account_page,
    renew_codes,
    staff_list,
    staff_invite,
    staff_change,
]
ADMIN_NAV = [
    NavItem("/admin/staff", N_("スタッフ"), order=90, roles=ADMIN_ONLY),
    NavItem("/admin/account", N_("自分のアカウント"), order=95),
]
