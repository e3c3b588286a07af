from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar

from mypage.db.base import TenantOwned


class OutboxMail(TenantOwned, tablename="outbox_mail"):
    """A mail written in the same transaction as the change that causes it."""

    sender = Varchar(length=254)
    recipient = Varchar(length=254, index=True)
    subject = Varchar(length=300)
    text_body = Text()
    html_body = Text()
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None, index=True)
    last_error = Varchar(length=500)
