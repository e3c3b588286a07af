"""The only code that queries billing data: always one tenant and one customer."""

from __future__ import annotations

from mypage.billing.tables import PaymentCard
from mypage.db.prepared import PreparedSelect, PreparedSQL, reads_are_round_trips
from mypage.records.tables import BillingGroup, Contract, Customer, Invoice, InvoiceLine
from mypage.tenancy.registry import Tenant
from mypage.web.page_reads import PageRead

_INVOICE_MONTHS = PreparedSelect(
    Invoice,
    lambda slug, customer_id: (
        Invoice.select(Invoice.month).where(Invoice.tenant == slug).where(Invoice.customer == customer_id).distinct()
    ),
    arity=2,
)
_CONTRACTS = PreparedSelect(
    Contract,
    lambda slug, customer_id: (
        Contract.select(Contract.id, Contract.number, Contract.service_name, Contract.plan_name)
        .where(Contract.tenant == slug)
        .where(Contract.customer == customer_id)
        .order_by(Contract.number)
    ),
    arity=2,
)


def _invoices_of(slug, customer_id):
    return (
        Invoice.select(
            Invoice.all_columns(),
            Invoice.billing_group.name.as_alias("billing_group_name"),
            Invoice.billing_group.code.as_alias("billing_group_code"),
        )
        .where(Invoice.tenant == slug)
        .where(Invoice.customer == customer_id)
    )


# The reads of one invoice (its PDF, a month's page), built once: Piccolo took longer to build these queries
# than SQLite to answer them.
_INVOICE_BY_NUMBER = PreparedSelect(
    Invoice,
    lambda slug, customer_id, number: _invoices_of(slug, customer_id).where(Invoice.number == number).limit(1),
    arity=3,
)
_INVOICES_OF_MONTH = PreparedSelect(
    Invoice,
    lambda slug, customer_id, month: _invoices_of(slug, customer_id).where(Invoice.month == month).order_by(Invoice.number),
    arity=3,
)


def _lines(slug):
    """Invoice lines of the tenant with their contract's number and service."""
    return InvoiceLine.select(
        InvoiceLine.all_columns(),
        InvoiceLine.contract.number.as_alias("contract_number"),
        InvoiceLine.contract.service_name.as_alias("contract_service"),
    ).where(InvoiceLine.tenant == slug)


_LINES_OF_INVOICE = PreparedSelect(
    InvoiceLine,
    lambda slug, invoice_id: _lines(slug).where(InvoiceLine.invoice == invoice_id).order_by(InvoiceLine.position),
    arity=2,
)
_CUSTOMER = PreparedSelect(
    Customer,
    lambda slug, customer_id: Customer.select().where(Customer.tenant == slug).where(Customer.id == customer_id).limit(1),
    arity=2,
)

_CONTRACT_FIELDS = ("id", "number", "service_name", "plan_name")
# PostgreSQL: both reads of the fiscal-year index in one statement (the contracts as anonymous records).
_MONTHS_AND_CONTRACTS_SQL = f"""SELECT
  ARRAY(SELECT DISTINCT month FROM {Invoice._meta.tablename} WHERE tenant = {{tenant}} AND customer = {{customer}}) AS {{months}},
  ARRAY(
    SELECT ROW({", ".join(_CONTRACT_FIELDS)}) FROM {Contract._meta.tablename} WHERE tenant = {{tenant}} AND customer = {{customer}}
    ORDER BY number
  ) AS {{contracts}}"""
_MONTHS_AND_CONTRACTS = PreparedSQL(
    Invoice, _MONTHS_AND_CONTRACTS_SQL.format(tenant="$1", customer="$2", months="months", contracts="contracts")
)
MONTHS_AND_CONTRACTS_WITH_SESSION = PageRead(
    _MONTHS_AND_CONTRACTS_SQL.format(
        tenant="{tenant}", customer="{customer}", months='"page.months"', contracts='"page.contracts"'
    ),
    lambda params, tenant, _query: [] if fiscal_year_index(tenant) else None,
)
"""The same, read with the session (``web/page_reads.py``): the fiscal-year billing index's reads."""


def fiscal_year_index(tenant: Tenant) -> bool:
    """Whether the tenant's billing index is the fiscal-year one (invoice months and contracts)."""
    features = tenant.config.features
    return features.enabled("billing") and features.billing.layout == "fiscal_year"


class BillingRepository:
    """Invoices, lines and the payment method of ``customer_id`` within ``tenant``."""

    def __init__(self, tenant: Tenant, customer_id: int):
        self.slug = tenant.slug
        self.customer_id = customer_id
        self._read_ahead: tuple[list[str], list[dict]] | None = None

    async def read_ahead_months_and_contracts(self, read_with_session: dict | None = None) -> None:
        """On PostgreSQL, reads the invoice months and the contracts together, for the next
        :meth:`invoice_months` (of every contract) and :meth:`contracts` of this repository (one request's);
        ``read_with_session``: what :data:`MONTHS_AND_CONTRACTS_WITH_SESSION` read, if it did."""
        if read_with_session or reads_are_round_trips(Invoice):
            row = read_with_session or await _MONTHS_AND_CONTRACTS.first(self.slug, self.customer_id)
            if row is not None:
                contracts = [dict(zip(_CONTRACT_FIELDS, record, strict=True)) for record in row["contracts"]]
                self._read_ahead = (list(row["months"]), contracts)

    async def customer(self) -> dict | None:
        return await _CUSTOMER.first(self.slug, self.customer_id)

    async def invoice_months(self, *, contract_id: int | None = None) -> list[str]:
        """Months that have an invoice (with a line of ``contract_id`` when given)."""
        if contract_id is None:
            if self._read_ahead is not None:
                return self._read_ahead[0]
            return [r["month"] for r in await _INVOICE_MONTHS.run(self.slug, self.customer_id)]
        rows = await (
            InvoiceLine.select(InvoiceLine.invoice.month.as_alias("month"))
            .where(InvoiceLine.tenant == self.slug)
            .where(InvoiceLine.contract == contract_id)
            .where(InvoiceLine.invoice.customer == self.customer_id)
            .distinct()
        )
        return [r["month"] for r in rows]

    async def invoices_in(self, months: list[str]) -> list[dict]:
        if not months:
            return []
        if len(months) == 1:
            return await _INVOICES_OF_MONTH.run(self.slug, self.customer_id, months[0])
        return (
            await _invoices_of(self.slug, self.customer_id)
            .where(Invoice.month.is_in(months))
            .order_by(Invoice.month, ascending=False)
            .order_by(Invoice.number)
        )

    async def invoice_by_number(self, number: str) -> dict | None:
        return await _INVOICE_BY_NUMBER.first(self.slug, self.customer_id, number)

    async def lines_of(self, invoice_ids: list[int], *, contract_id: int | None = None) -> list[dict]:
        if not invoice_ids:
            return []
        if len(invoice_ids) == 1 and contract_id is None:
            return await _LINES_OF_INVOICE.run(self.slug, invoice_ids[0])
        query = _lines(self.slug).where(InvoiceLine.invoice.is_in(invoice_ids))
        if contract_id is not None:
            query = query.where(InvoiceLine.contract == contract_id)
        return await query.order_by(InvoiceLine.invoice).order_by(InvoiceLine.position)

    async def contract_by_number(self, number: str) -> dict | None:
        return (
            await Contract.select()
            .where(Contract.tenant == self.slug)
            .where(Contract.customer == self.customer_id)
            .where(Contract.number == number)
            .first()
        )

    async def contracts(self) -> list[dict]:
        if self._read_ahead is not None:
            return self._read_ahead[1]
        return await _CONTRACTS.run(self.slug, self.customer_id)

    async def billing_group(self, group_id: int | None) -> dict | None:
        if group_id is None:
            return None
        return (
            await BillingGroup.select()
            .where(BillingGroup.tenant == self.slug)
            .where(BillingGroup.customer == self.customer_id)
            .where(BillingGroup.id == group_id)
            .first()
        )

    # --- payment method ---------------------------------------------------------------------

    async def card(self) -> dict | None:
        return (
            await PaymentCard.select()
            .where(PaymentCard.tenant == self.slug)
            .where(PaymentCard.customer == self.customer_id)
            .first()
        )

    async def save_card(self, *, gateway: str, token: str, brand: str, last4: str, exp_month: int, exp_year: int) -> None:
        """Replaces the customer's card and makes card payment the customer's method (call inside ``atomic()``)."""
        values = {
            "gateway": gateway,
            "token": token,
            "brand": brand,
            "last4": last4,
            "exp_month": exp_month,
            "exp_year": exp_year,
        }
        updated = await (
            PaymentCard.update({getattr(PaymentCard, k): v for k, v in values.items()})
            .where(PaymentCard.tenant == self.slug)
            .where(PaymentCard.customer == self.customer_id)
            .returning(PaymentCard.id)
        )
        if not updated:
            await PaymentCard.insert(PaymentCard(tenant=self.slug, customer=self.customer_id, **values))
        await (
            Customer.update({Customer.payment_method: "card", Customer.card_last4: last4})
            .where(Customer.tenant == self.slug)
            .where(Customer.id == self.customer_id)
        )
