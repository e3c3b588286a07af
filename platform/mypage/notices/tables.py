"""お知らせ posted by the tenant's staff."""

from __future__ import annotations

from piccolo.columns import Boolean, Date, Text, Timestamptz, Varchar

from mypage.db.base import TenantOwned


class Notice(TenantOwned, tablename="notices"):
    """An お知らせ. Shown in the portal when it is not a draft, its ``publish_at`` (or else ``published_on``) has
    come and its ``expires_at`` has not."""

    title = Varchar(length=200)
    body = Text()
    """Markdown-like plain text (paragraphs, emphasis, lists, links); raw HTML is shown as text."""
    published_on = Date()
    """The date shown with the notice (the day it is published, in the tenant's time zone)."""
    important = Boolean(default=False)
    pinned = Boolean(default=False)
    """Shown first, whatever its date."""
    draft = Boolean(default=False)
    """Being written in the console: not shown, not mailed."""
    publish_at = Timestamptz(null=True, default=None)
    """When it is shown and mailed (a time in the future: scheduled); none: shown from ``published_on``."""
    expires_at = Timestamptz(null=True, default=None)
    """When it stops being shown; none: never."""
    notified_at = Timestamptz(null=True, default=None)
    """When the mails to members with メール通知 あり were written to the outbox; none: not yet."""
    author = Varchar(length=120)
    """Who wrote it (the staff member's name, or the script)."""
