"""お知らせ in the console (管理者 write; サポート and 閲覧 read): drafts with a preview of the formatted text,
publish now or at a time (members with メール通知 あり are mailed then), pin, expire (``notices.service``)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.admin.actors import actor_of
from mypage.admin.auth import CurrentStaff, roles_allowed, staff_session
from mypage.admin.nav import NavItem
from mypage.admin.render import admin_page
from mypage.admin.roles import ADMIN_ONLY
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.notices import service
from mypage.notices.repository import NoticeRepository
from mypage.web.render import portal_of, redirect, tenant_of

WRITE = [roles_allowed(ADMIN_ONLY)]


@get("/notices")
async def notices(request: Request, staff: CurrentStaff) -> Response:
    found = await NoticeRepository(tenant_of(request)).every()
    return admin_page(
        request, "admin/notices.html", notices=found, status_of=service.status_of, status_label=service.status_label
    )


def _form(request: Request, *, notice=None, values=None, errors=None, status_code: int = 200) -> Response:
    tenant = tenant_of(request)
    values = values or (service.NoticeInput.of(notice, tenant.config.timezone) if notice else service.NoticeInput())
    return admin_page(
        request,
        "admin/notice.html",
        status_code=status_code,
        notice=notice,
        values=values,
        errors=errors or {},
        preview=service.render_body(values.body),
        status=service.status_of(notice) if notice else "draft",
        status_label=service.status_label,
        title_max=service.TITLE_MAX,
        body_max=service.BODY_MAX,
    )


@get("/notices/new", guards=WRITE)
async def new_notice(request: Request, staff: CurrentStaff) -> Response:
    return _form(request)


@post("/notices", guards=WRITE)
async def create_notice(request: Request, staff: CurrentStaff) -> Response:
    data = service.NoticeInput.from_form(await request.form())
    notice, errors = await service.save_draft(tenant_of(request), data, actor_of(request, staff))
    if notice is None:
        return _form(request, values=data, errors=errors, status_code=400)
    staff_session(request).flash(_("下書きを保存しました。内容を確認して公開してください。"), "success")
    return redirect(f"/admin/notices/{notice.id}")


async def _notice(request: Request, notice_id: int):
    notice = await NoticeRepository(tenant_of(request)).by_id(notice_id)
    if notice is None:
        raise NotFoundException()
    return notice


@get("/notices/{notice_id:int}")
async def edit_notice(request: Request, staff: CurrentStaff, notice_id: FromPath[int]) -> Response:
    return _form(request, notice=await _notice(request, notice_id))


@post("/notices/{notice_id:int}", guards=WRITE)
async def save_notice(request: Request, staff: CurrentStaff, notice_id: FromPath[int]) -> Response:
    notice = await _notice(request, notice_id)
    data = service.NoticeInput.from_form(await request.form())
    saved, errors = await service.save_draft(tenant_of(request), data, actor_of(request, staff), notice_id=notice.id)
    if saved is None:
        return _form(request, notice=notice, values=data, errors=errors, status_code=400)
    staff_session(request).flash(_("保存しました。"), "success")
    return redirect(f"/admin/notices/{notice.id}")


@post("/notices/{notice_id:int}/{action:str}", guards=WRITE)
async def notice_action(request: Request, staff: CurrentStaff, notice_id: FromPath[int], action: FromPath[str]) -> Response:
    """``publish`` (now, or at its time), ``expire`` (off the portal now), ``pin`` / ``unpin``."""
    notice = await _notice(request, notice_id)
    tenant, actor = tenant_of(request), actor_of(request, staff)
    try:
        if action == "publish":
            published, mails = await service.publish(portal_of(request), tenant, notice.id, actor)
            if service.status_of(published) == "scheduled":
                message = _("公開を予約しました。公開時刻にメール通知ありの会員へメールを送ります。")
            else:
                message = _("公開しました（お知らせメール {n} 件）。").format(n=mails)
        elif action == "expire":
            await service.expire(tenant, notice.id, actor)
            message = _("掲載を終了しました。")
        elif action in ("pin", "unpin"):
            await service.set_pinned(tenant, notice.id, action == "pin", actor)
            message = _("固定表示を変更しました。")
        else:
            raise NotFoundException()
    except service.NoticeError as exc:
        staff_session(request).flash(str(exc), "error")
        return redirect(f"/admin/notices/{notice.id}")
    staff_session(request).flash(message, "success")
    return redirect(f"/admin/notices/{notice.id}")


ADMIN_ROUTES = [notices, new_notice, create_notice, edit_notice, save_notice, notice_action]
ADMIN_NAV = [NavItem("/admin/notices", N_("お知らせ"), order=30)]
