"""お客様サポート: find a customer, see their records and portal accounts, act on an account, view as the customer."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.admin.auth import VIEWER_MAY_POST, CurrentStaff, roles_allowed, staff_session
from mypage.admin.nav import NavItem
from mypage.admin.render import admin_page
from mypage.admin.roles import SUPPORT_WORK
from mypage.admin.support import service
from mypage.admin.support.repository import SupportRepository
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.identity import totp
from mypage.records.tables import Customer
from mypage.web.render import redirect, tenant_of

ACT = [roles_allowed(SUPPORT_WORK)]


@get("/customers")
async def search(request: Request, staff: CurrentStaff) -> Response:
    query = (request.query_params.get("q") or "").strip()[:120]
    found = await SupportRepository(tenant_of(request).slug).search(query) if query else []
    return admin_page(request, "admin/customers.html", query=query, found=found, searched=bool(query))


async def _customer(request: Request, customer_id: int) -> Customer:
    customer = await SupportRepository(tenant_of(request).slug).customer(customer_id)
    if customer is None:
        raise NotFoundException()
    return customer


async def _detail(request: Request, customer: Customer, *, form_error: str = "", status_code: int = 200) -> Response:
    tenant = tenant_of(request)
    repo = SupportRepository(tenant.slug)
    return admin_page(
        request,
        "admin/customer.html",
        status_code=status_code,
        customer=customer,
        contracts=await repo.contracts(customer.id),
        accounts=await service.account_views(tenant, await repo.accounts(customer.id)),
        totp_available=totp.available(tenant),
        view_minutes=service.VIEW_AS_MINUTES,
        form_error=form_error,
    )


@get("/customers/{customer_id:int}")
async def detail(request: Request, staff: CurrentStaff, customer_id: FromPath[int]) -> Response:
    return await _detail(request, await _customer(request, customer_id))


@post("/customers/{customer_id:int}/accounts/{account_id:int}", guards=ACT)
async def account_action(
    request: Request, staff: CurrentStaff, customer_id: FromPath[int], account_id: FromPath[int]
) -> Response:
    tenant = tenant_of(request)
    customer = await _customer(request, customer_id)
    account = await SupportRepository(tenant.slug).account(customer.id, account_id)
    if account is None:
        raise NotFoundException()
    try:
        action = service.Action(str((await request.form()).get("action") or ""))
    except ValueError:
        return await _detail(request, customer, form_error=_("操作を選択してください。"), status_code=400)
    try:
        await service.act(request, tenant, staff, customer, account, action)
    except service.NotPossible as exc:
        return await _detail(request, customer, form_error=exc.message, status_code=400)
    staff_session(request).flash(_(service.DONE[action]), "success")
    return redirect(f"/admin/customers/{customer.id}")


@post("/customers/{customer_id:int}/accounts/{account_id:int}/view-as", guards=ACT)
async def view_as(request: Request, staff: CurrentStaff, customer_id: FromPath[int], account_id: FromPath[int]) -> Response:
    customer = await _customer(request, customer_id)
    account = await SupportRepository(tenant_of(request).slug).account(customer.id, account_id)
    if account is None or account.status == "disabled":
        raise NotFoundException()
    await service.start_view_as(request, staff, customer, account)
    return redirect("/")


@post("/view-as/end", opt={VIEWER_MAY_POST: True})
async def view_as_end(request: Request, staff: CurrentStaff) -> Response:
    customer_id = await service.end_view_as(request, staff)
    return redirect(f"/admin/customers/{customer_id}" if customer_id else "/admin/customers")


ADMIN_ROUTES = [search, detail, account_action, view_as, view_as_end]
ADMIN_NAV = [NavItem("/admin/customers", N_("お客様サポート"), order=10)]
