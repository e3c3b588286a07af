"""The only code that queries add-on subscriptions; always within one tenant and one customer."""

from __future__ import annotations

from datetime import date

from mypage.addons.tables import AddonSubscription
from mypage.records.tables import Customer


class AddonRepository:
    def __init__(self, tenant: str):
        self.tenant = tenant

    async def customer(self, customer_id: int | None) -> Customer | None:
        if customer_id is None:
            return None
        return await Customer.objects().where(Customer.tenant == self.tenant).where(Customer.id == customer_id).first()

    async def active(self, customer_id: int, product: str) -> AddonSubscription | None:
        return (
            await AddonSubscription.objects()
            .where(AddonSubscription.tenant == self.tenant)
            .where(AddonSubscription.customer == customer_id)
            .where(AddonSubscription.product == product)
            .where(AddonSubscription.cancelled_on.is_null())
            .first()
        )

    async def create(self, **fields) -> AddonSubscription:
        row = AddonSubscription(tenant=self.tenant, **fields)
        await row.save()
        return row

    async def cancel(self, subscription: AddonSubscription, on: date) -> None:
        subscription.cancelled_on = on
        await (
            AddonSubscription.update({AddonSubscription.cancelled_on: on})
            .where(AddonSubscription.tenant == self.tenant)
            .where(AddonSubscription.id == subscription.id)
            .where(AddonSubscription.customer == subscription.customer)
        )
