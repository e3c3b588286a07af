"""Writes branded, localized mail to the outbox (inside the caller's transaction)."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime
from email.utils import formataddr, parseaddr

from mypage import i18n
from mypage.mail.tables import OutboxMail
from mypage.tenancy.registry import Tenant


async def enqueue(
    portal, tenant: Tenant, *, to: str, template: str, context: dict | None = None, locale: str | None = None
) -> OutboxMail:
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
    sender = formataddr((config.mail.sender_name.get(locale), config.mail.sender))
    return await store(tenant.slug, sender=sender, to=to, subject=subject, text_body=text_body, html_body=html_body)


async def store(scope: str, *, sender: str, to: str, subject: str, text_body: str, html_body: str) -> OutboxMail:
    """Stores a rendered mail in the outbox under ``scope`` (a tenant's slug, or the platform's scope)."""
    mail = OutboxMail(tenant=scope, sender=sender, recipient=to, subject=subject, text_body=text_body, html_body=html_body)
    await mail.save()
    return mail


def message_id(row: dict, secret_key: str) -> str:
    """The mail's Message-ID, the same on every delivery attempt: ``<outbox-{id}.{hmac8}@{sender domain}>``.

    Delivery is at least once (a relay that accepts a mail but answers too late gets it again), so receivers
    must be able to drop the repeat by its Message-ID. It is derived from the stored row (id, tenant,
    created_at) with a keyed hash, so it is fixed from the moment the mail is enqueued and needs no column;
    the hash keeps outbox ids from being guessable or forgeable in it. The domain is the tenant's sender
    domain (its mail identity).
    """
    created = row.get("created_at")
    if isinstance(created, datetime):
        created = (created if created.tzinfo else created.replace(tzinfo=UTC)).astimezone(UTC)
        created = created.strftime("%Y%m%dT%H%M%S.%fZ")
    material = f"{row['tenant']}|{row['id']}|{created}".encode()
    digest = hmac.new(secret_key.encode(), material, hashlib.sha256).hexdigest()[:8]
    _, at, domain = parseaddr(row.get("sender") or "")[1].rpartition("@")
    domain = domain.strip().lower()
    if not at or not re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", domain):
        domain = f"{row['tenant']}.invalid"
    return f"<outbox-{row['id']}.{digest}@{domain}>"


async def recent_mail_all_tenants(limit: int = 200, tenant: str | None = None) -> list[dict]:
    """Newest mail first, across tenants (the development mail viewer only)."""
    query = OutboxMail.select().order_by(OutboxMail.id, ascending=False).limit(limit)
    if tenant:
        query = query.where(OutboxMail.tenant == tenant)
    return await query


async def mail_by_id_all_tenants(mail_id: int) -> dict | None:
    """One mail by id, whatever its tenant (the development mail viewer only)."""
    return await OutboxMail.select().where(OutboxMail.id == mail_id).first()


async def backlog(tenant: str) -> dict[str, int]:
    """The tenant's mail not sent yet: ``waiting`` in all, of which ``failing`` had at least one failed attempt."""
    unsent = OutboxMail.count().where(OutboxMail.tenant == tenant).where(OutboxMail.sent_at.is_null())
    failing = (
        OutboxMail.count().where(OutboxMail.tenant == tenant).where(OutboxMail.sent_at.is_null()).where(OutboxMail.attempts > 0)
    )
    return {"waiting": await unsent, "failing": await failing}
