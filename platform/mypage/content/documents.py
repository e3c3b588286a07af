"""Where a tenant's documents live: ``tenants/<slug>/content/<relative>.md``, a locale's own version first."""

from __future__ import annotations

from pathlib import Path

from mypage.tenancy.registry import Tenant


def document_path(tenant: Tenant, relative: str, locale: str) -> Path | None:
    """The tenant's file for ``relative`` (``terms``, ``terms/<name>``, ``help/<name>``), the locale's own first."""
    content = tenant.folder / "content"
    for candidate in (content / f"{relative}.{locale}.md", content / f"{relative}.md"):
        if candidate.is_file():
            return candidate
    return None


def has_document(tenant: Tenant, relative: str) -> bool:
    """Whether the tenant has the document (templates link to it only then)."""
    return document_path(tenant, relative, "") is not None
