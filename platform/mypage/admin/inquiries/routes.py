"""お問い合わせ in the console: a filterable inbox, the thread with replies (mailed and shown in the portal),
internal notes, 対応状況, assignment, and approval of call-detail and paper-stop requests (``inquiries.staff``,
the same rules as ``mypage staff approve``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.admin.actors import actor_of
from mypage.admin.auth import CurrentStaff, roles_allowed, staff_session
from mypage.admin.nav import NavItem
from mypage.admin.render import admin_page
from mypage.admin.roles import SUPPORT_WORK
from mypage.admin.staff.repository import StaffRepository
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.inquiries import service, threads
from mypage.inquiries import staff as decisions
from mypage.inquiries.repository import InboxFilter
from mypage.tenancy.registry import Tenant
from mypage.web.render import portal_of, redirect, tenant_of

ACT = [roles_allowed(SUPPORT_WORK)]


def _day(value: str, zone: str, *, end: bool = False) -> datetime | None:
    """A ``YYYY-MM-DD`` filter as the start of that day (``end``: of the next day) in the tenant's zone."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1 if end else 0), time(), ZoneInfo(zone))


def _filters(request: Request, tenant: Tenant) -> tuple[InboxFilter, dict[str, str]]:
    params = {k: (request.query_params.get(k) or "").strip() for k in ("state", "category", "since", "until", "customer")}
    zone = tenant.config.timezone
    wanted = InboxFilter(
        state=params["state"] if params["state"] in threads.State.__members__.values() else "",
        category=params["category"],
        since=_day(params["since"], zone),
        until=_day(params["until"], zone, end=True),
        customer_number=params["customer"],
    )
    if request.query_params.get("mine"):
        params["mine"] = "1"
    return wanted, params


@get("/inquiries")
async def inbox(request: Request, staff: CurrentStaff) -> Response:
    tenant = tenant_of(request)
    wanted, params = _filters(request, tenant)
    if params.get("mine"):
        wanted.assignee_id = staff.id
    found = await threads.inbox(tenant, wanted)
    customers = await threads.customers_of(tenant, found)
    feature = tenant.config.features.inquiries
    return admin_page(
        request,
        "admin/inquiries.html",
        inquiries=found,
        customers=customers,
        params=params,
        states=list(threads.State),
        state_label=threads.state_label,
        enabled=feature is not None and tenant.config.features.enabled("inquiries"),
        categories=service.offered(tenant) if feature else [],
        category_of=lambda key: service.category(tenant, key),
        reference=service.reference,
    )


async def _thread_page(request: Request, staff, inquiry_id: int, *, errors=None, values=None, status_code: int = 200) -> Response:
    tenant = tenant_of(request)
    thread = await threads.staff_thread(tenant, inquiry_id)
    if thread is None:
        raise NotFoundException()
    members = [m for m in await StaffRepository(tenant.slug).listing() if m.status == "active"]
    return admin_page(
        request,
        "admin/inquiry.html",
        status_code=status_code,
        inquiry=thread.inquiry,
        messages=thread.messages,
        customer=thread.customer,
        reference=service.reference(thread.inquiry),
        chosen=service.category(tenant, thread.inquiry.category),
        states=list(threads.State),
        state_label=threads.state_label,
        members=members,
        decidable=thread.inquiry.applies != "none" and thread.inquiry.status == "received",
        errors=errors or {},
        values=values or {},
        body_max=service.BODY_MAX,
    )


@get("/inquiries/{inquiry_id:int}")
async def inquiry(request: Request, staff: CurrentStaff, inquiry_id: FromPath[int]) -> Response:
    return await _thread_page(request, staff, inquiry_id)


async def _text(request: Request, name: str) -> str:
    value = (await request.form()).get(name)
    return value if isinstance(value, str) else ""


def _back(request: Request, inquiry_id: int, message: str) -> Response:
    staff_session(request).flash(message, "success")
    return redirect(f"/admin/inquiries/{inquiry_id}")


@post("/inquiries/{inquiry_id:int}/reply", guards=ACT)
async def reply(request: Request, staff: CurrentStaff, inquiry_id: FromPath[int]) -> Response:
    body = await _text(request, "body")
    try:
        await threads.staff_reply(portal_of(request), tenant_of(request), inquiry_id, body, actor_of(request, staff))
    except threads.ThreadError as exc:
        if await threads.staff_thread(tenant_of(request), inquiry_id) is None:
            raise NotFoundException() from None
        return await _thread_page(request, staff, inquiry_id, errors={"body": str(exc)}, values={"body": body}, status_code=400)
    return _back(request, inquiry_id, _("回答を送信しました。"))


@post("/inquiries/{inquiry_id:int}/note", guards=ACT)
async def note(request: Request, staff: CurrentStaff, inquiry_id: FromPath[int]) -> Response:
    body = await _text(request, "note")
    try:
        await threads.add_note(tenant_of(request), inquiry_id, body, actor_of(request, staff))
    except threads.ThreadError as exc:
        if await threads.staff_thread(tenant_of(request), inquiry_id) is None:
            raise NotFoundException() from None
        return await _thread_page(request, staff, inquiry_id, errors={"note": str(exc)}, values={"note": body}, status_code=400)
    return _back(request, inquiry_id, _("社内メモを追加しました。"))


@post("/inquiries/{inquiry_id:int}/state", guards=ACT)
async def change_state(request: Request, staff: CurrentStaff, inquiry_id: FromPath[int]) -> Response:
    try:
        await threads.set_state(tenant_of(request), inquiry_id, await _text(request, "state"), actor_of(request, staff))
    except threads.ThreadError as exc:
        if await threads.staff_thread(tenant_of(request), inquiry_id) is None:
            raise NotFoundException() from None
        return await _thread_page(request, staff, inquiry_id, errors={"state": str(exc)}, status_code=400)
    return _back(request, inquiry_id, _("対応状況を変更しました。"))


@post("/inquiries/{inquiry_id:int}/assign", guards=ACT)
async def assign(request: Request, staff: CurrentStaff, inquiry_id: FromPath[int]) -> Response:
    tenant = tenant_of(request)
    raw = await _text(request, "assignee")
    member = await StaffRepository(tenant.slug).by_id(int(raw)) if raw.isdigit() else None
    if raw and (member is None or member.status != "active"):
        if await threads.staff_thread(tenant, inquiry_id) is None:
            raise NotFoundException()
        return await _thread_page(
            request, staff, inquiry_id, errors={"assignee": _("担当者を一覧から選択してください。")}, status_code=400
        )
    try:
        await threads.assign(
            tenant, inquiry_id, member.id if member else None, member.name if member else "", actor_of(request, staff)
        )
    except threads.ThreadError:
        raise NotFoundException() from None
    return _back(request, inquiry_id, _("担当者を変更しました。"))


@post("/inquiries/{inquiry_id:int}/decide", guards=ACT)
async def decide(request: Request, staff: CurrentStaff, inquiry_id: FromPath[int]) -> Response:
    """承認 (applied from next month, as ``mypage staff approve``) or 却下 of what the inquiry applies for."""
    tenant = tenant_of(request)
    thread = await threads.staff_thread(tenant, inquiry_id)
    if thread is None:
        raise NotFoundException()
    action = await _text(request, "decision")
    actor = actor_of(request, staff)
    try:
        if action == "approve":
            done = await decisions.approve(portal_of(request), tenant, inquiry_id, actor=actor)
            message = (
                _("承認しました（{month} から適用）。").format(month=done.effective_from)
                if done.effective_from
                else _("承認しました。")
            )
        elif action == "reject":
            await decisions.reject(tenant, inquiry_id, note=await _text(request, "reason"), actor=actor)
            message = _("却下しました。")
        else:
            return await _thread_page(
                request, staff, inquiry_id, errors={"decision": _("承認または却下を選んでください。")}, status_code=400
            )
    except decisions.StaffError:
        return await _thread_page(
            request, staff, inquiry_id, errors={"decision": _("このお問い合わせは処理済みです。")}, status_code=400
        )
    return _back(request, inquiry_id, message)


ADMIN_ROUTES = [inbox, inquiry, reply, note, change_state, assign, decide]
ADMIN_NAV = [NavItem("/admin/inquiries", N_("お問い合わせ"), order=20)]
