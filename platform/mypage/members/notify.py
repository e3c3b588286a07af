"""お知らせメール to users with メール通知 あり when an invoice or opening notice is added or a notice posted.

Only on tenants with the ``members`` feature (where メール通知 is a setting users see).
"""

from __future__ import annotations

from mypage.db.transaction import atomic
from mypage.identity.tables import Account
from mypage.mail.outbox import enqueue
from mypage.tenancy.registry import Tenant

KINDS = {
    "invoice": "/billing",
    "opening_notice": "/",
    "notice": "/",
}
"""Kinds of news, with the portal page the mail points to (``context["path"]`` overrides it)."""


async def recipients(tenant: Tenant, customer_id: int | None) -> list[Account]:
    query = (
        Account.objects()
        .where(Account.tenant == tenant.slug)
        .where(Account.mail_notify == True)  # noqa: E712 (a Piccolo expression)
        .where(Account.status == "active")  # not a pending account (its first login is not done)
        .where(Account.email != "")
    )
    if customer_id is None:
        query = query.where(Account.customer.is_not_null())
    else:
        query = query.where(Account.customer == customer_id)
    accounts = await query.order_by(Account.id)
    seen: set[str] = set()
    unique = []
    for account in accounts:
        key = account.email.lower()
        if key not in seen:
            seen.add(key)
            unique.append(account)
    return unique


async def notify_members(portal, tenant: Tenant, customer_id: int | None, kind: str, context: dict | None = None) -> int:
    """Mails every user with メール通知 あり of the customer (``None``: of every customer, for notices).

    ``kind``: ``invoice``, ``opening_notice`` or ``notice``. ``context`` is passed to the mail template
    (e.g. ``month``, ``title``, ``path``). Returns the number of mails written to the outbox.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if not tenant.config.features.enabled("members"):
        return 0
    context = dict(context or {})
    path = context.pop("path", KINDS[kind])
    async with atomic():
        accounts = await recipients(tenant, customer_id)
        for account in accounts:
            await enqueue(
                portal,
                tenant,
                to=account.email,
                template="member_notification",
                context={
                    **context,
                    "kind": kind,
                    "display_name": account.display_name,
                    "url": f"{portal.base_url(tenant)}{path}",
                },
            )
    return len(accounts)
