"""メール設定 of one address (``/mailboxes/<id>/settings``): the server names and ports a mail program needs, the
web mail link, and メールパスワード変更 when the tenant sets a mailbox password rule."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.i18n import gettext as _
from mypage.identity.session_auth import current_account, feature_login_required
from mypage.mailboxes import service
from mypage.mailboxes.repository import MailboxRepository
from mypage.web.render import client_address, redirect, render, session_of, tenant_of

GUARDS = [feature_login_required("mailboxes")]


async def _own(request: Request, mailbox_id: int):
    tenant = tenant_of(request)
    account = await current_account(request)
    ctx = await service.context_for(tenant, account)
    customer = ctx.customer if ctx.eligible else None
    mailbox = await MailboxRepository(tenant.slug).get(customer.id, mailbox_id) if customer is not None else None
    if mailbox is None:
        raise NotFoundException()
    return tenant, account, mailbox


def _page(request: Request, tenant, mailbox, *, errors=None, status_code: int = 200) -> Response:
    return render(
        request,
        "mailboxes/settings.html",
        status_code=status_code,
        mailbox=mailbox,
        feature=tenant.config.features.mailboxes,
        errors=errors or {},
    )


@get("/mailboxes/{mailbox_id:int}/settings", guards=GUARDS)
async def settings_page(request: Request, mailbox_id: FromPath[int]) -> Response:
    tenant, _account, mailbox = await _own(request, mailbox_id)
    return _page(request, tenant, mailbox)


@post("/mailboxes/{mailbox_id:int}/password", guards=GUARDS)
async def password_submit(request: Request, mailbox_id: FromPath[int]) -> Response:
    tenant, account, mailbox = await _own(request, mailbox_id)
    if tenant.config.features.mailboxes.password is None:
        raise NotFoundException()
    form = await request.form()
    password = (form.get("password") or "")[:200]
    errors = service.password_errors(tenant, password, (form.get("password_confirm") or "")[:200])
    if errors:
        return _page(request, tenant, mailbox, errors=errors, status_code=400)
    await service.change_password(tenant, account, mailbox, password, address=client_address(request))
    session_of(request).flash(_("{address} のパスワードを変更しました。").format(address=mailbox.address), "success")
    return redirect(f"/mailboxes/{mailbox.id}/settings")


ROUTES = [settings_page, password_submit]
