"""The only code that queries お知らせ; always within one tenant, except the scheduler's look-up of notices
due to be mailed (named so)."""

from __future__ import annotations

import time
from datetime import date, datetime

from mypage import i18n
from mypage.db.base import utcnow
from mypage.notices.tables import Notice
from mypage.tenancy.registry import Tenant

NOTICE_CACHE_SECONDS = 60
"""How long a worker reuses a tenant's latest お知らせ (every logged-in home page shows them): a notice
posted through another process, or one whose scheduled time has come, shows within this time; one posted
through this process at once. A cached list is never kept past the 掲載終了 of a notice in it."""

_latest_notices: dict[tuple[str, int, date], tuple[float, list[Notice]]] = {}
"""(monotonic time until which the list is fresh, the list) by (tenant, limit, local day)."""


def forget_notices(slug: str | None = None) -> None:
    """A notice was posted for the tenant (``None``: for every tenant): its cached list is stale here."""
    for key in [k for k in _latest_notices if slug is None or k[0] == slug]:
        _latest_notices.pop(key, None)


def _shown(now: datetime, today: date):
    return (
        (Notice.draft == False)  # noqa: E712 (a Piccolo expression)
        & (Notice.published_on <= today)
        & (Notice.publish_at.is_null() | (Notice.publish_at <= now))
        & (Notice.expires_at.is_null() | (Notice.expires_at > now))
    )


class NoticeRepository:
    def __init__(self, tenant: Tenant):
        self.slug = tenant.slug

    def _select(self):
        return Notice.objects().where(Notice.tenant == self.slug)

    async def latest(self, limit: int = 5, today: date | None = None) -> list[Notice]:
        """What the portal shows: pinned first, then the newest."""
        today = today or i18n.today()
        key = (self.slug, limit, today)
        cached = _latest_notices.get(key)
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        now = utcnow()
        notices = await (
            self._select()
            .where(_shown(now, today))
            .order_by(Notice.pinned, ascending=False)
            .order_by(Notice.published_on, ascending=False)
            .order_by(Notice.id, ascending=False)
            .limit(limit)
        )
        lifetime = float(NOTICE_CACHE_SECONDS)
        for notice in notices:
            if notice.expires_at is not None:
                lifetime = min(lifetime, (notice.expires_at - now).total_seconds())
        _latest_notices[key] = (time.monotonic() + lifetime, notices)
        return notices

    async def every(self, limit: int = 200) -> list[Notice]:
        """The console's list: newest first, drafts and expired ones included."""
        return await self._select().order_by(Notice.id, ascending=False).limit(limit)

    async def by_id(self, notice_id: int) -> Notice | None:
        return await self._select().where(Notice.id == notice_id).first()

    async def create(self, **fields) -> Notice:
        notice = Notice(tenant=self.slug, **fields)
        await notice.save()
        return notice

    async def change(self, notice: Notice, **fields) -> None:
        for name, value in fields.items():
            setattr(notice, name, value)
        await (
            Notice.update({getattr(Notice, k): v for k, v in fields.items()})
            .where(Notice.tenant == self.slug)
            .where(Notice.id == notice.id)
        )

    async def claim_for_mailing(self, notice: Notice) -> bool:
        """Marks the notice as mailed unless another worker already did; ``True`` for the one that did."""
        now = utcnow()
        claimed = await (
            Notice.update({Notice.notified_at: now})
            .where(Notice.tenant == self.slug)
            .where(Notice.id == notice.id)
            .where(Notice.notified_at.is_null())
            .returning(Notice.id)
        )
        if claimed:
            notice.notified_at = now
        return bool(claimed)


async def due_for_mailing_all_tenants(limit: int = 50) -> list[dict]:
    """Published notices whose time has come and whose mails are not written yet, of every tenant (the
    scheduler's round). Only notices published with a time (``publish_at``) are ever mailed this way."""
    now = utcnow()
    return await (
        Notice.select(Notice.id, Notice.tenant)
        .where(Notice.draft == False)  # noqa: E712
        .where(Notice.publish_at.is_not_null())
        .where(Notice.publish_at <= now)
        .where(Notice.notified_at.is_null())
        .where(Notice.expires_at.is_null() | (Notice.expires_at > now))
        .order_by(Notice.id)
        .limit(limit)
    )
