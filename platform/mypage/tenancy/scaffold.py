"""``mypage tenant new``: a new tenant folder from the rules of an existing one, without its identity.

The new ``tenants/<slug>/`` takes the template tenant's rules (login IDs, passwords, factors,
registration, recovery, features and their settings), changed by the answers (ID kind, factors,
recovery methods, features). Everything that names the template's operator is left behind: names,
hosts, contact, mail sender and signature, invoicing company, branding, logo, theme, template
overrides, documents and every ``[texts]`` entry; any other phrase, address or link that mentions the
operator (its names, slug or domains) is replaced by a placeholder (``tenancy/placeholders.py``) or,
where the key is optional, left out. The answers fill what they can; ``mypage tenant check`` reports
the placeholders left until they are filled.

Also written: a child theme ``themes/<slug>/`` (``parent = "base"``), a generated placeholder logo,
placeholder documents where a setting links one, and an empty ``[texts]`` table that lists the keys.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mypage.tenancy import placeholders
from mypage.tenancy.annotated import AnnotatedWriter
from mypage.tenancy.config import (
    RECOVERY_METHOD_PATHS,
    SLUG,
    Branding,
    Factor,
    Features,
    RecoveryMethod,
    TenantConfig,
    feature_of_path,
    recovery_entry,
)
from mypage.tenancy.presets import (
    FEATURE_MENU_ITEMS,
    FEATURE_PRESETS,
    KIND_ONLY_KEYS,
    LOGIN_ID_PRESETS,
    SECRET_QUESTIONS,
)
from mypage.tenancy.scrub import identity_tokens, scrub

Kind = Literal["chosen", "email", "issued"]
FEATURE_NAMES: tuple[str, ...] = tuple(Features.model_fields)
OPTIONAL_FACTORS: tuple[str, ...] = ("email_otp", "captcha", "totp")
RECOVERY_METHODS: tuple[str, ...] = tuple(RECOVERY_METHOD_PATHS)


class ScaffoldError(Exception):
    """The new tenant cannot be written; the message says why and what would be right."""


class Answers(BaseModel):
    """What ``mypage tenant new`` needs: from its options, an answer file (``--answers``) or the
    questions of ``--interactive``. Unset choices keep the template tenant's."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    slug: str
    template: str = Field(alias="from")
    name_ja: str = Field(min_length=1)
    name_en: str = ""
    hosts: list[str] = Field(min_length=1)
    contact_phone: str = ""
    contact_email: str = ""
    mail_sender: str = ""
    login_id_kind: Kind | None = None
    factors: list[Factor] | None = None
    recovery: list[RecoveryMethod] | None = Field(None, min_length=1)
    features: list[str] | None = None

    @field_validator("slug")
    @classmethod
    def _slug(cls, slug: str) -> str:
        if not SLUG.match(slug):
            raise ValueError(
                f"{slug!r} is not a valid slug: use 2-31 lower-case letters, digits and hyphens, starting with a letter"
            )
        return slug

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, hosts: list[str]) -> list[str]:
        cleaned = [h.strip().lower() for h in hosts if h.strip()]
        for host in cleaned:
            if not re.match(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$", host):
                raise ValueError(f"{host!r} is not a host name (letters, digits, hyphens and dots, e.g. mypage.example.jp)")
        return cleaned

    @field_validator("factors")
    @classmethod
    def _factors(cls, factors: list[str] | None) -> list[str] | None:
        if factors is None:
            return None
        return ["password", *dict.fromkeys(f for f in factors if f != "password")]

    @field_validator("features")
    @classmethod
    def _features(cls, features: list[str] | None) -> list[str] | None:
        unknown = [f for f in features or [] if f not in FEATURE_NAMES]
        if unknown:
            raise ValueError(f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURE_NAMES)}")
        return features


def read_answers(path: Path) -> dict[str, Any]:
    """An answer file: TOML (``.toml``) or JSON (``.json``) with the keys of :class:`Answers`."""
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ScaffoldError(f"{path}: not a valid {'JSON' if path.suffix == '.json' else 'TOML'} answer file: {exc}") from exc


def parse_answers(data: dict[str, Any], where: str = "answers") -> Answers:
    try:
        return Answers.model_validate(data)
    except ValidationError as exc:
        lines = [f"{where}: key '{'.'.join(map(str, e['loc'])) or '(top level)'}': {e['msg']}" for e in exc.errors()]
        raise ScaffoldError("\n".join(lines)) from exc


# -- building the new config -------------------------------------------------------------------------


def _identity_of(answers: Answers) -> dict[str, Any]:
    """The top-level and identity tables of the new operator (placeholders where the answers say nothing)."""
    name_en = answers.name_en or answers.name_ja
    hosts = list(dict.fromkeys([*answers.hosts, f"{answers.slug}.localhost"]))
    return {
        "slug": answers.slug,
        "names": {"ja": answers.name_ja, "en": name_en},
        "portal_title": {"ja": f"{answers.name_ja} マイページ", "en": f"{name_en} My Page"},
        "hosts": hosts,
        "theme": answers.slug,
        "branding": Branding().model_dump(),  # the schema's neutral colours, written out to be changed
        "contact": {
            "name": placeholders.text("お問い合わせ窓口の名前", "support desk name"),
            "phone": answers.contact_phone or placeholders.phrase("電話番号"),
            "email": answers.contact_email or placeholders.email("support"),
            "hours": placeholders.text("受付時間", "opening hours"),
        },
        "mail": {
            "sender": answers.mail_sender or placeholders.email("mypage"),
            "sender_name": {"ja": f"{answers.name_ja} マイページ", "en": f"{name_en} My Page"},
            "signature": placeholders.text("メールの署名 (社名・窓口・連絡先)", "mail signature (company, desk, contact)"),
        },
        "invoicing": {
            "registration_number": placeholders.REGISTRATION_NUMBER,
            "issuer_name": placeholders.text("請求書発行事業者の名称", "invoicing company name"),
            "issuer_address": placeholders.phrase("請求書発行事業者の住所"),
        },
    }


TOP_LEVEL_KEPT = ("default_locale", "timezone", "locales", "session", "identity", "features", "menu")
"""What the new tenant takes from the template (then scrubbed of the template operator's identity)."""


def _change_kind(identity: dict, kind: str) -> None:
    registration = identity["registration"]
    if identity["login_id"].get("kind") == kind:
        return
    identity["login_id"] = copy.deepcopy(LOGIN_ID_PRESETS[kind])
    for key in KIND_ONLY_KEYS:
        registration.pop(key, None)
    registration["entry_path"] = "/register"
    if kind == "issued":
        registration["collect_email"] = True


def _change_factors(identity: dict, factors: list[str]) -> None:
    identity["factors"] = factors
    if "captcha" not in factors:
        identity.pop("captcha", None)
    if "email_otp" not in factors:
        identity.get("tokens", {}).pop("login_otp_minutes", None)
    if "totp" in factors:
        identity.pop("totp_optional", None)


def _change_recovery(identity: dict, methods: list[str]) -> None:
    recovery = identity.setdefault("recovery", {})
    recovery["methods"] = methods
    if "secret_question" in methods:
        recovery.setdefault("secret_questions", copy.deepcopy(SECRET_QUESTIONS))
    else:
        recovery.pop("secret_questions", None)
    recovery["entry_path"] = recovery_entry(methods)
    recovery["id_forgotten"] = "email_lookup" if "email_link" in methods else "reregister"


def _feature_root(name: str) -> str:
    return name.split(".", 1)[0]


def _change_features(data: dict, wanted: list[str]) -> None:
    features = data.setdefault("features", {})
    for name in list(features):
        if name not in wanted:
            del features[name]
    for name in wanted:
        if name not in features:
            features[name] = copy.deepcopy(FEATURE_PRESETS[name])
    inquiries = features.get("inquiries")
    if inquiries and "call_details" not in features:
        for category in inquiries["categories"]:
            if category.get("applies") == "call_details":
                category["applies"] = "none"
    menu = data.setdefault("menu", [])
    for group in menu:
        group["items"] = [item for item in group.get("items", []) if _item_feature_on(item, wanted)]
    linked = {_feature_root(f) for g in menu for i in g["items"] for f in (i.get("feature") or "", _path_feature(i)) if f}
    missing = [name for name in FEATURE_NAMES if name in wanted and name not in linked]
    if missing:
        if not menu:
            menu.append({"label": {"ja": "メニュー", "en": "Menu"}, "items": []})
        for name in missing:
            href, label = FEATURE_MENU_ITEMS[name]
            menu[0]["items"].append({"label": label, "href": href, "feature": name})
    data["menu"] = [group for group in menu if group["items"]]


def _path_feature(item: dict) -> str:
    href = item.get("href", "")
    return (feature_of_path(href) or "") if href.startswith("/") else ""


def _item_feature_on(item: dict, wanted: list[str]) -> bool:
    return all(_feature_root(f) in wanted for f in (item.get("feature") or "", _path_feature(item)) if f)


def _documents(data: dict) -> dict[str, str]:
    """Points every document link at a placeholder document of the new tenant: ``{link: title}``."""
    documents = {}
    registration = data["identity"]["registration"]
    if registration.get("terms_url"):
        url = registration["terms_url"]
        registration["terms_url"] = url if url.startswith("/terms") else "/terms"
        documents[registration["terms_url"]] = "利用規約"
    mailboxes = data.get("features", {}).get("mailboxes")
    if mailboxes and mailboxes.get("terms_url"):
        url = mailboxes["terms_url"]
        mailboxes["terms_url"] = url if url.startswith("/terms") else "/terms/mail"
        documents[mailboxes["terms_url"]] = "メールサービス契約約款"
    return documents


def build_config(template: dict, answers: Answers) -> tuple[dict, dict[str, str]]:
    """The new ``tenant.toml`` data and the documents it links (``{"/terms": title}``)."""
    tokens = identity_tokens(template)
    data = {key: copy.deepcopy(template[key]) for key in TOP_LEVEL_KEPT if key in template}
    documents = _documents(data)  # before scrubbing: the links are replaced, not dropped
    data = scrub(data, tokens)
    data = {**_identity_of(answers), **data}
    identity = data["identity"]
    if answers.login_id_kind:
        _change_kind(identity, answers.login_id_kind)
    if answers.factors is not None:
        _change_factors(identity, list(answers.factors))
    if answers.recovery is not None:
        _change_recovery(identity, list(answers.recovery))
    if answers.features is not None:
        _change_features(data, list(answers.features))
    data["texts"] = {}
    linked = {data["identity"]["registration"].get("terms_url"), data.get("features", {}).get("mailboxes", {}).get("terms_url")}
    documents = {link: title for link, title in documents.items() if link in linked}  # answers may have dropped some
    order = [*TenantConfig.model_fields]
    return dict(sorted(data.items(), key=lambda item: order.index(item[0]))), documents


# -- the folder --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    folder: Path
    theme: Path
    files: list[Path]
    placeholders: list[str]


def template_data(tenants_dir: Path, slug: str) -> dict:
    path = tenants_dir / slug / "tenant.toml"
    if not path.is_file():
        known = sorted(p.parent.name for p in tenants_dir.glob("*/tenant.toml"))
        raise ScaffoldError(f"--from {slug!r}: no tenant folder {path.parent}; known tenants: {', '.join(known) or 'none'}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScaffoldError(f"{path}: not valid TOML ({exc}); fix it first (mypage tenant check)") from exc


def hosts_in_use(tenants_dir: Path) -> dict[str, str]:
    """``{host: slug}`` of every tenant folder (unreadable files are skipped: ``tenant check`` reports them)."""
    used: dict[str, str] = {}
    for path in sorted(tenants_dir.glob("*/tenant.toml")):
        try:
            hosts = tomllib.loads(path.read_text(encoding="utf-8")).get("hosts", [])
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        for host in hosts if isinstance(hosts, list) else []:
            used.setdefault(str(host).strip().lower(), path.parent.name)
    return used


def refuse_taken(answers: Answers, tenants_dir: Path, themes_dir: Path) -> None:
    folder = tenants_dir / answers.slug
    if folder.exists():
        raise ScaffoldError(f"slug {answers.slug!r}: {folder} already exists; choose another slug")
    if (themes_dir / answers.slug).exists():
        raise ScaffoldError(
            f"slug {answers.slug!r}: theme folder {themes_dir / answers.slug} already exists; choose another slug"
        )
    used = hosts_in_use(tenants_dir)
    for host in [*answers.hosts, f"{answers.slug}.localhost"]:
        if host in used:
            raise ScaffoldError(f"host {host!r} already serves tenant {used[host]!r}; each host serves one tenant")


def _validated(data: dict, where: Path) -> TenantConfig:
    from mypage.tenancy.explain import explain_validation_error

    try:
        return TenantConfig.model_validate(data)
    except ValidationError as exc:
        problems = explain_validation_error(exc, where)
        raise ScaffoldError(
            "these answers do not make a valid tenant with this template (nothing was written):\n"
            + "\n".join(str(p) for p in problems)
        ) from exc


HEADER = (
    "tenant.toml of {name}: written by `mypage tenant new`.",
    "Every key is explained above it: what it does, the allowed choices, limits and default. A commented-out",
    "key (# key = …) is at its default; a commented-out [table] is off. Values starting TODO, addresses under",
    ".invalid and the registration number T0000000000000 are placeholders: `mypage tenant check` reports them",
    "until they are filled in. All keys, generated from the schema: docs/tenant-config.md.",
)


def render_logo(name: str, colour: str) -> str:
    label = escape(name)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="220" height="40" viewBox="0 0 220 40" role="img" '
        f'aria-label="{label}" {placeholders.LOGO_MARK}>'
        f'<rect width="40" height="40" rx="8" fill="{colour}"/>'
        f'<text x="20" y="26" text-anchor="middle" font-family="sans-serif" font-size="12" fill="#fff">LOGO</text>'
        f'<text x="50" y="27" font-family="sans-serif" font-size="16" font-weight="bold" fill="{colour}">{label}</text>'
        "</svg>\n"
    )


def render_theme(slug: str) -> str:
    return (
        f"# Theme of tenant {slug!r}: only what differs from its parent (templates/ and static/ resolve here first).\n"
        f'name = "{slug}"\n'
        'parent = "base"\n'
    )


THEME_CSS = """/* This tenant's theme: rules added after the base theme's portal.css. The colours come from
   [branding] in tenant.toml as var(--brand-primary), var(--brand-accent), var(--brand-header-text). */
"""


def render_document(title: str) -> str:
    return f"# {title}\n\n{placeholders.MARK}: ここに{title}を記入してください（Markdown、HTML は使えません）。\n"


def render_file(data: dict, config: TenantConfig) -> str:
    header = [line.format(name=config.names.ja) for line in HEADER]
    return AnnotatedWriter(config).write(data, header)


def write_tenant(answers: Answers, tenants_dir: Path, themes_dir: Path) -> Written:
    """Writes ``tenants/<slug>/`` and ``themes/<slug>/``; refuses a taken slug or host before writing anything."""
    refuse_taken(answers, tenants_dir, themes_dir)
    template = template_data(tenants_dir, answers.template)
    data, documents = build_config(template, answers)
    folder = tenants_dir / answers.slug
    config = _validated(data, folder / "tenant.toml")
    text = render_file(data, config)
    if tomllib.loads(text) != data:  # the writer must round-trip exactly
        raise ScaffoldError("internal error: the written tenant.toml does not read back as the data it was written from")
    theme = themes_dir / answers.slug
    files = {
        folder / "tenant.toml": text,
        folder / "static" / config.branding.logo: render_logo(config.names.ja, config.branding.primary_colour),
        folder / "templates" / ".keep": "",
        theme / "theme.toml": render_theme(answers.slug),
        theme / "static" / "css" / "theme.css": THEME_CSS,
    }
    for link, title in documents.items():
        files[folder / "content" / f"{link.removeprefix('/')}.md"] = render_document(title)
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    found = sorted({key for key, _value in placeholders.found_in(data)})
    return Written(folder, theme, list(files), found)
