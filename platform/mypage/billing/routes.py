"""Billing: ご利用料金 / ご請求明細 (month list), 請求情報 (fiscal year per contract), invoice PDF,
お支払い方法の確認・変更 (card registration through the tenant's payment gateway).

Every route needs a login and the tenant's ``[features.billing]``; data is only the logged-in
account's customer's (another customer's or tenant's invoice answers 404).
"""

from __future__ import annotations

import logging

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from mypage.audit.log import AuditLog
from mypage.billing.cards import validate_card
from mypage.billing.gateway import CardRegistration, GatewayError, gateway_for
from mypage.billing.repository import MONTHS_AND_CONTRACTS_WITH_SESSION, BillingRepository, fiscal_year_index
from mypage.billing.service import Statements
from mypage.db.locks import serialised
from mypage.documents.pdf import pdf_response, render_pdf
from mypage.identity.session_auth import current_account, feature_login_required, load_account
from mypage.mail.outbox import enqueue
from mypage.records.tables import Customer
from mypage.web.page_reads import OPT_KEY, joined_page
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of

log = logging.getLogger(__name__)

GUARDS = [feature_login_required("billing")]
CARD_SESSION_KEY = "billing_card"
DONE_SESSION_KEY = "billing_card_done"


def _config(request: Request):
    return tenant_of(request).config.features.billing


async def _repo(request: Request) -> BillingRepository | None:
    account = await load_account(request)
    if account is None or not account.customer:
        return None
    return BillingRepository(tenant_of(request), account.customer)


async def _statements(request: Request) -> Statements | None:
    repo = await _repo(request)
    return Statements(repo, _config(request)) if repo is not None else None


async def _payment_guard(connection, _handler=None) -> None:
    """お支払い方法の確認・変更 exists only where ``[features.billing] payment_method = true``."""
    if not _config(connection).payment_method:
        raise NotFoundException()


PAYMENT_GUARDS = [*GUARDS, _payment_guard]


# --- statements -----------------------------------------------------------------------------------


@get("/billing", guards=GUARDS, opt={OPT_KEY: MONTHS_AND_CONTRACTS_WITH_SESSION})
async def billing_index(request: Request, year: FromQuery[str | None] = None) -> Response:
    if fiscal_year_index(tenant_of(request)):  # the index MONTHS_AND_CONTRACTS_WITH_SESSION reads for
        return await _fiscal_year(request, None, year)
    statements = await _statements(request)
    months = await statements.month_list() if statements else []
    return render(request, "billing/month_list.html", billing=_config(request), months=months)


@get("/billing/month/{month:str}", guards=GUARDS)
async def billing_month(request: Request, month: FromPath[str]) -> Response:
    statements = await _statements(request)
    view = await statements.month(month) if statements else None
    if view is None:
        raise NotFoundException()
    return render(request, "billing/month_detail.html", billing=_config(request), month=view)


@get("/billing/contract/{contract_number:str}", guards=GUARDS)
async def billing_contract(request: Request, contract_number: FromPath[str], year: FromQuery[str | None] = None) -> Response:
    repo = await _repo(request)
    contract = await repo.contract_by_number(contract_number) if repo else None
    if contract is None:
        raise NotFoundException()
    return await _fiscal_year(request, contract, year)


async def _fiscal_year(request: Request, contract: dict | None, year: str | None) -> Response:
    config = _config(request)
    statements = await _statements(request)
    if statements is not None and contract is None:
        await statements.repo.read_ahead_months_and_contracts(joined_page(request.scope, MONTHS_AND_CONTRACTS_WITH_SESSION))
    contract_id = contract["id"] if contract else None
    years = await statements.years(contract_id) if statements else {}
    selected = int(year) if year and year.isdigit() and int(year) in years else None
    months = await statements.year(years[selected], contract_id) if selected is not None else []
    contracts = await statements.repo.contracts() if statements and contract is None else []
    return render(
        request,
        "billing/fiscal_year.html",
        billing=config,
        contract=contract,
        contracts=contracts,
        years=list(years),
        selected_year=selected,
        months=months,
    )


@get("/billing/{invoice_number:str}/pdf", guards=GUARDS)
async def invoice_pdf(request: Request, invoice_number: FromPath[str]) -> Response:
    config = _config(request)
    statements = await _statements(request)
    view = await statements.invoice(invoice_number) if statements and config.invoice_pdf else None
    if view is None:
        raise NotFoundException()
    tenant = tenant_of(request)
    customer = await statements.repo.customer()
    same_month = await statements.repo.invoices_in([view.month])
    filename = f"invoice-{view.month}.pdf" if len(same_month) == 1 else f"invoice-{view.month}-{view.number}.pdf"
    content = await render_pdf(
        portal_of(request),
        tenant,
        "billing/invoice_pdf.html",
        {"invoice": view, "customer": customer},
        stylesheets=("billing/invoice_pdf.css",),
    )
    return pdf_response(content, filename)


# --- payment method -------------------------------------------------------------------------------


@get("/billing/payment-method", guards=PAYMENT_GUARDS)
async def payment_method(request: Request) -> Response:
    repo = await _repo(request)
    customer = await repo.customer() if repo else None
    card = await repo.card() if repo else None
    return render(request, "billing/payment_method.html", customer=customer, card=card)


def _card_form(request: Request, errors: dict | None = None, values: dict | None = None, status_code: int = 200) -> Response:
    return render(request, "billing/card_form.html", errors=errors or {}, values=values or {}, status_code=status_code)


@get("/billing/payment-method/card", guards=PAYMENT_GUARDS)
async def card_form(request: Request) -> Response:
    if await _repo(request) is None:
        raise NotFoundException()
    return _card_form(request)


@post("/billing/payment-method/card", guards=PAYMENT_GUARDS)
async def card_submit(request: Request) -> Response:
    repo = await _repo(request)
    if repo is None:
        raise NotFoundException()
    form = await request.form()
    data = {k: str(form.get(k, "")) for k in ("card_number", "expiry", "holder", "cvc")}
    # Only what may be shown again: never the number or the security code.
    kept = {"expiry": data["expiry"], "holder": data["holder"]}
    card, errors = validate_card(data)
    del data
    if card is None:
        return _card_form(request, errors, kept, status_code=400)
    tenant = tenant_of(request)
    customer = await repo.customer()
    try:
        registration = await gateway_for(_config(request).gateway).register_card(
            card, tenant=tenant.slug, customer_number=customer["number"] if customer else ""
        )
    except GatewayError as exc:
        return _card_form(request, {"card_number": str(exc)}, kept, status_code=400)
    finally:
        del card
    session = session_of(request)
    session[CARD_SESSION_KEY] = registration.as_dict()
    return redirect("/billing/payment-method/card/confirm")


def _pending(request: Request) -> CardRegistration | None:
    data = session_of(request).get(CARD_SESSION_KEY)
    return CardRegistration(**data) if isinstance(data, dict) else None


@get("/billing/payment-method/card/confirm", guards=PAYMENT_GUARDS)
async def card_confirm(request: Request) -> Response:
    pending = _pending(request)
    if pending is None:
        return redirect("/billing/payment-method/card")
    return render(request, "billing/card_confirm.html", card=pending)


@post("/billing/payment-method/card/confirm", guards=PAYMENT_GUARDS)
async def card_commit(request: Request) -> Response:
    pending = _pending(request)
    repo = await _repo(request)
    if pending is None or repo is None:
        return redirect("/billing/payment-method/card")
    tenant = tenant_of(request)
    account = await current_account(request)
    customer = await repo.customer()
    to = (account.email or (customer or {}).get("email") or "").strip()
    # "At most one card per customer": update-or-insert under the customer's lock (parallel confirmations of the
    # same card would otherwise both insert, and one would fail on the unique index).
    async with serialised(Customer, repo.customer_id):
        await repo.save_card(
            gateway=_config(request).gateway,
            token=pending.token,
            brand=pending.brand,
            last4=pending.last4,
            exp_month=pending.exp_month,
            exp_year=pending.exp_year,
        )
        await AuditLog(tenant.slug).record(
            "billing.payment_method_changed",
            account_id=account.id,
            address=client_address(request),
            method="card",
            brand=pending.brand,
            last4=pending.last4,
        )
        if to:
            await enqueue(
                portal_of(request),
                tenant,
                to=to,
                template="billing_payment_method_changed",
                context={"card": pending, "customer": customer, "account": account},
            )
    session = session_of(request)
    session.pop(CARD_SESSION_KEY, None)
    session[DONE_SESSION_KEY] = {"brand": pending.brand, "last4": pending.last4, "expiry": pending.expiry}
    return redirect("/billing/payment-method/card/done")


@get("/billing/payment-method/card/done", guards=PAYMENT_GUARDS)
async def card_done(request: Request) -> Response:
    done = session_of(request).pop(DONE_SESSION_KEY, None)
    if not done:
        return redirect("/billing/payment-method")
    return render(request, "billing/card_done.html", done=done)


@post("/billing/payment-method/card/cancel", guards=PAYMENT_GUARDS)
async def card_cancel(request: Request) -> Response:
    session_of(request).pop(CARD_SESSION_KEY, None)
    return redirect("/billing/payment-method")


ROUTES = [
    billing_index,
    billing_month,
    billing_contract,
    invoice_pdf,
    payment_method,
    card_form,
    card_submit,
    card_confirm,
    card_commit,
    card_done,
    card_cancel,
]
