"""Platform staff, their audit trail (global tables) and what the platform decides per tenant."""

from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from mypage.db.base import GlobalTable, TenantOwned


class PlatformStaff(GlobalTable, tablename="platform_staff"):
    """A member of the platform team: logs in at ``/platform`` on the platform host only."""

    email = Varchar(length=254, unique=True)
    """The login ID: the e-mail address, lower-cased."""
    name = Varchar(length=120)
    status = Varchar(length=20, default="invited")
    """``invited`` (password and authenticator app not yet set), ``active`` or ``disabled``."""
    password_hash = Varchar(length=255)
    totp_secret = Varchar(length=64)
    totp_last_step = Integer(default=0)
    """The last authenticator time step accepted: a code is never accepted twice."""
    credentials_version = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    invite_hash = Varchar(length=64, index=True)
    """Keyed hash of the single-use invitation secret (empty once used)."""
    invite_expires = Timestamptz(null=True, default=None)
    last_login_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class PlatformRecoveryCode(GlobalTable, tablename="platform_recovery_codes"):
    """Single-use recovery codes for a platform staff member's authenticator app (keyed hashes only)."""

    staff = ForeignKey(PlatformStaff, index=True)
    code_hash = Varchar(length=64, unique=True)
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class PlatformAudit(GlobalTable, tablename="platform_audit"):
    """Every action in the platform console (and its logins), with the tenant it concerned if any."""

    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    event = Varchar(length=60, index=True)
    staff_id = Integer(null=True, default=None, index=True)
    actor = Varchar(length=120)
    target_tenant = Varchar(length=40, index=True)
    address = Varchar(length=64)
    detail = JSON(default={})


class TenantControl(TenantOwned, tablename="tenant_controls"):
    """What the platform decided for one tenant (no row: not suspended, every configured feature allowed)."""

    suspended = Boolean(default=False)
    """The tenant's hosts answer a maintenance page (503); its data stays as it is."""
    allowed_features = JSON(null=True, default=None)
    """Features the tenant's admins may switch on in the overrides editor (null: every feature ``tenant.toml``
    configures)."""

    UNIQUE_TOGETHER = (("tenant",),)
