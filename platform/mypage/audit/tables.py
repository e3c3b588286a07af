from __future__ import annotations

from piccolo.columns import JSON, Integer, Varchar

from mypage.db.base import TenantOwned


class AuditEvent(TenantOwned, tablename="audit_events"):
    account_id = Integer(null=True, default=None, index=True)
    event = Varchar(length=60, index=True)
    """e.g. ``login.success``, ``login.failure``, ``account.locked``, ``password.changed``."""
    address = Varchar(length=64)
    detail = JSON(default={})
