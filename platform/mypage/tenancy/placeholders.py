"""Placeholders that ``mypage tenant new`` writes where only the operator can say what is right, and
that ``mypage tenant check`` reports until they are replaced.

A placeholder is valid for the schema (so the new folder loads and its pages can be looked at) but
recognisable: a phrase starting ``TODO``, an address under the reserved ``.invalid`` domain (RFC 2606,
never delivered), the all-zero invoice registration number, or a file marked as a placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

MARK = "TODO"
DOMAIN = "todo.invalid"
REGISTRATION_NUMBER = "T0000000000000"
LOGO_MARK = 'data-placeholder="mypage tenant new"'
"""In the generated logo: ``tenant check`` warns while the logo still carries it."""

_INVALID = re.compile(r"(^|[@./])[a-z0-9-]*\.invalid(?=$|[/:?#])|@[a-z0-9.-]+\.invalid$", re.IGNORECASE)


def text(ja: str, en: str) -> dict[str, str]:
    """A Text to be filled in: ``{ ja = "TODO: …", en = "TODO: …" }``."""
    return {"ja": f"{MARK}: {ja}", "en": f"{MARK}: {en}"}


def phrase(what: str) -> str:
    return f"{MARK}: {what}"


def email(local: str) -> str:
    return f"{local}@{DOMAIN}"


def is_placeholder(value: str) -> bool:
    return value.startswith(MARK) or f"{MARK}:" in value or bool(_INVALID.search(value)) or value == REGISTRATION_NUMBER


def found_in(data: object, path: str = "") -> Iterator[tuple[str, str]]:
    """``(dotted key, value)`` of every placeholder in a parsed ``tenant.toml``."""
    if isinstance(data, dict):
        for key, value in data.items():
            name = f'"{key}"' if "." in str(key) else str(key)
            yield from found_in(value, f"{path}.{name}" if path else name)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from found_in(value, f"{path}.{index}")
    elif isinstance(data, str) and is_placeholder(data):
        yield path.removesuffix(".ja").removesuffix(".en"), data


def files_with_placeholders(folder: Path) -> Iterator[Path]:
    """Documents under ``content/`` that still hold a placeholder."""
    for path in sorted((folder / "content").rglob("*.md")):
        if MARK in path.read_text(encoding="utf-8", errors="replace"):
            yield path


def logo_is_placeholder(path: Path) -> bool:
    return path.is_file() and path.suffix == ".svg" and LOGO_MARK in path.read_text(encoding="utf-8", errors="replace")
