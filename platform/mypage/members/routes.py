"""ユーザ管理 (/members): only administrators (管理者) of a customer reach it; general users get 404."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException

from mypage.i18n import gettext as _
from mypage.identity.recovery_support import contact_address
from mypage.identity.session_auth import admin_required, current_account, end_session
from mypage.members import service
from mypage.members.repository import MemberRepository
from mypage.web.render import client_address, portal_of, redirect, render, requires_feature, session_of, tenant_of

GUARDS = [requires_feature("members"), admin_required]


async def _admin(request: Request):
    account = await current_account(request)
    if account.customer is None:
        raise NotFoundException()
    return account


async def _as_admin(change) -> service.Outcome:
    """Runs a change; an administrator demoted or deleted meanwhile gets what the guard gives a general user."""
    try:
        return await change
    except service.NotAdministrator:
        raise NotFoundException() from None


async def _page(
    request: Request, data: service.MemberInput, *, errors=None, problem="", status_code=200, editing=None
) -> Response:
    tenant = tenant_of(request)
    admin = await _admin(request)
    members = await MemberRepository(tenant, admin.customer).all()
    return render(
        request,
        "members/index.html",
        status_code=status_code,
        members=members,
        values=data,
        errors=errors or {},
        problem=problem,
        editing=editing,
        is_admin=service.is_admin,
        contact=contact_address,
        max_members=tenant.config.features.members.max_members,
    )


@get("/members", guards=GUARDS)
async def members_page(request: Request) -> Response:
    tenant = tenant_of(request)
    admin = await _admin(request)
    edit = request.query_params.get("edit")
    if edit:
        member = await MemberRepository(tenant, admin.customer).get(edit)
        if member is None:
            raise NotFoundException()
        return await _page(request, service.MemberInput.of(member), editing=member)
    return await _page(request, service.MemberInput())


@post("/members", guards=GUARDS)
async def members_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    admin = await _admin(request)
    form = await request.form()
    action = form.get("action")
    data = service.MemberInput.from_form(form)
    repo = MemberRepository(tenant, admin.customer)
    editing = await repo.get(data.member_id) if data.member_id else None
    address = client_address(request)
    if action == "register":
        outcome = await _as_admin(service.register(portal_of(request), tenant, admin, data, address=address))
        if outcome.ok:
            if tenant.config.identity.login_id.kind == "issued":
                message = _("ご登録頂いたメールアドレス宛に仮パスワードを発行いたしました。")
            else:
                message = _("ご登録頂いたメールアドレス宛にパスワード設定用のURLをお送りしました。")
            session_of(request).flash(message, "success")
            return redirect("/members")
    elif action == "update":
        outcome = await _as_admin(service.update(tenant, admin, data, address=address))
        if outcome.ok:
            session_of(request).flash(_("ユーザ情報を更新しました。"), "success")
            if outcome.account.id == admin.id and not service.is_admin(outcome.account):
                return redirect("/")
            return redirect(f"/members?edit={outcome.account.id}")
    elif action == "delete":
        if editing is None:
            return await _page(request, data, problem=_("ユーザー一覧から対象のユーザを選択してください。"), status_code=400)
        return render(request, "members/delete.html", member=editing, is_self=editing.id == admin.id)
    else:
        return redirect("/members")
    return await _page(request, data, errors=outcome.errors, problem=outcome.problem, status_code=400, editing=editing)


@post("/members/delete", guards=GUARDS)
async def members_delete(request: Request) -> Response:
    tenant = tenant_of(request)
    admin = await _admin(request)
    form = await request.form()
    member_id = form.get("id")
    outcome = await _as_admin(service.delete(tenant, admin, member_id, address=client_address(request)))
    if not outcome.ok:
        member = await MemberRepository(tenant, admin.customer).get(member_id)
        data = service.MemberInput.of(member) if member else service.MemberInput()
        return await _page(request, data, problem=outcome.problem, status_code=400, editing=member)
    if outcome.account.id == admin.id:
        end_session(request)
        session_of(request).flash(_("ユーザを削除しました。"), "info")
        return redirect("/login")
    session_of(request).flash(_("ユーザを削除しました。"), "success")
    return redirect("/members")


ROUTES = [members_page, members_submit, members_delete]
