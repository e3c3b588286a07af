"""Writes branded, localized mail to the outbox (inside the caller's transaction)."""

from __future__ import annotations

from email.utils import formataddr

from mypage import i18n
from mypage.mail.tables import OutboxMail
from mypage.tenancy.registry import Tenant


async def enqueue(portal, tenant: Tenant, *, to: str, template: str, context: dict | None = None, locale: str | None = None) -> OutboxMail:
    """Renders ``mail/<template>.subject.txt``, ``.txt`` and ``.html`` for the tenant and stores the mail.

    Call it inside the same ``atomic()`` block as the change that causes the mail.
    """
    locale = locale or i18n.current_locale()
    token = i18n.set_locale(locale)
    zone_token = i18n.set_zone(tenant.config.timezone)
    try:
        templates = portal.templates_for(tenant)
        config = tenant.config
        ctx = {
            "tenant": config,
            "locale": locale,
            "ltext": lambda phrase: phrase.get(locale) if phrase is not None else "",
            "base_url": portal.base_url(tenant),
            **(context or {}),
        }
        subject = templates.render(f"mail/{template}.subject.txt", ctx).strip()
        text_body = templates.render(f"mail/{template}.txt", ctx)
        html_body = templates.render(f"mail/{template}.html", ctx)
    finally:
        i18n._current_locale.reset(token)
        i18n._current_zone.reset(zone_token)
    mail = OutboxMail(
        tenant=tenant.slug,
        sender=formataddr((config.mail.sender_name.get(locale), config.mail.sender)),
        recipient=to,
        subject=subject,
        text_body=text_body,
        html_body=html_body,
    )
    await mail.save()
    return mail


async def recent_mail_all_tenants(limit: int = 200, tenant: str | None = None) -> list[dict]:
    """Newest mail first, across tenants (the development mail viewer only)."""
    query = OutboxMail.select().order_by(OutboxMail.id, ascending=False).limit(limit)
    if tenant:
        query = query.where(OutboxMail.tenant == tenant)
    return await query


async def mail_by_id_all_tenants(mail_id: int) -> dict | None:
    """One mail by id, whatever its tenant (the development mail viewer only)."""
    return await OutboxMail.select().where(OutboxMail.id == mail_id).first()
