"""インターネットセキュリティサービス: apply, status, cancel, and the upsell on the top page.

The product (name, monthly price, devices, supported OS, highlights) comes from the tenant's
``[features.security_addon]``; only customers with its ``requires_service`` may apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mypage import i18n
from mypage.addons.repository import AddonRepository
from mypage.addons.tables import AddonSubscription
from mypage.audit.log import AuditLog
from mypage.contracts.repository import ContractRepository
from mypage.db.locks import serialised
from mypage.i18n import gettext as _
from mypage.identity.tables import Account
from mypage.mail.outbox import enqueue
from mypage.records.tables import Customer
from mypage.tenancy.config import SecurityAddonFeature
from mypage.tenancy.registry import Tenant

PRODUCT = "security_addon"
# サービス加入・変更履歴 rows are records, stored in the records' language like imported ones (not per request locale).
HISTORY_APPLIED = "オプション加入: {name}"
HISTORY_CANCELLED = "オプション解約: {name}"


def has_service(customer: Customer | None, service: str) -> bool:
    if customer is None:
        return False
    return service in {s.strip() for s in (customer.services or "").split(",")}


@dataclass
class Status:
    product: SecurityAddonFeature
    customer: Customer | None
    eligible: bool
    subscription: AddonSubscription | None

    @property
    def active(self) -> bool:
        return self.subscription is not None


async def status_for(tenant: Tenant, account: Account, customer: Customer | None = None) -> Status | None:
    """``None`` where the tenant has no such product. ``customer``: the account's, when already read."""
    product = tenant.config.features.security_addon
    if product is None:
        return None
    repo = AddonRepository(tenant.slug)
    if customer is None or customer.id != account.customer:
        customer = await repo.customer(account.customer)
    eligible = has_service(customer, product.requires_service)
    subscription = await repo.active(customer.id, PRODUCT) if eligible else None
    return Status(product, customer, eligible, subscription)


async def upsell_for(tenant: Tenant, account: Account | None, customer: Customer | None = None) -> dict | None:
    """For the top page: the product to offer, or ``None`` (feature off, not eligible, or already applied).

    Use as ``render(..., security_upsell=await upsell_for(tenant, account))`` with
    ``{% include "partials/home_upsell.html" ignore missing %}`` in the home template.
    """
    if account is None:
        return None
    status = await status_for(tenant, account, customer)
    if status is None or not status.eligible or status.active:
        return None
    product = status.product
    return {
        "name": product.name,
        "price_yen": product.price_yen,
        "tax_included": product.tax_included,
        "devices": product.devices,
        "description": product.description,
        "href": "/security",
    }


class AddonError(Exception):
    pass


def _mail_context(tenant: Tenant, account: Account, customer: Customer, product: SecurityAddonFeature, on: date) -> dict:
    return {
        "product": product,
        "on": on,
        "display_name": account.display_name or account.nickname or customer.name,
    }


def _recipient(account: Account, customer: Customer) -> str:
    return account.email or customer.email or ""


async def _tell(
    portal, tenant: Tenant, account: Account, status: Status, on: date, *, template: str, event: str, address: str
) -> None:
    """Mails the customer (where there is an address to mail) and audits the change, inside the caller's transaction."""
    to = _recipient(account, status.customer)
    if to:
        await enqueue(
            portal, tenant, to=to, template=template, context=_mail_context(tenant, account, status.customer, status.product, on)
        )
    await AuditLog(tenant.slug).record(event, account_id=account.id, address=address, product=PRODUCT)


async def apply(portal, tenant: Tenant, account: Account, *, address: str = "", on: date | None = None) -> AddonSubscription:
    on = on or i18n.today(tenant.config.timezone)
    repo = AddonRepository(tenant.slug)
    not_eligible = _("インターネットサービスご契約のお客さまのみお申込みいただけます。")
    if account.customer is None:
        raise AddonError(not_eligible)
    # "At most one open subscription per customer and product": checked and written under the customer's lock.
    async with serialised(Customer, account.customer):
        status = await status_for(tenant, account)
        if status is None or not status.eligible:
            raise AddonError(not_eligible)
        if status.active:
            raise AddonError(_("既にお申込み済みです。"))
        product = status.product
        subscription = await repo.create(
            customer=status.customer.id,
            product=PRODUCT,
            product_name=product.name.ja,
            price_yen=product.price_yen,
            started_on=on,
            applied_by=account.id,
        )
        await ContractRepository(tenant, status.customer.id).add_history(on, HISTORY_APPLIED.format(name=product.name.ja))
        await _tell(portal, tenant, account, status, on, template="addon_applied", event="addon.applied", address=address)
    return subscription


async def cancel(portal, tenant: Tenant, account: Account, *, address: str = "", on: date | None = None) -> None:
    on = on or i18n.today(tenant.config.timezone)
    repo = AddonRepository(tenant.slug)
    if account.customer is None:
        raise AddonError(_("お申込み中のサービスはありません。"))
    async with serialised(Customer, account.customer):  # cancelled once: one mail, one audit event
        status = await status_for(tenant, account)
        if status is None or not status.active:
            raise AddonError(_("お申込み中のサービスはありません。"))
        await repo.cancel(status.subscription, on)
        await ContractRepository(tenant, status.customer.id).add_history(
            on, HISTORY_CANCELLED.format(name=status.product.name.ja)
        )
        await _tell(portal, tenant, account, status, on, template="addon_cancelled", event="addon.cancelled", address=address)
