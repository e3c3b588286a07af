"""The only code that queries mailboxes; always within one tenant (and one customer where it is theirs)."""

from __future__ import annotations

from mypage.mailboxes.tables import Mailbox
from mypage.records.tables import Customer


class MailboxRepository:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def _select(self):
        return Mailbox.objects().where(Mailbox.tenant == self.tenant)

    async def customer(self, customer_id: int | None) -> Customer | None:
        if customer_id is None:
            return None
        return await Customer.objects().where(Customer.tenant == self.tenant).where(Customer.id == customer_id).first()

    async def of_customer(self, customer_id: int) -> list[Mailbox]:
        return await self._select().where(Mailbox.customer == customer_id).order_by(Mailbox.id)

    async def get(self, customer_id: int, mailbox_id: int) -> Mailbox | None:
        return await self._select().where(Mailbox.customer == customer_id).where(Mailbox.id == mailbox_id).first()

    async def count(self, customer_id: int) -> int:
        return await Mailbox.count().where(Mailbox.tenant == self.tenant).where(Mailbox.customer == customer_id)

    async def taken_subdomains(self, local_part: str) -> set[str]:
        """Subdomains already used with this local part, by any customer of the tenant."""
        rows = (
            await Mailbox.select(Mailbox.subdomain).where(Mailbox.tenant == self.tenant).where(Mailbox.local_part == local_part)
        )
        return {row["subdomain"] for row in rows}

    async def address_taken(self, address: str) -> bool:
        return await Mailbox.count().where(Mailbox.tenant == self.tenant).where(Mailbox.address == address) > 0

    async def create(self, **fields) -> Mailbox:
        mailbox = Mailbox(tenant=self.tenant, **fields)
        await mailbox.save()
        return mailbox

    async def set_virus_check(self, mailbox: Mailbox, on: bool) -> None:
        await (
            Mailbox.update({Mailbox.virus_check: on})
            .where(Mailbox.tenant == self.tenant)
            .where(Mailbox.id == mailbox.id)
            .where(Mailbox.customer == mailbox.customer)
        )

    async def set_password_hash(self, mailbox: Mailbox, password_hash: str) -> None:
        await (
            Mailbox.update({Mailbox.password_hash: password_hash})
            .where(Mailbox.tenant == self.tenant)
            .where(Mailbox.id == mailbox.id)
            .where(Mailbox.customer == mailbox.customer)
        )

    async def delete(self, mailbox: Mailbox) -> None:
        await (
            Mailbox.delete()
            .where(Mailbox.tenant == self.tenant)
            .where(Mailbox.id == mailbox.id)
            .where(Mailbox.customer == mailbox.customer)
        )
