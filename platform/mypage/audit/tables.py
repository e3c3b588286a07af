from __future__ import annotations

from piccolo.columns import JSON, Integer, Varchar

from mypage.db.base import TenantOwned


class AuditEvent(TenantOwned, tablename="audit_events"):
    account_id = Integer(null=True, default=None, index=True)
    event = Varchar(length=60, index=True)
    """e.g. ``login.success``, ``login.failure``, ``account.locked``, ``password.changed``, ``admin.customer.unlocked``."""
    address = Varchar(length=64)
    detail = JSON(default={})
    staff_id = Integer(null=True, default=None, index=True)
    """The staff member who acted (``admin.*`` events); null for what customers and the system do."""
    actor = Varchar(length=120)
    """The staff member's name and e-mail address at the time (kept when the staff account is removed)."""
    customer_id = Integer(null=True, default=None, index=True)
    """The customer record the action concerned, if any."""
    before = JSON(default={})
    """What the changed fields held before a staff action (never a secret)."""
    after = JSON(default={})
    """What they hold after it."""
