from __future__ import annotations

from piccolo.columns import JSON, Boolean, Bytea, Integer, Timestamptz, Varchar

from mypage.db.base import TenantOwned


class ConfigVersion(TenantOwned, tablename="tenant_config_versions"):
    """One version of a tenant's overrides of its ``tenant.toml`` (a JSON document of the changed keys)."""

    version = Integer()
    """1, 2, 3 … per tenant."""
    status = Varchar(length=16)
    """``draft`` (editable, previewable) or ``published`` (was or is live)."""
    current = Boolean(default=False)
    """The published version that is live (at most one per tenant)."""
    document = JSON(default={})
    author = Varchar(length=200)
    """Who wrote the version (staff login)."""
    published_at = Timestamptz(null=True, default=None)
    published_by = Varchar(length=200, default="")
    restored_from = Integer(null=True, default=None)
    """The version this one copies (a restore publishes a copy, keeping the history)."""

    UNIQUE_TOGETHER = (("tenant", "version"),)


class MediaFile(TenantOwned, tablename="tenant_media"):
    """An uploaded image (a logo), re-encoded and stripped of metadata; named by its content's hash."""

    name = Varchar(length=80)
    content_type = Varchar(length=40)
    data = Bytea()
    width = Integer()
    height = Integer()
    author = Varchar(length=200)

    UNIQUE_TOGETHER = (("tenant", "name"),)
