"""インターネットセキュリティサービスの設定・変更 (/security): product, apply (with confirmation), status, cancel."""

from __future__ import annotations

from litestar import Request, Response, get, post

from mypage.addons import service
from mypage.i18n import gettext as _
from mypage.identity.session_auth import current_account, feature_login_required
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of

GUARDS = [feature_login_required("security_addon")]


async def _status(request: Request):
    tenant = tenant_of(request)
    account = await current_account(request)
    return tenant, account, await service.status_for(tenant, account)


async def _change(request: Request, change, done: str) -> Response:
    """Applies ``service.apply`` or ``service.cancel``; back to /security with ``done`` or the refusal flashed."""
    session = session_of(request)
    try:
        await change(portal_of(request), tenant_of(request), await current_account(request), address=client_address(request))
    except service.AddonError as exc:
        session.flash(str(exc), "warning")
    else:
        session.flash(done, "success")
    return redirect("/security")


@get("/security", guards=GUARDS)
async def security_page(request: Request) -> Response:
    _tenant, _account, status = await _status(request)
    return render(request, "addons/security.html", status=status, product=status.product)


@get("/security/apply", guards=GUARDS)
async def apply_confirm(request: Request) -> Response:
    _tenant, _account, status = await _status(request)
    if not status.eligible or status.active:
        return redirect("/security")
    return render(request, "addons/security_apply.html", status=status, product=status.product, error="")


@post("/security/apply", guards=GUARDS)
async def apply_submit(request: Request) -> Response:
    return await _change(
        request, service.apply, _("お申込みを受け付けました。ご登録のメールアドレスにお申込み内容をお送りしました。")
    )


@get("/security/cancel", guards=GUARDS)
async def cancel_confirm(request: Request) -> Response:
    _tenant, _account, status = await _status(request)
    if not status.active:
        return redirect("/security")
    return render(request, "addons/security_cancel.html", status=status, product=status.product)


@post("/security/cancel", guards=GUARDS)
async def cancel_submit(request: Request) -> Response:
    return await _change(request, service.cancel, _("解約を受け付けました。"))


ROUTES = [security_page, apply_confirm, apply_submit, cancel_confirm, cancel_submit]
