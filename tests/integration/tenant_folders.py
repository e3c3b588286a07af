"""Copies of the tenant and theme folders that a test may change, and a portal/app over them."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def copy_folders(tmp_path: Path) -> tuple[Path, Path]:
    tenants, themes = tmp_path / "tenants", tmp_path / "themes"
    shutil.copytree(ROOT / "tenants", tenants)
    shutil.copytree(ROOT / "themes", themes)
    return tenants, themes


def add_tenant(tenants: Path, slug: str, *, host: str, name: str, source: str = "aicom") -> Path:
    """A new tenant folder copied from ``source``, with its own slug, host and name."""
    folder = tenants / slug
    shutil.copytree(tenants / source, folder)
    toml = folder / "tenant.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace(f'slug = "{source}"', f'slug = "{slug}"', 1)
    start = text.index("hosts = [")
    end = text.index("]", start) + 1
    text = text[:start] + f'hosts = ["{host}"]' + text[end:]
    start = text.index("portal_title = {")
    end = text.index("}", start) + 1
    text = text[:start] + f'portal_title = {{ ja = "{name}", en = "{name}" }}' + text[end:]
    toml.write_text(text, encoding="utf-8")
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def settle(*folders: Path) -> None:
    """Dates every file under ``folders`` an hour back, as files written well before the portal read them (a
    reload trusts the fingerprint of a folder only when no file of it was modified within the last seconds)."""
    past = time.time() - 3600
    for folder in folders:
        for path in folder.rglob("*"):
            os.utime(path, (past, past))
