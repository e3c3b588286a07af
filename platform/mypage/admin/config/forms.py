"""Form fields of the three editors ↔ the override document's keys (only values that differ from
``tenant.toml`` are kept, so the file stays the base for everything staff did not change)."""

from __future__ import annotations

import json
from typing import Any

from mypage.tenancy.config import MenuGroup, TenantConfig
from mypage.tenancy.registry import Tenant
from mypage.tenancy.texts import TEXT_KEYS

BRANDING_FIELDS = ("primary_colour", "accent_colour", "header_text_colour")
CONTACT_TEXTS = ("name", "hours")
CONTACT_STRINGS = ("phone", "email", "url")


def _changed(values: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if base.get(key) != value}


def _set_section(document: dict, key: str, values: Any) -> dict:
    document = dict(document)
    if values in ({}, None):
        document.pop(key, None)
    else:
        document[key] = values
    return document


def branding_document(document: dict, form: dict, base: Tenant) -> dict:
    source = base.source.get("branding", {})
    wanted = {name: str(form.get(name, "")).strip().lower() for name in BRANDING_FIELDS}
    logo = (document.get("branding") or {}).get("logo")
    branding = _changed(wanted, {k: str(v).lower() for k, v in source.items()})
    if logo:
        branding["logo"] = logo
    document = _set_section(document, "branding", branding)
    theme = str(form.get("theme", "")).strip()
    return _set_section(document, "theme", theme if theme and theme != base.source.get("theme", "base") else None)


def with_logo(document: dict, logo: str | None) -> dict:
    branding = {k: v for k, v in (document.get("branding") or {}).items() if k != "logo"}
    if logo:
        branding["logo"] = logo
    return _set_section(document, "branding", branding)


def _text(form: dict, name: str) -> dict[str, str] | None:
    ja, en = str(form.get(f"{name}_ja", "")).strip(), str(form.get(f"{name}_en", "")).strip()
    if not ja and not en:
        return None
    return {"ja": ja, "en": en} if en else {"ja": ja}


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").splitlines() if line.strip()]


def shown_text_keys(config: TenantConfig) -> list[str]:
    """The registered text keys this tenant shows (its flow and factors), in order."""
    return [key for key, entry in TEXT_KEYS.items() if config.text_needs_met(entry.needs)]


class MenuJsonError(ValueError):
    pass


def texts_document(document: dict, form: dict, base: Tenant, config: TenantConfig) -> dict:
    """``contact``, ``home_notes``, ``texts`` and ``menu`` from the 文言・連絡先 form."""
    source = base.source
    contact: dict[str, Any] = {name: _text(form, f"contact_{name}") for name in CONTACT_TEXTS}
    contact |= {name: str(form.get(f"contact_{name}", "")).strip() for name in CONTACT_STRINGS}
    contact = {k: v for k, v in contact.items() if v is not None}
    document = _set_section(document, "contact", _changed(contact, source.get("contact", {})))

    ja, en = _lines(form.get("home_notes_ja")), _lines(form.get("home_notes_en"))
    notes = [{"ja": text, **({"en": en[i]} if i < len(en) else {})} for i, text in enumerate(ja)]
    document = _set_section(document, "home_notes", None if notes == source.get("home_notes", []) else notes)

    texts: dict[str, Any] = {}
    base_texts = source.get("texts", {})
    for key in shown_text_keys(config):
        phrase = _text(form, "text_" + key.replace(".", "__"))
        if phrase is None and key in base_texts:
            texts[key] = None  # cleared: the platform's default wording
        elif phrase is not None and phrase != base_texts.get(key):
            texts[key] = phrase
    document = _set_section(document, "texts", texts)

    menu_text = str(form.get("menu", "")).strip()
    try:
        menu = json.loads(menu_text) if menu_text else []
    except ValueError as exc:
        raise MenuJsonError(str(exc)) from exc
    return _set_section(document, "menu", None if _same_menu(menu, base.config) else menu)


def _same_menu(menu: Any, config: TenantConfig) -> bool:
    """The form's menu is the file's (however it is spelt); an invalid one is left to the schema to report."""
    try:
        return [MenuGroup.model_validate(group) for group in menu] == list(config.menu)
    except (ValueError, TypeError):
        return False


def features_document(document: dict, form: dict, base: Tenant) -> dict:
    allowed = list(base.source.get("features", {}))
    wanted = {name: form.get(f"feature_{name}") == "on" for name in allowed}
    return _set_section(document, "features", {name: on for name, on in wanted.items() if not on})


def menu_json(config: TenantConfig) -> str:
    return json.dumps([group.model_dump(exclude_defaults=True) for group in config.menu], ensure_ascii=False, indent=2)
