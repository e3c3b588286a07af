"""What identifies an operator in its ``tenant.toml``, and the same data without it.

``mypage tenant new`` copies another tenant's rules; :func:`scrub` replaces every phrase that names that
operator (its names, slug, company names, domains, its ``[texts]`` wording) by a placeholder, and drops
optional links to its sites.
"""

from __future__ import annotations

import re
from typing import Any

from mypage.tenancy import placeholders

COMMON_WORDS = {"system", "systems", "communications", "communication", "cable", "network", "networks", "television"}
COMMON_WORDS |= {"company", "corporation", "group", "japan", "nihon", "nippon", "holdings", "service", "services", "internet"}
"""Words of an operator's English name that do not identify it (the others are looked for in its wording)."""

_PUBLIC_SUFFIXES = {"co.jp", "ne.jp", "or.jp", "ac.jp", "ad.jp", "go.jp", "gr.jp", "lg.jp", "ed.jp", "co.uk", "com.au"}


def _registrable(domain: str) -> str:
    labels = domain.lower().strip(".").split(".")
    size = 3 if ".".join(labels[-2:]) in _PUBLIC_SUFFIXES else 2
    return ".".join(labels[-size:])


def _domain_of(value: str) -> str | None:
    value = value.strip().lower()
    if "@" in value:
        return value.rsplit("@", 1)[1]
    match = re.match(r"^(?:https?://)?([a-z0-9.-]+\.[a-z]{2,})(?:[:/]|$)", value)
    return match.group(1) if match else None


def identity_tokens(data: dict) -> set[str]:
    """Words that name the template's operator: its slug, names, company names, domains and ``[texts]`` wording."""
    tokens = {data.get("slug", "")}
    for key in ("names", "portal_title"):
        tokens |= set((data.get(key) or {}).values())
    tokens |= set(((data.get("invoicing") or {}).get("issuer_name") or {}).values())
    for name in [(data.get("names") or {}).get("en", ""), ((data.get("invoicing") or {}).get("issuer_name") or {}).get("en", "")]:
        tokens |= {word for word in re.split(r"[^A-Za-z0-9-]+", name.lower()) if len(word) >= 4 and word not in COMMON_WORDS}
    for phrase in (data.get("texts") or {}).values():  # the operator's own wording, wherever else it is used
        tokens |= {value for value in phrase.values() if len(value) >= 6 and (" " in value or not value.isascii())}
    addresses = [*data.get("hosts", [])]
    addresses += [(data.get("contact") or {}).get(k, "") for k in ("email", "url")]
    addresses.append((data.get("mail") or {}).get("sender", ""))
    for address in addresses:
        domain = _domain_of(address or "")
        if domain and not domain.endswith(".localhost") and domain != "localhost":
            registrable = _registrable(domain)
            tokens |= {registrable, registrable.split(".", 1)[0]}
    return {t.strip().lower() for t in tokens if t and len(t.strip()) >= 3}


def _names_operator(value: str, tokens: set[str]) -> bool:
    lowered = value.lower()
    return any(token in lowered for token in tokens)


IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
"""A choice of the schema (``device_id``, ``email_link``): never the operator's wording."""


def _is_text(node: Any) -> bool:
    return isinstance(node, dict) and "ja" in node and set(node) <= {"ja", "en"}


def scrub(node: Any, tokens: set[str], path: str = "") -> Any:
    """``node`` without anything that names the operator: a phrase becomes a placeholder, an optional link
    is left out (``None``: drop the key or item), a domain becomes the placeholder domain."""
    if _is_text(node):
        if any(_names_operator(v, tokens) for v in node.values()):
            return placeholders.text(f"記入してください ({path})", f"fill in ({path})")
        return node
    if isinstance(node, dict):
        if isinstance(node.get("href"), str) and _names_operator(node["href"], tokens):
            return None  # a menu item linking the operator's own site
        cleaned = {}
        for key, value in node.items():
            kept = scrub(value, tokens, f"{path}.{key}" if path else key)
            if kept is not None:
                cleaned[key] = kept
        return cleaned
    if isinstance(node, list):
        kept_items = [scrub(item, tokens, f"{path}.{i}") for i, item in enumerate(node)]
        return [item for item in kept_items if item is not None]
    if isinstance(node, str) and not IDENTIFIER.match(node) and _names_operator(node, tokens):
        if re.match(r"^https?://", node):
            return None
        if re.match(r"^[a-z0-9.-]+\.[a-z]{2,}$", node.lower()):
            return placeholders.DOMAIN
        return placeholders.phrase(f"記入してください ({path})")
    return node
