"""Tables of the tenant staff console: staff accounts (separate from customers) and their recovery codes."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar

from mypage.db.base import TenantOwned


class StaffMember(TenantOwned, tablename="staff_members"):
    """One person of the tenant's back office. Logs in at ``/admin`` only, never into the customer portal."""

    email = Varchar(length=254, required=True)
    """The login ID: the e-mail address, lower-cased."""
    name = Varchar(length=120)
    role = Varchar(length=20, default="viewer")
    """``admin`` (管理者), ``support`` (サポート) or ``viewer`` (閲覧); see :mod:`mypage.admin.roles`."""
    status = Varchar(length=20, default="invited")
    """``invited`` (password and authenticator app not yet set), ``active`` or ``disabled``."""
    password_hash = Varchar(length=255)
    totp_secret = Varchar(length=64)
    credentials_version = Integer(default=0)
    """Raised at every credential or role change; a staff session opened under an older version ends."""
    locked_until = Timestamptz(null=True, default=None)
    last_login_at = Timestamptz(null=True, default=None)
    invited_by = Integer(null=True, default=None)
    """The staff member who sent the invitation (null: the ``mypage staff`` command)."""

    UNIQUE_TOGETHER = (("tenant", "email"),)


class StaffRecoveryCode(TenantOwned, tablename="staff_recovery_codes"):
    """One-time recovery codes for a staff member's authenticator app (keyed hashes only)."""

    staff = ForeignKey(StaffMember, index=True)
    code_hash = Varchar(length=64)
    used_at = Timestamptz(null=True, default=None)

    UNIQUE_TOGETHER = (("tenant", "code_hash"),)
