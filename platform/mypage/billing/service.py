"""Billing rules: consumption tax per invoice and rate, and which billing months a customer may see.

Tax (適格請求書 / qualified invoice rules)
------------------------------------------
Invoice lines store amounts **excluding** tax. Tax is computed per invoice and per rate: the lines of
one rate are summed first (対象計), then the tax of that sum is rounded **once** — never line by
line. The qualified-invoice system allows one rounding per rate per invoice and leaves the direction
to the issuer; we truncate (1円未満切り捨て), as most operators' invoices do. Truncation is towards
zero, so a rate whose net base is negative (a discount larger than the charges) gets the smaller
credit, never a larger one: ``-105 * 10% = -10.5 -> -10``.

Rates: 10 (standard), 8 (軽減税率, reduced) and 0 (not taxed: deposits, stamp duty...). A 0% line is
part of the total but has no 対象計/消費税 rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

STANDARD_RATE = 10
REDUCED_RATE = 8
RATES = (STANDARD_RATE, REDUCED_RATE)


def tax_for(base: int, rate: int) -> int:
    """The consumption tax of a per-rate base: ``base * rate / 100`` truncated towards zero."""
    if rate < 0:
        raise ValueError("rate must not be negative")
    product = abs(base) * rate
    tax = product // 100
    return tax if base >= 0 else -tax


@dataclass(frozen=True)
class RateTotal:
    rate: int
    base: int
    """対象計: the sum of the rate's lines, excluding tax."""
    tax: int
    """消費税 of ``base``, rounded once."""

    @property
    def total(self) -> int:
        return self.base + self.tax

    @property
    def reduced(self) -> bool:
        return self.rate == REDUCED_RATE


@dataclass(frozen=True)
class Totals:
    rates: list[RateTotal] = field(default_factory=list)
    """Taxed rates present on the invoice, highest rate first (10% then 8%)."""
    untaxed: int = 0
    """Sum of 0% lines (不課税・非課税)."""
    has_untaxed: bool = False

    @property
    def subtotal(self) -> int:
        """Amount excluding tax (all lines)."""
        return sum(r.base for r in self.rates) + self.untaxed

    @property
    def tax(self) -> int:
        return sum(r.tax for r in self.rates)

    @property
    def total(self) -> int:
        """ご請求金額 (税込): every line plus the tax of every rate."""
        return self.subtotal + self.tax

    def rate(self, rate: int) -> RateTotal | None:
        return next((r for r in self.rates if r.rate == rate), None)


def compute_totals(lines: Iterable) -> Totals:
    """Totals of an invoice from its lines (objects or dicts with ``amount`` and ``tax_rate``)."""
    bases: dict[int, int] = {}
    untaxed = 0
    has_untaxed = False
    for line in lines:
        amount = int(_get(line, "amount") or 0)
        rate = int(_get(line, "tax_rate") or 0)
        if rate < 0:
            raise ValueError(f"negative tax rate {rate}")
        if rate == 0:
            untaxed += amount
            has_untaxed = True
        else:
            bases[rate] = bases.get(rate, 0) + amount
    rates = [RateTotal(rate, base, tax_for(base, rate)) for rate, base in sorted(bases.items(), reverse=True)]
    return Totals(rates=rates, untaxed=untaxed, has_untaxed=has_untaxed)


def _get(line, name: str):
    return line[name] if isinstance(line, dict) else getattr(line, name)


# --- which months are visible -------------------------------------------------------------------


def visible_months(months_with_invoices: Iterable[str], *, limit: int, earliest: str) -> list[str]:
    """The billing months shown: newest first, at most ``limit``, none before ``earliest`` (``YYYY-MM``)."""
    distinct = sorted({m for m in months_with_invoices if m and m >= earliest}, reverse=True)
    return distinct[:limit]


def fiscal_year_of(month: str, start_month: int = 1) -> int:
    """The (fiscal) year a ``YYYY-MM`` month belongs to; ``start_month=4`` gives the April–March 年度."""
    year, mon = (int(p) for p in month.split("-")[:2])
    return year if mon >= start_month else year - 1


# --- statements: invoices with their lines and totals ---------------------------------------------


@dataclass
class ContractLines:
    number: str
    service: str
    lines: list[dict]


@dataclass
class InvoiceView:
    invoice: dict
    lines: list[dict]
    totals: Totals

    @property
    def number(self) -> str:
        return self.invoice["number"]

    @property
    def month(self) -> str:
        return self.invoice["month"]

    @property
    def by_contract(self) -> list[ContractLines]:
        """Lines grouped by contract, in line order (lines without a contract last)."""
        groups: dict[str, ContractLines] = {}
        for line in self.lines:
            key = line.get("contract_number") or ""
            if key not in groups:
                groups[key] = ContractLines(key, line.get("contract_service") or "", [])
            groups[key].lines.append(line)
        return sorted(groups.values(), key=lambda g: g.number == "")


@dataclass
class MonthView:
    month: str
    invoices: list[InvoiceView]

    @property
    def total(self) -> int:
        return sum(i.totals.total for i in self.invoices)


def _views(invoices: list[dict], lines: list[dict]) -> list[InvoiceView]:
    by_invoice: dict[int, list[dict]] = {}
    for line in lines:
        by_invoice.setdefault(line["invoice"], []).append(line)
    return [InvoiceView(inv, by_invoice.get(inv["id"], []), compute_totals(by_invoice.get(inv["id"], []))) for inv in invoices]


def _months(views: list[InvoiceView], months: list[str]) -> list[MonthView]:
    return [MonthView(m, [v for v in views if v.month == m]) for m in months]


class Statements:
    """What the customer may see of their invoices, per the tenant's ``[features.billing]``."""

    def __init__(self, repo, config):
        self.repo = repo
        self.config = config

    async def months(self) -> list[str]:
        return visible_months(await self.repo.invoice_months(), limit=self.config.months, earliest=self.config.earliest_month)

    async def month_list(self) -> list[MonthView]:
        months = await self.months()
        invoices = await self.repo.invoices_in(months)
        lines = await self.repo.lines_of([i["id"] for i in invoices])
        return _months(_views(invoices, lines), months)

    async def month(self, month: str) -> MonthView | None:
        if month not in await self.months():
            return None
        invoices = await self.repo.invoices_in([month])
        lines = await self.repo.lines_of([i["id"] for i in invoices])
        return MonthView(month, _views(invoices, lines))

    async def invoice(self, number: str) -> InvoiceView | None:
        invoice = await self.repo.invoice_by_number(number)
        if invoice is None or invoice["month"] not in await self.months():
            return None
        return _views([invoice], await self.repo.lines_of([invoice["id"]]))[0]

    async def years(self, contract_id: int | None = None) -> dict[int, list[str]]:
        """年度 -> its visible months (newest first) that have lines (of the contract, when given)."""
        months = await self.months()
        if contract_id is not None:
            with_lines = set(await self.repo.invoice_months(contract_id=contract_id))
            months = [m for m in months if m in with_lines]
        years: dict[int, list[str]] = {}
        for m in months:
            years.setdefault(fiscal_year_of(m, self.config.fiscal_year_start_month), []).append(m)
        return dict(sorted(years.items(), reverse=True))

    async def year(self, months: list[str], contract_id: int | None = None) -> list[MonthView]:
        """The months of one 年度; with a contract, only its lines and totals over them."""
        invoices = await self.repo.invoices_in(months)
        lines = await self.repo.lines_of([i["id"] for i in invoices], contract_id=contract_id)
        views = [v for v in _views(invoices, lines) if v.lines or contract_id is None]
        return _months(views, months)
