"""The only code that queries inquiries and paper stops; always within one tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mypage.inquiries.tables import Inquiry, InquiryMessage, PaperStop
from mypage.records.tables import Contract, Customer, PhoneLine


@dataclass
class InboxFilter:
    """The staff inbox's filters (all optional)."""

    state: str = ""
    category: str = ""
    since: datetime | None = None
    until: datetime | None = None
    customer_number: str = ""
    assignee_id: int | None = None


class InquiryRepository:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def _select(self):
        return Inquiry.objects().where(Inquiry.tenant == self.tenant)

    async def create(self, **fields) -> Inquiry:
        inquiry = Inquiry(tenant=self.tenant, **fields)
        await inquiry.save()
        return inquiry

    async def by_id(self, inquiry_id: int) -> Inquiry | None:
        return await self._select().where(Inquiry.id == inquiry_id).first()

    async def of_customer(self, customer_id: int, inquiry_id: int) -> Inquiry | None:
        return await self._select().where(Inquiry.id == inquiry_id).where(Inquiry.customer == customer_id).first()

    async def listing(self, *, status: str | None = None, limit: int = 200) -> list[Inquiry]:
        query = self._select()
        if status:
            query = query.where(Inquiry.status == status)
        return await query.order_by(Inquiry.id, ascending=False).limit(limit)

    async def of_account(self, account_id: int, inquiry_id: int) -> Inquiry | None:
        return await self._select().where(Inquiry.id == inquiry_id).where(Inquiry.account == account_id).first()

    async def account_threads(self, account_id: int, limit: int = 50) -> list[Inquiry]:
        return await self._select().where(Inquiry.account == account_id).order_by(Inquiry.id, ascending=False).limit(limit)

    async def inbox(self, wanted: InboxFilter, limit: int = 200) -> list[Inquiry]:
        query = self._select()
        if wanted.state:
            query = query.where(Inquiry.state == wanted.state)
        if wanted.category:
            query = query.where(Inquiry.category == wanted.category)
        if wanted.since is not None:
            query = query.where(Inquiry.created_at >= wanted.since)
        if wanted.until is not None:
            query = query.where(Inquiry.created_at < wanted.until)
        if wanted.assignee_id is not None:
            query = query.where(Inquiry.assignee_id == wanted.assignee_id)
        if wanted.customer_number:
            customer = await self.customer_by_number(wanted.customer_number)
            if customer is None:
                return []
            query = query.where(Inquiry.customer == customer.id)
        return await query.order_by(Inquiry.id, ascending=False).limit(limit)

    async def customer_by_number(self, number: str) -> Customer | None:
        return await Customer.objects().where(Customer.tenant == self.tenant).where(Customer.number == number).first()

    async def customers_by_id(self, ids: list[int]) -> dict[int, Customer]:
        if not ids:
            return {}
        rows = await Customer.objects().where(Customer.tenant == self.tenant).where(Customer.id.is_in(list(set(ids))))
        return {row.id: row for row in rows}

    async def sent_since(self, account_id: int, since: datetime) -> int:
        """Inquiries and answers the account sent since ``since`` (one hourly limit covers both)."""
        inquiries = (
            await Inquiry.count()
            .where(Inquiry.tenant == self.tenant)
            .where(Inquiry.account == account_id)
            .where(Inquiry.created_at >= since)
        )
        answers = (
            await InquiryMessage.count()
            .where(InquiryMessage.tenant == self.tenant)
            .where(InquiryMessage.account == account_id)
            .where(InquiryMessage.author == "customer")
            .where(InquiryMessage.created_at >= since)
        )
        return inquiries + answers

    # --- the thread ---

    async def messages(self, inquiry_id: int, *, with_notes: bool) -> list[InquiryMessage]:
        query = InquiryMessage.objects().where(InquiryMessage.tenant == self.tenant).where(InquiryMessage.inquiry == inquiry_id)
        if not with_notes:
            query = query.where(InquiryMessage.author != "note")
        return await query.order_by(InquiryMessage.id)

    async def add_message(self, inquiry_id: int, **fields) -> InquiryMessage:
        message = InquiryMessage(tenant=self.tenant, inquiry=inquiry_id, **fields)
        await message.save()
        return message

    async def decide(self, inquiry: Inquiry, **fields) -> None:
        for name, value in fields.items():
            setattr(inquiry, name, value)
        await (
            Inquiry.update({getattr(Inquiry, k): v for k, v in fields.items()})
            .where(Inquiry.tenant == self.tenant)
            .where(Inquiry.id == inquiry.id)
        )

    # --- contracts with phone lines (通話明細記録) ---

    async def phone_contracts(self, customer_id: int) -> list[Contract]:
        contracts = (
            await Contract.objects()
            .where(Contract.tenant == self.tenant)
            .where(Contract.customer == customer_id)
            .order_by(Contract.number)
        )
        if not contracts:
            return []
        rows = (
            await PhoneLine.select(PhoneLine.contract)
            .where(PhoneLine.tenant == self.tenant)
            .where(PhoneLine.contract.is_in([c.id for c in contracts]))
        )
        with_lines = {row["contract"] for row in rows}
        return [c for c in contracts if c.id in with_lines]

    async def set_call_details_from(self, contract_ids: list[int], month: str) -> None:
        if contract_ids:
            await (
                Contract.update({Contract.call_details_from: month})
                .where(Contract.tenant == self.tenant)
                .where(Contract.id.is_in(contract_ids))
            )

    # --- paper stops ---

    async def paper_stop(self, customer_id: int, kind: str) -> PaperStop | None:
        return (
            await PaperStop.objects()
            .where(PaperStop.tenant == self.tenant)
            .where(PaperStop.customer == customer_id)
            .where(PaperStop.kind == kind)
            .first()
        )

    async def record_paper_stop(self, customer_id: int, kind: str, effective_from: str, inquiry_id: int) -> None:
        if await self.paper_stop(customer_id, kind) is None:
            await PaperStop.insert(
                PaperStop(
                    tenant=self.tenant, customer=customer_id, kind=kind, effective_from=effective_from, inquiry_id=inquiry_id
                )
            )
