"""Test-only tenants: a shipped tenant's ``tenant.toml`` with a few settings changed, served next to the three.

``variant_app(db, portal, [variant("itscom", "lookup", {"identity.recovery.methods": [...]})])`` gives an app
whose registry holds the shipped tenants and the variants; each variant is validated by the same schema
as a real file, answers on ``<slug>.localhost`` and borrows the base tenant's folder (logo, templates).
A change's value ``DROP`` removes the key.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

from conftest import PortalClient
from mypage.app import create_app
from mypage.portal import Portal
from mypage.tenancy.registry import Tenant, TenantRegistry, validate_config

ROOT = Path(__file__).resolve().parents[1]
DROP = object()
_apps: dict[tuple, tuple] = {}


def shipped(slug: str) -> dict:
    return tomllib.loads((ROOT / "tenants" / slug / "tenant.toml").read_text(encoding="utf-8"))


def changed(data: dict, changes: dict) -> dict:
    data = copy.deepcopy(data)
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        if value is DROP:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def variant(base: str, slug: str, changes: dict) -> Tenant:
    data = changed(shipped(base), {"slug": slug, "hosts": [f"{slug}.localhost"], **changes})
    return Tenant(config=validate_config(data, ROOT / "tenants" / base / f"{slug}.toml"), folder=ROOT / "tenants" / base)


def variant_app(db, portal: Portal, tenants: list[Tenant]):
    """``(app, portal)`` serving the shipped tenants and ``tenants`` on ``db`` (built once per backend and set)."""
    key = (db.database_url or "sqlite", tuple(t.config.model_dump_json() for t in tenants))
    if key not in _apps:
        registry = TenantRegistry([*portal.tenants, *tenants])
        variant_portal = Portal(db, tenants=registry)
        _apps[key] = (create_app(db, portal=variant_portal), variant_portal)
    return _apps[key]


def client(app, slug: str) -> PortalClient:
    return PortalClient(app, base_url=f"http://{slug}.localhost")
