"""The platform console's pages under ``/platform`` (only the platform host has the platform session)."""

from __future__ import annotations

import pyotp
from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.admin.staff.service import PASSWORD_MAX, StaffRefused, password_problem
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.identity.staff_login import LoginError
from mypage.identity.totp import grouped
from mypage.platformconsole import service
from mypage.platformconsole.auth import (
    PUBLIC,
    CurrentPlatformStaff,
    PlatformLoginRequired,
    current_platform_staff,
    load_platform_staff,
    platform_required,
    platform_session,
    start_platform_session,
)
from mypage.platformconsole.health import health_of
from mypage.platformconsole.render import platform_page
from mypage.platformconsole.repository import PlatformStaffRepository, controls_of, recent_platform_events
from mypage.platformconsole.tables import PlatformStaff
from mypage.tenancy.config import Features
from mypage.tenancy.registry import Tenant
from mypage.web.qrcode import qr_data_uri
from mypage.web.render import client_address, portal_of, redirect

PAGE_SIZE = 50
PENDING = "platform_pending"
CODES_ONCE = "platform_codes_once"


def _tenant(request: Request, slug: str) -> Tenant:
    tenant = portal_of(request).tenants.find(slug)
    if tenant is None:
        raise NotFoundException()
    return tenant


def _matches(tenant: Tenant, query: str) -> bool:
    names = tenant.config.names
    haystack = " ".join([tenant.slug, *tenant.config.hosts, *(str(v) for v in names.model_dump().values() if v)]).lower()
    return query.lower() in haystack


# ---------------------------------------------------------------- login


@get("/login", opt={PUBLIC: True})
async def login_page(request: Request) -> Response:
    platform_session(request)
    return platform_page(request, "platform/login.html", error="")


@post("/login", opt={PUBLIC: True})
async def login_submit(request: Request) -> Response:
    form = await request.form()
    email = str(form.get("email") or "")[:254]
    password = str(form.get("password") or "")[:PASSWORD_MAX]
    login = service.staff_login(portal_of(request).settings.secret_key)
    outcome = await login.check_password(email, password, client_address(request))
    if outcome.staff is None:
        error = (
            N_("メールアドレスまたはパスワードが正しくありません。")
            if outcome.error is LoginError.INVALID
            else N_("ログインできません。しばらくしてからお試しください。")
        )
        return platform_page(request, "platform/login.html", status_code=400, error=_(error))
    session = platform_session(request)
    session.clear()
    session.rotate()
    session[PENDING] = outcome.staff.id
    return redirect("/platform/login/totp")


@get("/login/totp", opt={PUBLIC: True})
async def totp_page(request: Request) -> Response:
    if platform_session(request).get(PENDING) is None:
        return redirect("/platform/login")
    return platform_page(request, "platform/login_totp.html", error="")


@post("/login/totp", opt={PUBLIC: True})
async def totp_submit(request: Request) -> Response:
    session = platform_session(request)
    staff = await PlatformStaffRepository().by_id(session.get(PENDING))
    if staff is None or staff.status != "active":
        return redirect("/platform/login")
    code = str((await request.form()).get("code") or "")[:60]
    login = service.staff_login(portal_of(request).settings.secret_key)
    outcome = await login.check_second_factor(staff, code, client_address(request))
    if outcome.staff is None:
        if outcome.error is LoginError.LOCKED:
            session.clear()
            return platform_page(
                request, "platform/login.html", status_code=400, error=_("ログインできません。しばらくしてからお試しください。")
            )
        message = _("確認コードまたはリカバリーコードが正しくありません。")
        return platform_page(request, "platform/login_totp.html", status_code=400, error=message)
    start_platform_session(request, outcome.staff)
    if outcome.remaining_codes is not None:
        left = _("リカバリーコードでログインしました。残りのリカバリーコードは{n}個です。").format(n=outcome.remaining_codes)
        platform_session(request).flash(left, "warning")
    return redirect("/platform")


@post("/logout")
async def logout(request: Request, platform_staff: CurrentPlatformStaff) -> Response:
    await service.record_platform(
        "platform.logout", staff_id=platform_staff.id, actor=service.actor(platform_staff), address=client_address(request)
    )
    platform_session(request).destroy()
    return redirect("/platform/login")


# ---------------------------------------------------------------- invitation of platform staff


def _setup_secret(request: Request) -> str:
    session = platform_session(request)
    secret = session.get("setup_secret")
    if not secret:
        secret = pyotp.random_base32()
        session["setup_secret"] = secret
    return secret


async def _invite_form(
    request: Request, secret: str, staff: PlatformStaff, *, error: str = "", status_code: int = 200
) -> Response:
    totp_secret = _setup_secret(request)
    uri = pyotp.TOTP(totp_secret).provisioning_uri(name=staff.email, issuer_name="mypage platform")
    return platform_page(
        request,
        "platform/invite.html",
        status_code=status_code,
        staff_email=staff.email,
        qr=qr_data_uri(uri),
        secret_text=grouped(totp_secret),
        action=f"/platform/invite/{secret}",
        error=error,
    )


@get("/invite/{secret:str}", opt={PUBLIC: True})
async def invite_page(request: Request, secret: FromPath[str]) -> Response:
    staff = await service.invited(portal_of(request).settings.secret_key, secret)
    if staff is None:
        return platform_page(request, "platform/message.html", status_code=404, message=_("この招待リンクは無効です。"))
    return await _invite_form(request, secret, staff)


@post("/invite/{secret:str}", opt={PUBLIC: True})
async def invite_submit(request: Request, secret: FromPath[str]) -> Response:
    key = portal_of(request).settings.secret_key
    staff = await service.invited(key, secret)
    if staff is None:
        return platform_page(request, "platform/message.html", status_code=404, message=_("この招待リンクは無効です。"))
    form = await request.form()
    password = str(form.get("password") or "")[: PASSWORD_MAX + 1]
    problem = password_problem(password, str(form.get("password_confirm") or "")[: PASSWORD_MAX + 1], staff.email)
    if problem:
        return await _invite_form(request, secret, staff, error=_(problem), status_code=400)
    totp_secret = _setup_secret(request)
    done = await service.accept(
        key,
        secret,
        password=password,
        totp_secret=totp_secret,
        code=str(form.get("code") or "")[:20],
        address=client_address(request),
    )
    if done is None:
        return await _invite_form(request, secret, staff, error=_("確認コードが正しくありません。"), status_code=400)
    session = platform_session(request)
    session.clear()
    session[CODES_ONCE] = done[1]
    return redirect("/platform/recovery-codes")


# ---------------------------------------------------------------- recovery codes


@get("/recovery-codes", opt={PUBLIC: True})
async def codes_page(request: Request) -> Response:
    """The recovery codes, once (after the invitation is accepted or new codes are made)."""
    codes = platform_session(request).pop(CODES_ONCE)
    onward = "/platform" if await load_platform_staff(request) is not None else "/platform/login"
    if not codes:
        return redirect(onward)
    return platform_page(request, "platform/recovery_codes.html", codes=codes, next=onward)


@get("/account")
async def account_page(request: Request, platform_staff: CurrentPlatformStaff) -> Response:
    remaining = await PlatformStaffRepository().remaining_recovery_codes(platform_staff.id)
    return platform_page(request, "platform/account.html", remaining=remaining)


@post("/account/recovery-codes")
async def renew_codes(request: Request, platform_staff: CurrentPlatformStaff) -> Response:
    key = portal_of(request).settings.secret_key
    codes = await service.renew_recovery_codes(key, platform_staff, client_address(request))
    platform_session(request)[CODES_ONCE] = codes
    return redirect("/platform/recovery-codes")


# ---------------------------------------------------------------- platform staff


async def _staff_page(
    request: Request, *, error: str = "", invite_error: str = "", values: dict | None = None, status_code: int = 200
) -> Response:
    members = await service.staff_listing()
    return platform_page(
        request,
        "platform/staff.html",
        status_code=status_code,
        members=members,
        error=error,
        invite_error=invite_error,
        values=values or {},
    )


@get("/staff")
async def staff_page(request: Request, platform_staff: CurrentPlatformStaff) -> Response:
    return await _staff_page(request)


@post("/staff")
async def invite_member(request: Request, platform_staff: CurrentPlatformStaff) -> Response:
    form = await request.form()
    values = {"email": str(form.get("email") or "")[:254], "name": str(form.get("name") or "")[:120]}
    try:
        await service.invite_staff(
            portal_of(request).settings, values["email"], values["name"], by=platform_staff, address=client_address(request)
        )
    except service.PlatformRefused as exc:
        return await _staff_page(request, invite_error=_(exc.error.value), values=values, status_code=400)
    platform_session(request).flash(_("招待メールを送りました。"), "success")
    return redirect("/platform/staff")


@post("/staff/{staff_id:int}")
async def change_member(request: Request, platform_staff: CurrentPlatformStaff, staff_id: FromPath[int]) -> Response:
    action = str((await request.form()).get("action") or "")
    if action not in ("disable", "enable"):
        return await _staff_page(request, error=_("操作を選択してください。"), status_code=400)
    try:
        await service.set_disabled(platform_staff, staff_id, action == "disable", address=client_address(request))
    except service.PlatformRefused as exc:
        if exc.error is service.PlatformError.ACTOR_INACTIVE:
            platform_session(request).destroy()
            return redirect("/platform/login")
        status = 404 if exc.error is service.PlatformError.NOT_FOUND else 400
        return await _staff_page(request, error=_(exc.error.value), status_code=status)
    platform_session(request).flash(
        _("スタッフを停止しました。") if action == "disable" else _("スタッフを再び有効にしました。"), "success"
    )
    return redirect("/platform/staff")


# ---------------------------------------------------------------- tenants


@get("/")
async def tenant_list(request: Request, platform_staff: CurrentPlatformStaff) -> Response:
    query = str(request.query_params.get("q") or "").strip()[:100]
    try:
        page = max(1, int(request.query_params.get("page") or 1))
    except ValueError:
        page = 1
    tenants = [t for t in portal_of(request).tenants if not query or _matches(t, query)]
    tenants.sort(key=lambda t: t.slug)
    pages = max(1, -(-len(tenants) // PAGE_SIZE))
    page = min(page, pages)
    shown = tenants[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    slugs = [t.slug for t in shown]
    zone = shown[0].config.timezone if shown else "Asia/Tokyo"
    health = await health_of(slugs, zone)
    suspended = portal_of(request).suspended
    return platform_page(
        request,
        "platform/tenants.html",
        rows=[(t, health[t.slug], t.slug in suspended) for t in shown],
        query=query,
        page=page,
        pages=pages,
        total=len(tenants),
    )


async def _tenant_page(request: Request, tenant: Tenant, *, error: str = "", status_code: int = 200) -> Response:
    control = (await controls_of([tenant.slug])).get(tenant.slug) or {}
    allowed = await service.allowed_features(tenant.slug)
    configured = set(tenant.source.get("features") or {})
    health = (await health_of([tenant.slug], tenant.config.timezone))[tenant.slug]
    return platform_page(
        request,
        "platform/tenant.html",
        status_code=status_code,
        tenant=tenant,
        health=health,
        suspended=bool(control.get("suspended")),
        features=[(name, name in configured, allowed is None or name in allowed) for name in Features.model_fields],
        error=error,
    )


@get("/tenants/{tenant_slug:str}")
async def tenant_page(request: Request, platform_staff: CurrentPlatformStaff, tenant_slug: FromPath[str]) -> Response:
    return await _tenant_page(request, _tenant(request, tenant_slug))


@post("/tenants/{tenant_slug:str}/suspension")
async def suspension(request: Request, platform_staff: CurrentPlatformStaff, tenant_slug: FromPath[str]) -> Response:
    tenant = _tenant(request, tenant_slug)
    suspend = str((await request.form()).get("suspend") or "") == "1"
    await service.set_suspended(platform_staff, tenant, suspend, client_address(request))
    await portal_of(request).refresh()  # this worker at once; the others within a poll
    platform_session(request).flash(_("停止しました。") if suspend else _("再開しました。"), "success")
    return redirect(f"/platform/tenants/{tenant.slug}")


@post("/tenants/{tenant_slug:str}/allowances")
async def allowances(request: Request, platform_staff: CurrentPlatformStaff, tenant_slug: FromPath[str]) -> Response:
    tenant = _tenant(request, tenant_slug)
    form = await request.form()
    chosen = [str(v) for v in form.getall("feature")] if hasattr(form, "getall") else []
    await service.set_allowances(platform_staff, tenant, chosen, client_address(request))
    platform_session(request).flash(_("許可する機能を保存しました。"), "success")
    return redirect(f"/platform/tenants/{tenant.slug}")


@post("/tenants/{tenant_slug:str}/admins")
async def invite_admin(request: Request, platform_staff: CurrentPlatformStaff, tenant_slug: FromPath[str]) -> Response:
    tenant = _tenant(request, tenant_slug)
    form = await request.form()
    try:
        await service.invite_first_admin(
            portal_of(request),
            platform_staff,
            tenant,
            email=str(form.get("email") or "")[:254],
            name=str(form.get("name") or "")[:121],
            address=client_address(request),
        )
    except StaffRefused as exc:
        return await _tenant_page(request, tenant, error=_(exc.error.value), status_code=400)
    platform_session(request).flash(_("管理者に招待メールを送りました。"), "success")
    return redirect(f"/platform/tenants/{tenant.slug}")


@get("/audit")
async def audit(request: Request, platform_staff: CurrentPlatformStaff) -> Response:
    return platform_page(request, "platform/audit.html", events=await recent_platform_events())


def _to_login(request: Request, exc: PlatformLoginRequired) -> Response:
    return redirect("/platform/login")


ROUTES = [
    Router(
        path="/platform",
        route_handlers=[
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
            staff_page,
            invite_member,
            change_member,
            tenant_list,
            tenant_page,
            suspension,
            allowances,
            invite_admin,
            audit,
        ],
        guards=[platform_required],
        dependencies={"platform_staff": Provide(current_platform_staff)},
        exception_handlers={PlatformLoginRequired: _to_login},
        include_in_schema=False,
    )
]
