from __future__ import annotations

from piccolo.columns import Bytea, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from mypage.db.base import GlobalTable, TenantOwned


class SessionRecord(GlobalTable, tablename="web_sessions"):
    """Server-side session data; the data itself names its tenant, checked on every request."""

    key = Varchar(length=128, unique=True)
    value = Bytea()
    expires_at = Timestamptz(null=True, default=None, index=True)
    account = Integer(null=True, default=None)
    """A customer session's ``account_id``, copied from the data on every save: the store can then read the
    account with the session in one query. Not a foreign key: an account removed meanwhile is simply not found."""


class ServerErrorRecord(TenantOwned, tablename="server_errors"):
    """One unhandled server error (a 500 page): when, which route (its path template, not the path: paths
    can carry tokens) and which exception class; no personal data, no request body, no message (messages
    can carry values). Rows older than a week are pruned on write (``web/error_log.py``)."""

    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    """Indexed for the pruning of old rows (the health figure reads ``(tenant, created_at)``)."""
    path = Varchar(length=200)
    exception = Varchar(length=120)

    INDEX_TOGETHER = (("tenant", "created_at"),)
