"""Tenant changes without a restart, on every worker.

A change is *announced* by writing a new random token into the ``tenant_generation`` row of its kind:

- ``folders``: ``mypage tenant reload`` (or SIGHUP to a server process) after tenant folders were added or
  changed. The folders are validated first; a broken folder is refused with its problems and nothing is
  announced, so the running tenants keep serving as they are.
- ``overrides``: tenant staff published (or restored) a version of their configuration overrides.
- ``suspensions``: the platform console suspended or resumed a tenant (``Portal.suspended``).

Each server worker polls the table every :data:`POLL_SECONDS` in a background task (never on a request's
path) and, when a token differs from the one it applied, rebuilds what changed (``Portal.refresh``): of the
folders, only those whose files (or their theme chain's) changed since it read them (``tenancy.fingerprint``). The
table is an ordinary one, so this works alike on SQLite and PostgreSQL, with any number of workers and hosts.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass

from mypage.db.base import utcnow
from mypage.settings import Settings
from mypage.tenancy.registry import TenantRegistry
from mypage.tenancy.tables import TenantGeneration
from mypage.web.templating import ThemeRegistry

FOLDERS = "folders"
OVERRIDES = "overrides"
SUSPENSIONS = "suspensions"
POLL_SECONDS = 1.0
"""How often each worker reads the generation tokens (one small query, outside any request)."""

log = logging.getLogger("mypage.tenancy")


@dataclass(frozen=True)
class Folders:
    """Tenant folders and themes read from disk and validated together."""

    themes: ThemeRegistry
    tenants: TenantRegistry


def load_folders(settings: Settings, previous: TenantRegistry | None = None) -> Folders:
    """Every tenant folder and theme, validated; :class:`TenantConfigError` names every problem. With the
    ``previous`` registry, only the folders that changed since it read them are read again."""
    themes = ThemeRegistry(settings.themes_dir)
    tenants = TenantRegistry.load(settings.tenants_dir, settings.themes_dir, previous, themes.parents())
    for tenant in tenants:
        themes.chain(tenant.config.theme)
    return Folders(themes, tenants)


async def generation() -> dict[str, str]:
    """The current token of each kind of change (kinds never announced are absent)."""
    rows = await TenantGeneration.select(TenantGeneration.name, TenantGeneration.token)
    return {row["name"]: row["token"] for row in rows}


async def announce(kind: str) -> str:
    """Makes every worker reload ``kind`` within about :data:`POLL_SECONDS`; returns the new token."""
    token = secrets.token_hex(16)
    await (
        TenantGeneration.insert(TenantGeneration(name=kind, token=token, changed_at=utcnow()))
        .on_conflict(
            target=TenantGeneration.name,
            action="DO UPDATE",
            values=[TenantGeneration.token, TenantGeneration.changed_at],
        )
        .run()
    )
    return token


async def reload_folders(settings: Settings) -> Folders:
    """Validates the tenant folders and, when they are all valid, announces them to every worker.

    Raises :class:`TenantConfigError` (nothing announced) when a folder is broken."""
    folders = await asyncio.to_thread(load_folders, settings)
    await announce(FOLDERS)
    return folders
