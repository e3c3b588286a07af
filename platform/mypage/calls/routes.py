"""通話料金明細: a contract's calls of one month, paged on screen, streamed as CSV."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Stream

from mypage.calls.export import ENCODINGS, csv_chunks, screen_rows
from mypage.calls.repository import (
    CONTRACT_WITH_SCREEN_WITH_SESSION,
    MONTH,
    CallRepository,
    Screen,
    contract_with_screen,
    screen_values,
)
from mypage.contracts.repository import ContractRepository
from mypage.db.prepared import reads_are_round_trips
from mypage.identity.session_auth import current_account, feature_login_required
from mypage.records.tables import Contract
from mypage.web.page_reads import OPT_KEY, joined_page
from mypage.web.render import render, tenant_of

GUARDS = [feature_login_required("call_details")]


async def _contract(request: Request, number: str) -> Contract:
    """The logged-in customer's contract, else 404 (another customer's or tenant's alike)."""
    account = await current_account(request)
    contract = await ContractRepository(tenant_of(request), account.customer).by_number(number)
    if contract is None:
        raise NotFoundException()
    return contract


def _month(value: str) -> str:
    if not MONTH.match(value or ""):
        raise NotFoundException()
    return value


def recorded(contract: Contract, month: str | None = None) -> bool:
    """Call details exist only for contracts that applied, from the month they start."""
    start = contract.call_details_from
    if not start:
        return False
    return month is None or month >= start


async def _apply(request: Request, contract: Contract, month: str | None) -> Response:
    """Why no call details are shown: the month is before recording started, or the contract has not applied
    (only a contract with a phone line may apply)."""
    has_phone = bool(await ContractRepository(tenant_of(request), contract.customer).phone_lines(contract))
    return render(request, "calls/apply.html", contract=contract, month=month, has_phone=has_phone)


@get("/calls/{number:str}", guards=GUARDS)
async def call_months(request: Request, number: FromPath[str]) -> Response:
    contract = await _contract(request, number)
    if not recorded(contract):
        return await _apply(request, contract, None)
    months = [m for m in await CallRepository(tenant_of(request), contract.id).months() if m >= contract.call_details_from]
    return render(request, "calls/months.html", contract=contract, months=months)


async def _contract_and_screen(request: Request, number: str, month: str) -> tuple[Contract, Screen | None]:
    """The customer's contract (else 404, as for a malformed month) and, when it records ``month``, the screen of
    it the query asks for. On PostgreSQL one statement reads both (the screen is left unused when the month is not
    recorded), with the session when the middleware could (``web/page_reads.py``)."""
    tenant = tenant_of(request)
    values = screen_values(tenant, number, month, request.query_params.get("page"))
    if values is None:
        raise NotFoundException()
    if reads_are_round_trips(Contract):
        account = await current_account(request)
        read_with_session = joined_page(request.scope, CONTRACT_WITH_SCREEN_WITH_SESSION, values)
        found = await contract_with_screen(tenant, account.customer, values, read_with_session)
        if found is None:
            raise NotFoundException()
        contract, screen = found
        return contract, screen if recorded(contract, month) else None
    contract = await _contract(request, number)
    if not recorded(contract, month):
        return contract, None
    page_size, offset = values[2:]
    return contract, await CallRepository(tenant, contract.id).screen(month, offset // page_size + 1, page_size)


@get("/calls/{number:str}/{month:str}", guards=GUARDS, opt={OPT_KEY: CONTRACT_WITH_SCREEN_WITH_SESSION})
async def call_month(request: Request, number: FromPath[str], month: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    page_size = tenant.config.features.call_details.page_size
    contract, screen = await _contract_and_screen(request, number, month)
    if screen is None:
        return await _apply(request, contract, month)
    totals, page, records = screen
    pages = max(1, -(-totals.count // page_size))
    rows = screen_rows(records)
    return render(
        request,
        "calls/month.html",
        contract=contract,
        month=month,
        rows=rows,
        totals=totals,
        page=page,
        pages=pages,
        encodings=tenant.config.features.call_details.csv_encodings,
    )


@get("/calls/{number:str}/{month:str}/csv", guards=GUARDS)
async def call_month_csv(request: Request, number: FromPath[str], month: FromPath[str]) -> Stream:
    contract = await _contract(request, number)
    month = _month(month)
    if not recorded(contract, month):
        raise NotFoundException()
    tenant = tenant_of(request)
    allowed = tenant.config.features.call_details.csv_encodings
    requested = ENCODINGS.get((request.query_params.get("encoding") or "").lower(), allowed[0])
    encoding = requested if requested in allowed else allowed[0]
    charset = "shift_jis" if encoding == "cp932" else "utf-8"
    filename = f"calls-{contract.number}-{month}.csv"
    return Stream(
        content=csv_chunks(CallRepository(tenant, contract.id), month, encoding),
        media_type="text/csv",
        encoding=charset,  # Litestar appends "; charset=<encoding>" to text/* types: the only charset
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


ROUTES = [call_months, call_month, call_month_csv]
