"""ご契約内容: contract lines or the contract summary, details, documents, history and referral."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage import i18n
from mypage.contracts import service
from mypage.contracts.repository import DETAIL_WITH_SESSION, INVOICE_PDF, OPENING_NOTICE, ContractRepository
from mypage.documents.repository import DocumentFileRepository
from mypage.identity.session_auth import current_account, feature_login_required
from mypage.web.page_reads import OPT_KEY, joined_page
from mypage.web.qrcode import qr_data_uri
from mypage.web.render import portal_of, render, requires_feature, tenant_of

CONTRACTS = [feature_login_required("contracts")]


async def _repo(request: Request) -> ContractRepository:
    account = await current_account(request)
    return ContractRepository(tenant_of(request), account.customer)


@get("/contracts", guards=CONTRACTS)
async def contract_list(request: Request) -> Response:
    tenant = tenant_of(request)
    feature = tenant.config.features.contracts
    repo = await _repo(request)
    customer = await repo.customer()
    if feature.layout == "lines":
        keys = {c.key for c in feature.categories}
        category = request.query_params.get("category") or ""
        if category not in keys:
            category = ""
        current = next((c for c in feature.categories if c.key == category), None)
        return render(
            request,
            "contracts/lines.html",
            customer=customer,
            groups=await repo.grouped(category or None),
            category=current,
        )
    contracts = await repo.contracts()
    return render(
        request,
        "contracts/summary.html",
        customer=customer,
        tenure=service.tenure(customer.customer_since) if customer else "",
        contracts=contracts,
        options=await repo.options_for(contracts),
        fees=service.monthly_fees(contracts, feature.tax_rate),
    )


@get("/contracts/history", guards=[feature_login_required("contracts.history")])
async def contract_history(request: Request) -> Response:
    repo = await _repo(request)
    return render(request, "contracts/history.html", history=await repo.history())


@get("/contracts/referral", guards=[feature_login_required("contracts.referral")])
async def referral(request: Request) -> Response:
    tenant = tenant_of(request)
    account = await current_account(request)
    if account.customer is None:
        raise NotFoundException()
    portal = portal_of(request)
    code = service.referral_code(portal.settings.secret_key, tenant.slug, account.customer)
    link = f"{portal.base_url(tenant)}/referral/{code}"
    return render(request, "contracts/referral.html", code=code, link=link, qr=qr_data_uri(link, scale=4))


@get("/contracts/confirmation", guards=[feature_login_required("contracts.confirmation_pdf")])
async def confirmation(request: Request) -> Response:
    repo = await _repo(request)
    return render(request, "contracts/confirmation.html", customer=await repo.customer(), contracts=await repo.contracts())


@get("/contracts/confirmation.pdf", guards=[feature_login_required("contracts.confirmation_pdf")])
async def confirmation_pdf(request: Request) -> Response:
    from mypage.documents.pdf import pdf_response, render_pdf

    tenant = tenant_of(request)
    repo = await _repo(request)
    customer = await repo.customer()
    if customer is None:
        raise NotFoundException()
    contracts = await repo.contracts()
    context = {
        "customer": customer,
        "contracts": contracts,
        "options": await repo.options_for(contracts),
        "fees": service.monthly_fees(contracts, tenant.config.features.contracts.tax_rate),
        "tenure": service.tenure(customer.customer_since),
        "issued_on": i18n.today(),
    }
    data = await render_pdf(portal_of(request), tenant, "contracts/confirmation_pdf.html", context)
    return pdf_response(data, f"contract-confirmation-{customer.number}.pdf")


@get("/contracts/{number:str}", guards=CONTRACTS, opt={OPT_KEY: DETAIL_WITH_SESSION})
async def contract_detail(request: Request, number: FromPath[str]) -> Response:
    repo = await _repo(request)
    read_with_session = joined_page(request.scope, DETAIL_WITH_SESSION)
    detail = repo.detail_of_row(read_with_session) if read_with_session else await repo.detail(number)
    if detail is None:
        raise NotFoundException()
    return render(request, "contracts/detail.html", detail=detail, contract=detail.contract)


@get("/contracts/{number:str}/opening-notice", guards=[feature_login_required("contracts.opening_notice_pdf")])
async def opening_notice(request: Request, number: FromPath[str]) -> Response:
    from mypage.documents.pdf import pdf_response, render_pdf

    tenant = tenant_of(request)
    repo = await _repo(request)
    contract = await repo.by_number(number)
    if contract is None:
        raise NotFoundException()
    notices = await repo.documents(OPENING_NOTICE, contract)
    wanted = request.query_params.get("document") or ""
    document = next((d for d in notices if str(d.id) == wanted), None) if wanted else (notices[0] if notices else None)
    if document is None:
        raise NotFoundException()
    uploaded = await DocumentFileRepository(tenant.slug).file_of(document.id)
    if uploaded is not None:  # uploaded in the console: served as it is
        return pdf_response(uploaded.content, uploaded.filename)
    customer = await repo.customer()
    context = service.opening_notice_context(customer, contract, document, await repo.phone_lines(contract))
    data = await render_pdf(portal_of(request), tenant, "contracts/opening_notice_pdf.html", context)
    return pdf_response(data, f"opening-notice-{contract.number}-{document.issued_on:%Y%m%d}.pdf")


@get("/contracts/{number:str}/documents/{document_id:int}", guards=CONTRACTS)
async def contract_document(request: Request, number: FromPath[str], document_id: FromPath[int]) -> Response:
    """A PDF uploaded in the console for one of the customer's contracts (e.g. a 請求書)."""
    from mypage.documents.pdf import pdf_response

    repo = await _repo(request)
    contract = await repo.by_number(number)
    if contract is None:
        raise NotFoundException()
    document = next((d for d in await repo.documents(INVOICE_PDF, contract) if d.id == document_id), None)
    uploaded = await DocumentFileRepository(tenant_of(request).slug).file_of(document.id) if document else None
    if uploaded is None:
        raise NotFoundException()
    return pdf_response(uploaded.content, uploaded.filename)


@get("/referral/{code:str}", guards=[requires_feature("contracts.referral")])
async def referral_landing(request: Request, code: FromPath[str]) -> Response:
    """Where a referral link leads a friend (not logged in): the code to quote when applying, and whom to call."""
    code = code.strip().upper()
    if not service.looks_like_referral_code(code):
        raise NotFoundException()
    return render(request, "contracts/referral_landing.html", code=code)


ROUTES = [
    contract_list,
    contract_history,
    referral,
    referral_landing,
    confirmation,
    confirmation_pdf,
    contract_detail,
    opening_notice,
    contract_document,
]
