"""The home page after login: the same data for every tenant, laid out by the tenant's ``home.html``."""

from __future__ import annotations

from litestar import Request, Response, get

from mypage.addons.service import upsell_for
from mypage.contracts.repository import CONTRACTS_WITH_SESSION, ContractRepository, category_counts
from mypage.contracts.service import tenure
from mypage.identity.session_auth import customer_of, load_account
from mypage.notices.repository import NoticeRepository
from mypage.notices.service import render_body
from mypage.web.dev import dev_index
from mypage.web.page_reads import OPT_KEY, joined_page
from mypage.web.render import redirect, render, tenant_of


@get("/", opt={OPT_KEY: CONTRACTS_WITH_SESSION})
async def home(request: Request) -> Response:
    if request.scope["state"].get("tenant") is None:
        return dev_index(request)
    tenant = tenant_of(request)
    account = await load_account(request)
    if account is None:
        return redirect("/login")
    features = tenant.config.features
    repo = ContractRepository(tenant, account.customer)
    customer = customer_of(request)
    contracts: list = []
    if features.enabled("contracts"):
        read_with_session = joined_page(request.scope, CONTRACTS_WITH_SESSION)
        contracts = repo.contracts_read_with_session(read_with_session) if read_with_session else await repo.contracts()
    return render(
        request,
        "home.html",
        customer=customer,
        tenure=tenure(customer.customer_since) if customer else "",
        contracts=contracts,
        category_counts=category_counts(contracts),
        notices=await NoticeRepository(tenant).latest(5),
        notice_body=render_body,
        security_upsell=await upsell_for(tenant, account, customer),
    )


ROUTES = [home]
