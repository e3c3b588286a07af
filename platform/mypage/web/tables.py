from __future__ import annotations

from piccolo.columns import Bytea, Timestamptz, Varchar

from mypage.db.base import GlobalTable


class SessionRecord(GlobalTable, tablename="web_sessions"):
    """Server-side session data; the data itself names its tenant, checked on every request."""

    key = Varchar(length=128, unique=True)
    value = Bytea()
    expires_at = Timestamptz(null=True, default=None, index=True)
