"""The only code that reads a customer's contracts, documents and history.

A repository is built for one tenant and one customer: every query filters by both, so another
customer's or another tenant's contract number simply is not found.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from mypage.db.prepared import PreparedSelect, reads_are_round_trips, stored_object
from mypage.records.tables import (
    BillingGroup,
    Contract,
    ContractOption,
    Customer,
    Document,
    PhoneLine,
    ServiceHistory,
)
from mypage.tenancy.registry import Tenant
from mypage.web.page_reads import PageRead, read_alone_and_with_session

OPENING_NOTICE = "opening_notice"
INVOICE_PDF = "invoice_pdf"
"""A 請求書 uploaded as a PDF in the console for a contract (``documents.uploads``)."""
CONFIRMATION = "confirmation"


@dataclass
class ContractGroup:
    """Contracts billed and sent together (一括請求/一括送付)."""

    billing_group: BillingGroup | None
    contracts: list[Contract] = field(default_factory=list)


@dataclass
class ContractDetail:
    contract: Contract
    options: list[ContractOption]
    phone_lines: list[PhoneLine]
    opening_notices: list[Document]
    invoice_pdfs: list[Document] = field(default_factory=list)


def _detail(
    contract: Contract, options: list[ContractOption], lines: list[PhoneLine], documents: list[Document]
) -> ContractDetail:
    """A contract's detail from its rows; ``documents`` newest first, of every kind."""
    return ContractDetail(
        contract=contract,
        options=options,
        phone_lines=lines,
        opening_notices=[d for d in documents if d.kind == OPENING_NOTICE],
        invoice_pdfs=[d for d in documents if d.kind == INVOICE_PDF],
    )


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (0 when ``end`` is earlier)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def plausible_number(number: str) -> bool:
    """Whether ``number`` could be a contract number at all (anything else is not looked up)."""
    return bool(number) and len(number) <= 40


def _contracts_of(slug, customer_id):
    return Contract.select().where(Contract.tenant == slug).where(Contract.customer == customer_id).order_by(Contract.number)


_CONTRACTS = PreparedSelect(Contract, _contracts_of, arity=2)
_CONTRACT_COLUMNS = tuple(column._meta.name for column in Contract._meta.columns)
CONTRACTS_WITH_SESSION = PageRead(
    "SELECT ARRAY(SELECT ROW("
    + ", ".join(f'c."{column._meta.db_column_name}"' for column in Contract._meta.columns)
    + f') FROM {Contract._meta.tablename} c WHERE c.tenant = {{tenant}} AND c.customer = {{customer}} ORDER BY c.number) AS "page.contracts"',
    lambda params, tenant, _query: [] if tenant.config.features.enabled("contracts") else None,
)
"""The customer's contracts (as :meth:`ContractRepository.contracts`), read with the session (``web/page_reads.py``)."""
_CONTRACTS_IN_CATEGORY = PreparedSelect(
    Contract, lambda slug, customer_id, category: _contracts_of(slug, customer_id).where(Contract.category == category), arity=3
)
_CONTRACT_BY_NUMBER = PreparedSelect(
    Contract,
    lambda slug, customer_id, number: _contracts_of(slug, customer_id).where(Contract.number == number).limit(1),
    arity=3,
)
_OPTIONS = PreparedSelect(
    ContractOption,
    lambda slug, contract_id: (
        ContractOption.select()
        .where(ContractOption.tenant == slug)
        .where(ContractOption.contract == contract_id)
        .order_by(ContractOption.position)
    ),
    arity=2,
)
_PHONE_LINES = PreparedSelect(
    PhoneLine,
    lambda slug, contract_id: (
        PhoneLine.select().where(PhoneLine.tenant == slug).where(PhoneLine.contract == contract_id).order_by(PhoneLine.id)
    ),
    arity=2,
)
_CONTRACT_DOCUMENTS = PreparedSelect(
    Document,
    lambda slug, customer_id, contract_id: (
        Document.select()
        .where(Document.tenant == slug)
        .where(Document.customer == customer_id)
        .where(Document.contract == contract_id)
        .order_by(Document.issued_on, ascending=False)
        .order_by(Document.id, ascending=False)
    ),
    arity=3,
)

# PostgreSQL: the contract with its options, phone lines and documents in one statement (arrays of the tables'
# own row types, which asyncpg decodes into named records). The embedded database reads on the event loop for a
# fraction of a round trip's cost, so it keeps the four small reads above.
_DETAIL_SQL = f"""SELECT {{columns}},
  ARRAY(
    SELECT o FROM {ContractOption._meta.tablename} o WHERE o.tenant = {{tenant}} AND o.contract = c.id ORDER BY o.position
  ) AS {{options}},
  ARRAY(SELECT l FROM {PhoneLine._meta.tablename} l WHERE l.tenant = {{tenant}} AND l.contract = c.id ORDER BY l.id) AS {{phone_lines}},
  ARRAY(
    SELECT d FROM {Document._meta.tablename} d WHERE d.tenant = {{tenant}} AND d.customer = {{customer}} AND d.contract = c.id
    ORDER BY d.issued_on DESC, d.id DESC
  ) AS {{documents}}
FROM {Contract._meta.tablename} c WHERE c.tenant = {{tenant}} AND c.customer = {{customer}} AND c.number = $3
LIMIT 1"""
_DETAIL_IN_ONE, DETAIL_WITH_SESSION = read_alone_and_with_session(
    Contract,
    _DETAIL_SQL,
    ("options", "phone_lines", "documents"),
    lambda params, tenant, _query: (
        [params["number"]] if tenant.config.features.enabled("contracts") and plausible_number(params.get("number", "")) else None
    ),
)
"""The contract detail's read (:data:`_DETAIL_IN_ONE`) with the session (``web/page_reads.py``): no row when the
number is not one of the customer's contracts (its columns are then empty)."""


def category_counts(contracts: list[Contract]) -> dict[str, int]:
    """How many of ``contracts`` each category has."""
    return dict(Counter(contract.category for contract in contracts))


class ContractRepository:
    def __init__(self, tenant: Tenant, customer_id: int | None):
        self.tenant = tenant
        self.slug = tenant.slug
        self.customer_id = customer_id

    async def customer(self) -> Customer | None:
        if self.customer_id is None:
            return None
        return await Customer.objects().where(Customer.tenant == self.slug).where(Customer.id == self.customer_id).first()

    @staticmethod
    def contracts_read_with_session(page: dict) -> list[Contract]:
        """The contracts :data:`CONTRACTS_WITH_SESSION` read, as :meth:`contracts` gives them."""
        return [stored_object(Contract, dict(zip(_CONTRACT_COLUMNS, record, strict=True))) for record in page["contracts"] or ()]

    async def contracts(self, category: str | None = None) -> list[Contract]:
        if self.customer_id is None:
            return []
        if category:
            return await _CONTRACTS_IN_CATEGORY.objects(self.slug, self.customer_id, category)
        return await _CONTRACTS.objects(self.slug, self.customer_id)

    async def grouped(self, category: str | None = None) -> list[ContractGroup]:
        """Contracts per billing group (groups by code, contracts without a group last)."""
        contracts = await self.contracts(category)
        group_ids = sorted({c.billing_group for c in contracts if c.billing_group is not None})
        groups: dict[int | None, ContractGroup] = {}
        if group_ids:
            rows = await (
                BillingGroup.objects()
                .where(BillingGroup.tenant == self.slug)
                .where(BillingGroup.customer == self.customer_id)
                .where(BillingGroup.id.is_in(group_ids))
                .order_by(BillingGroup.code)
            )
            for row in rows:
                groups[row.id] = ContractGroup(row)
        for contract in contracts:
            key = contract.billing_group if contract.billing_group in groups else None
            if key is None and None not in groups:
                groups[None] = ContractGroup(None)
            groups[key].contracts.append(contract)
        ordered = [g for k, g in groups.items() if k is not None]
        if None in groups:
            ordered.append(groups[None])
        return ordered

    async def by_number(self, number: str) -> Contract | None:
        if self.customer_id is None or not plausible_number(number):
            return None
        found = await _CONTRACT_BY_NUMBER.objects(self.slug, self.customer_id, number)
        return found[0] if found else None

    async def options(self, contract: Contract) -> list[ContractOption]:
        return await _OPTIONS.objects(self.slug, contract.id)

    async def options_for(self, contracts: list[Contract]) -> dict[int, list[ContractOption]]:
        result: dict[int, list[ContractOption]] = {c.id: [] for c in contracts}
        if not contracts:
            return result
        rows = await (
            ContractOption.objects()
            .where(ContractOption.tenant == self.slug)
            .where(ContractOption.contract.is_in(list(result)))
            .order_by(ContractOption.position)
        )
        for row in rows:
            result[row.contract].append(row)
        return result

    async def phone_lines(self, contract: Contract) -> list[PhoneLine]:
        return await _PHONE_LINES.objects(self.slug, contract.id)

    async def documents(self, kind: str, contract: Contract | None = None) -> list[Document]:
        """The customer's documents of ``kind``, newest first (of one contract if given)."""
        if self.customer_id is None:
            return []
        if contract is not None:
            return [d for d in await self._contract_documents(contract) if d.kind == kind]
        return await (
            Document.objects()
            .where(Document.tenant == self.slug)
            .where(Document.customer == self.customer_id)
            .where(Document.kind == kind)
            .order_by(Document.issued_on, ascending=False)
            .order_by(Document.id, ascending=False)
        )

    async def _contract_documents(self, contract: Contract) -> list[Document]:
        """Every document of the customer's ``contract``, newest first (one query for the detail page's kinds)."""
        return await _CONTRACT_DOCUMENTS.objects(self.slug, self.customer_id, contract.id)

    async def detail(self, number: str) -> ContractDetail | None:
        if reads_are_round_trips(Contract):
            return await self._detail_in_one(number)
        contract = await self.by_number(number)
        if contract is None:
            return None
        documents = await self._contract_documents(contract)
        return _detail(contract, await self.options(contract), await self.phone_lines(contract), documents)

    async def _detail_in_one(self, number: str) -> ContractDetail | None:
        if self.customer_id is None or not plausible_number(number):
            return None
        return self.detail_of_row(await _DETAIL_IN_ONE.first(self.slug, self.customer_id, number))

    @staticmethod
    def detail_of_row(row: dict | None) -> ContractDetail | None:
        """A detail from the row of :data:`_DETAIL_IN_ONE` or :data:`DETAIL_WITH_SESSION` (None: no such contract)."""
        if row is None or row.get("id") is None:
            return None
        options, lines, documents = row.pop("_options"), row.pop("_phone_lines"), row.pop("_documents")
        return _detail(
            stored_object(Contract, row),
            [stored_object(ContractOption, dict(record)) for record in options],
            [stored_object(PhoneLine, dict(record)) for record in lines],
            [stored_object(Document, dict(record)) for record in documents],
        )

    async def add_history(self, happened_on: date, description: str) -> None:
        """Adds a row to the customer's サービス加入・変更履歴 (e.g. an add-on applied for or cancelled)."""
        if self.customer_id is None:
            return
        await ServiceHistory(
            tenant=self.slug, customer=self.customer_id, happened_on=happened_on, description=description[:300]
        ).save()

    async def history(self) -> list[ServiceHistory]:
        if self.customer_id is None:
            return []
        return await (
            ServiceHistory.objects()
            .where(ServiceHistory.tenant == self.slug)
            .where(ServiceHistory.customer == self.customer_id)
            .order_by(ServiceHistory.happened_on, ascending=False)
            .order_by(ServiceHistory.id, ascending=False)
        )
