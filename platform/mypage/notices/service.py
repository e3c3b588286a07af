"""お知らせ rules: write (as a draft), publish now or at a time, expire, pin; the safe rendering of the body; and
the mails to members with メール通知 あり (``members.notify``), written when a notice is published.

A notice published for now is mailed in the same transaction as its publication. A notice scheduled for
later is mailed by :func:`mail_due_notices`, which the background worker (:mod:`mypage.jobs.worker`, a task
of every server process started in the lifespan) runs every round: each due notice is claimed by one
conditional UPDATE, so several processes mail it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from markdown_it import MarkdownIt
from markupsafe import Markup

from mypage.audit.actor import Actor, record_action
from mypage.audit.log import AuditLog
from mypage.db.base import utcnow
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.members.notify import notify_members
from mypage.notices.repository import NoticeRepository, due_for_mailing_all_tenants, forget_notices
from mypage.notices.tables import Notice
from mypage.tenancy.registry import Tenant

TITLE_MAX = 200
BODY_MAX = 5000

_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).disable(
    ["image", "html_inline", "html_block"]
)
"""Markdown-like plain formatting: paragraphs, line breaks, emphasis, lists, headings and links (markdown-it's
link check refuses ``javascript:`` and the like); raw HTML and images are not formatted (HTML shows as text)."""


@lru_cache(maxsize=512)
def render_body(body: str) -> Markup:
    """The notice's HTML; the same few bodies are on every home page, so each is formatted once."""
    return Markup(_markdown.render(body or ""))


@dataclass
class NoticeInput:
    title: str = ""
    body: str = ""
    important: bool = False
    pinned: bool = False
    publish_at: str = ""
    """``YYYY-MM-DDTHH:MM`` in the tenant's time zone (an ``<input type="datetime-local">``); empty: now."""
    expires_at: str = ""

    @classmethod
    def from_form(cls, form) -> NoticeInput:
        def text(name: str) -> str:
            raw = form.get(name)
            return raw.replace("\r\n", "\n").strip() if isinstance(raw, str) else ""

        return cls(
            title=text("title"),
            body=text("body"),
            important=bool(form.get("important")),
            pinned=bool(form.get("pinned")),
            publish_at=text("publish_at"),
            expires_at=text("expires_at"),
        )

    @classmethod
    def of(cls, notice: Notice, zone: str) -> NoticeInput:
        def local(value: datetime | None) -> str:
            return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if value else ""

        return cls(notice.title, notice.body, notice.important, notice.pinned, local(notice.publish_at), local(notice.expires_at))


def status_of(notice: Notice) -> str:
    """``draft`` (下書き), ``scheduled`` (予約), ``published`` (掲載中) or ``expired`` (掲載終了)."""
    now = utcnow()
    if notice.draft:
        return "draft"
    if notice.expires_at is not None and notice.expires_at <= now:
        return "expired"
    if notice.publish_at is not None and notice.publish_at > now:
        return "scheduled"
    return "published"


def status_label(status: str) -> str:
    labels = {"draft": _("下書き"), "scheduled": _("公開予約"), "published": _("掲載中"), "expired": _("掲載終了")}
    return labels.get(status, status)


class NoticeError(Exception):
    """A notice that cannot be changed so; the message is for the staff member."""


def parse_local(value: str, zone: str) -> datetime | None:
    """``YYYY-MM-DDTHH:MM`` in ``zone`` → an aware datetime; ``None`` for empty; ``ValueError`` when malformed."""
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(zone))


def validate(data: NoticeInput, zone: str) -> tuple[dict[str, str], datetime | None, datetime | None]:
    """(errors by field, publish_at, expires_at)."""
    errors: dict[str, str] = {}
    if not data.title:
        errors["title"] = _("件名を入力してください。")
    elif len(data.title) > TITLE_MAX:
        errors["title"] = _("件名は{n}文字以内で入力してください。").format(n=TITLE_MAX)
    if len(data.body) > BODY_MAX:
        errors["body"] = _("本文は{n}文字以内で入力してください。(現在{count}文字)").format(n=BODY_MAX, count=len(data.body))
    times: dict[str, datetime | None] = {}
    for name in ("publish_at", "expires_at"):
        try:
            times[name] = parse_local(getattr(data, name), zone)
        except ValueError:
            errors[name] = _("日時は「2025-01-31 09:00」の形で入力してください。")
            times[name] = None
    publish_at, expires_at = times["publish_at"], times["expires_at"]
    if expires_at is not None and expires_at <= (publish_at or utcnow()):
        errors.setdefault("expires_at", _("掲載終了は掲載開始より後の日時にしてください。"))
    return errors, publish_at, expires_at


def _snapshot(notice: Notice) -> dict:
    return {
        "title": notice.title,
        "draft": notice.draft,
        "pinned": notice.pinned,
        "important": notice.important,
        "publish_at": notice.publish_at.isoformat() if notice.publish_at else None,
        "expires_at": notice.expires_at.isoformat() if notice.expires_at else None,
    }


async def _audit(tenant: Tenant, event: str, notice: Notice, actor: Actor, before: dict | None) -> None:
    await record_action(tenant.slug, actor, event, before=before, after=_snapshot(notice), notice_id=notice.id)


async def save_draft(tenant: Tenant, data: NoticeInput, actor: Actor, notice_id: int | None = None) -> tuple[Notice | None, dict]:
    """Creates a draft (``notice_id`` None) or changes a notice's text, flags and times; (notice, errors).

    Changing a published notice keeps it published; its mails are not sent again.
    """
    errors, publish_at, expires_at = validate(data, tenant.config.timezone)
    if errors:
        return None, errors
    repo = NoticeRepository(tenant)
    fields: dict[str, Any] = dict(
        title=data.title,
        body=data.body,
        important=data.important,
        pinned=data.pinned,
        publish_at=publish_at,
        expires_at=expires_at,
    )
    async with atomic():
        if notice_id is None:
            notice = await repo.create(draft=True, published_on=_local_day(tenant, publish_at), author=actor.name, **fields)
            before = None
        else:
            found = await repo.by_id(notice_id)
            if found is None:
                raise NoticeError(_("お知らせが見つかりません。"))
            notice, before = found, _snapshot(found)
            if not notice.draft and notice.notified_at is not None and notice.publish_at and publish_at != notice.publish_at:
                # already mailed: the time it went out stays the time it was published
                fields["publish_at"] = notice.publish_at
            await repo.change(notice, published_on=_local_day(tenant, fields["publish_at"]), **fields)
        await _audit(tenant, "admin.notice.saved", notice, actor, before)
    forget_notices(tenant.slug)
    return notice, {}


def _local_day(tenant: Tenant, moment: datetime | None):
    return (moment or utcnow()).astimezone(ZoneInfo(tenant.config.timezone)).date()


async def publish(portal, tenant: Tenant, notice_id: int, actor: Actor) -> tuple[Notice, int]:
    """Publishes the draft at its ``publish_at`` (none: now). Due now: shown and mailed at once; later: shown
    and mailed when the time comes. Returns (notice, mails written now)."""
    repo = NoticeRepository(tenant)
    mails = 0
    async with atomic():
        notice = await repo.by_id(notice_id)
        if notice is None:
            raise NoticeError(_("お知らせが見つかりません。"))
        if not notice.draft:
            raise NoticeError(_("このお知らせは公開済みです。"))
        before = _snapshot(notice)
        publish_at = notice.publish_at or utcnow()
        await repo.change(notice, draft=False, publish_at=publish_at, published_on=_local_day(tenant, publish_at))
        if publish_at <= utcnow() and await repo.claim_for_mailing(notice):
            mails = await notify_members(portal, tenant, None, "notice", {"title": notice.title})
        await _audit(tenant, "admin.notice.published", notice, actor, before)
    forget_notices(tenant.slug)
    return notice, mails


async def expire(tenant: Tenant, notice_id: int, actor: Actor) -> Notice:
    """Takes the notice off the portal now (it stays in the console's list)."""
    repo = NoticeRepository(tenant)
    async with atomic():
        notice = await repo.by_id(notice_id)
        if notice is None:
            raise NoticeError(_("お知らせが見つかりません。"))
        before = _snapshot(notice)
        await repo.change(notice, expires_at=utcnow())
        await _audit(tenant, "admin.notice.expired", notice, actor, before)
    forget_notices(tenant.slug)
    return notice


async def set_pinned(tenant: Tenant, notice_id: int, pinned: bool, actor: Actor) -> Notice:
    repo = NoticeRepository(tenant)
    async with atomic():
        notice = await repo.by_id(notice_id)
        if notice is None:
            raise NoticeError(_("お知らせが見つかりません。"))
        before = _snapshot(notice)
        await repo.change(notice, pinned=pinned)
        await _audit(tenant, "admin.notice.pinned" if pinned else "admin.notice.unpinned", notice, actor, before)
    forget_notices(tenant.slug)
    return notice


async def post_notice(
    portal, tenant: Tenant, *, title: str, body: str, important: bool = False, actor: Actor | None = None
) -> tuple[Notice, int]:
    """Writes and publishes a notice now (``mypage staff notice``); returns (notice, mails)."""
    actor = actor or Actor("cli")
    async with atomic():
        notice, errors = await save_draft(tenant, NoticeInput(title=title.strip(), body=body.strip(), important=important), actor)
        if notice is None:
            raise ValueError("; ".join(f"{k}: {v}" for k, v in errors.items()))
        return await publish(portal, tenant, notice.id, actor)


async def mail_due_notices(portal) -> int:
    """The scheduler's round: mails every scheduled notice whose time has come (once); returns how many."""
    done = 0
    for row in await due_for_mailing_all_tenants():
        if row["tenant"] not in portal.tenants.slugs:
            continue
        tenant = portal.tenants.get(row["tenant"])
        repo = NoticeRepository(tenant)
        async with atomic():
            notice = await repo.by_id(row["id"])
            if notice is None or not await repo.claim_for_mailing(notice):
                continue  # another worker has it
            await notify_members(portal, tenant, None, "notice", {"title": notice.title})
            await AuditLog(tenant.slug).record("notice.mailed", notice_id=notice.id)
        forget_notices(tenant.slug)
        done += 1
    return done
