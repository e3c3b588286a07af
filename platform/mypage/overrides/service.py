"""Rules of configuration overrides: what staff may change, how a version is merged onto ``tenant.toml`` and
validated (the same schema, problems per key), and the draft → publish → restore life cycle.

A version's document holds only changed keys::

    {"theme": "…", "branding": {"accent_colour": "#…", "logo": "media:<name>"}, "contact": {…},
     "texts": {"<key>": {"ja": "…", "en": "…"} | null}, "menu": [ … ], "home_notes": [ … ],
     "features": {"<feature>": true | false}}

Tables (``branding``, ``contact``) are merged key by key, ``texts`` entry by entry (``null`` drops the
tenant's wording, back to the platform default), lists (``menu``, ``home_notes``) replace the file's.
A feature can be switched off, and on again only where ``tenant.toml`` configures it: the file is what the
platform allows the tenant. Switching a feature off also drops the file's menu items that need it.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mypage.audit.log import AuditLog
from mypage.db.errors import is_unique_violation
from mypage.db.transaction import atomic
from mypage.overrides.contrast import contrast_problems
from mypage.overrides.images import CleanImage, clean_image
from mypage.overrides.repository import DRAFT, ConfigVersionRepository, MediaRepository, document_of
from mypage.tenancy.config import MEDIA_PREFIX, Features, TenantConfig, feature_of_path
from mypage.tenancy.registry import Tenant, problems_of
from mypage.tenancy.reload import OVERRIDES, announce

EDITABLE = ("theme", "branding", "contact", "texts", "menu", "home_notes", "features")
"""The top-level keys of ``tenant.toml`` that tenant staff may override."""

Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class Checked:
    """The outcome of validating a document: the merged config, or the problems (dotted key, message)."""

    config: TenantConfig | None
    problems: Problems = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.config is not None and not self.problems


def _merge_features(base: dict, wanted: dict, problems: Problems) -> tuple[dict, list[str]]:
    features = dict(base.get("features") or {})
    switched_off = []
    for name, on in wanted.items():
        key = f"features.{name}"
        if name not in Features.model_fields:
            problems.append((key, f"unknown feature; known: {', '.join(Features.model_fields)}"))
        elif not isinstance(on, bool):
            problems.append((key, "must be true (on) or false (off)"))
        elif on and name not in features:
            problems.append((key, "the platform has not made this feature available to this tenant"))
        elif not on and name in features:
            del features[name]
            switched_off.append(name)
    return features, switched_off


def _without_items_of(menu: list[dict], switched_off: list[str]) -> list[dict]:
    def needs_off(item: dict) -> bool:
        href = str(item.get("href", ""))
        needed = item.get("feature") or (feature_of_path(href) if href.startswith("/") else "") or ""
        return bool(needed) and str(needed).split(".", 1)[0] in switched_off

    groups = []
    for group in menu:
        items = [item for item in group.get("items", []) if not needs_off(item)]
        if items:
            groups.append({**group, "items": items})
    return groups


def merge(base: dict, document: dict) -> tuple[dict, Problems]:
    """``tenant.toml``'s data with the document's changes, and the problems found while merging."""
    problems: Problems = []
    merged = copy.deepcopy(base)
    switched_off: list[str] = []
    for key, value in document.items():
        if key not in EDITABLE:
            problems.append((key, f"cannot be changed in the console (changeable: {', '.join(EDITABLE)})"))
        elif key == "features":
            if not isinstance(value, dict):
                problems.append((key, "must be a table of feature names to true/false"))
                continue
            merged["features"], switched_off = _merge_features(base, value, problems)
        elif key == "texts" and isinstance(value, dict):
            texts = dict(merged.get("texts") or {})
            for text_key, phrase in value.items():
                if phrase is None:
                    texts.pop(text_key, None)
                else:
                    texts[text_key] = phrase
            merged["texts"] = texts
        elif key in ("branding", "contact") and isinstance(value, dict):
            merged[key] = {**(merged.get(key) or {}), **value}
        else:
            merged[key] = copy.deepcopy(value)
    if switched_off and "menu" not in document:
        merged["menu"] = _without_items_of(merged.get("menu") or [], switched_off)
    return merged, problems


def check(
    base: Tenant,
    document: dict,
    *,
    media: frozenset[str] | set[str] = frozenset(),
    themes: set[str] | None = None,
) -> Checked:
    """Validates ``document`` merged onto the tenant's folder: schema, logo, theme and colour contrast."""
    merged, problems = merge(base.source, document)
    theme = merged.get("theme", "base")
    if themes is not None and theme not in themes:
        problems.append(("theme", f"unknown theme {theme!r}; available: {', '.join(sorted(themes))}"))
    try:
        config = TenantConfig.model_validate(merged)
    except ValidationError as exc:
        return Checked(None, problems + problems_of(exc))
    logo = config.branding.logo
    if logo.startswith(MEDIA_PREFIX):
        if logo.removeprefix(MEDIA_PREFIX) not in media:
            problems.append(("branding.logo", "no uploaded image of that name"))
    elif logo != base.config.branding.logo and not (base.static_dir / logo).is_file():
        problems.append(("branding.logo", f"no file {logo!r} under the tenant's static/"))
    problems += [(p.key, p.message()) for p in contrast_problems(config.branding)]
    return Checked(config, problems)


def effective_tenant(base: Tenant, version: int, config: TenantConfig, logo: tuple[str, bytes] | None) -> Tenant:
    return Tenant(config=config, folder=base.folder, source=base.source, override_version=version, logo=logo)


class OverridesError(Exception):
    """A version cannot be saved or published; ``problems`` name the keys."""

    def __init__(self, problems: Problems):
        self.problems = problems
        super().__init__("; ".join(f"{key}: {message}" for key, message in problems))


Recorder = Callable[..., Awaitable[None]]
"""``await record(event, before=…, after=…, **detail)``: writes one audit entry (inside the change's transaction)."""


class Overrides:
    """One tenant's override versions (``base``: the tenant as its folder defines it). ``record`` writes the
    audit entries; the console passes one that names the staff member (``admin.audit.log``)."""

    def __init__(self, base: Tenant, themes: set[str] | None = None, record: Recorder | None = None):
        self.base = base
        self.themes = themes
        self.versions = ConfigVersionRepository(base.slug)
        self.media = MediaRepository(base.slug)
        self.record: Recorder = record or AuditLog(base.slug).record

    async def check(self, document: dict) -> Checked:
        logo = str((document.get("branding") or {}).get("logo", ""))
        media = {logo.removeprefix(MEDIA_PREFIX)} if logo.startswith(MEDIA_PREFIX) else set()
        media = {name for name in media if await self.media.exists(name)}
        return check(self.base, document, media=media, themes=self.themes)

    async def disallowed(self, document: dict) -> Problems:
        """Features the document switches on (back) that the platform console does not allow this tenant's
        admins: off in the live version and no longer off in the document."""
        from mypage.platformconsole.service import allowed_features

        wanted = document.get("features")
        wanted = wanted if isinstance(wanted, dict) else {}
        allowed = await allowed_features(self.base.slug)
        if allowed is None:
            return []
        live = (await self.current_document()).get("features") or {}
        off_now = {name for name, on in live.items() if on is False}
        switched_on = {name for name in off_now if wanted.get(name) is not False}
        return [
            (f"features.{name}", "the platform does not allow this tenant's administrators to switch this feature on")
            for name in sorted(switched_on - allowed)
        ]

    async def current_document(self) -> dict:
        row = await self.versions.current()
        return document_of(row) if row else {}

    async def save_draft(self, document: dict, author: str) -> int:
        """Saves ``document`` as the open draft (a new version when there is none); refuses an invalid one."""
        checked = await self.check(document)
        problems = checked.problems + await self.disallowed(document)
        if not checked.ok or problems:
            raise OverridesError(problems)
        async with atomic():
            await self.versions.lock()
            draft = await self.versions.open_draft()
            if draft is not None:
                await self.versions.update_document(draft["version"], document, author)
                version = draft["version"]
            else:
                version = await self.versions.create(document, author)
            await self.record(
                "admin.config.draft_saved",
                before={"document": document_of(draft)} if draft else None,
                after={"document": document},
                version=version,
                by=author,
            )
        return version

    async def preview(self, version: int) -> Tenant:
        """The tenant as ``version`` would make it (for rendering a preview)."""
        row = await self.versions.get(version)
        if row is None:
            raise LookupError(version)
        checked = await self.check(document_of(row))
        if not checked.ok or checked.config is None:
            raise OverridesError(checked.problems)
        return effective_tenant(self.base, version, checked.config, await self.logo_of(checked.config))

    async def logo_of(self, config: TenantConfig) -> tuple[str, bytes] | None:
        logo = config.branding.logo
        if not logo.startswith(MEDIA_PREFIX):
            return None
        row = await self.media.get(logo.removeprefix(MEDIA_PREFIX))
        return (row["content_type"], bytes(row["data"])) if row else None

    async def publish(self, version: int, by: str) -> None:
        """Makes ``version`` live on every worker (validated again: the folder may have changed since)."""
        row = await self.versions.get(version)
        if row is None:
            raise LookupError(version)
        before = await self.versions.current()
        checked = await self.check(document_of(row))
        if not checked.ok:
            raise OverridesError(checked.problems)
        async with atomic():
            await self.versions.lock()
            await self.versions.make_current(version, by)
            await self.record("admin.config.published", before=_live(before), after=_live(row), version=version, by=by)
        await announce(OVERRIDES)

    async def restore(self, version: int, by: str) -> int:
        """Publishes a copy of ``version`` as a new version (the history keeps every version)."""
        row = await self.versions.get(version)
        if row is None:
            raise LookupError(version)
        document = document_of(row)
        checked = await self.check(document)
        if not checked.ok:
            raise OverridesError(checked.problems)
        before = await self.versions.current()
        async with atomic():
            await self.versions.lock()
            copy_version = await self.versions.create(document, by, restored_from=version)
            await self.versions.make_current(copy_version, by)
            await self.record(
                "admin.config.restored",
                before=_live(before),
                after={"version": copy_version, "document": document},
                version=copy_version,
                restored_from=version,
                by=by,
            )
        await announce(OVERRIDES)
        return copy_version

    async def discard(self, version: int, by: str) -> None:
        """Deletes ``version`` if it is a draft (published versions stay in the history)."""
        row = await self.versions.get(version)
        if row is None or not is_draft(row):
            raise LookupError(version)
        async with atomic():
            await self.versions.lock()
            await self.versions.discard_draft(version)
            await self.record("admin.config.draft_discarded", before={"document": document_of(row)}, version=version, by=by)

    async def upload_logo(self, raw: bytes, by: str) -> str:
        """Stores a cleaned copy of an uploaded image; returns the ``branding.logo`` value naming it.

        Raises :class:`~mypage.overrides.images.ImageError` for a file that is refused."""
        image: CleanImage = clean_image(raw)
        try:
            async with atomic():
                name = await self.media.add(image, by)
                await self.record("admin.config.logo_uploaded", name=name, by=by, width=image.width, height=image.height)
        except Exception as exc:
            if not is_unique_violation(exc):  # the same image uploaded at the same moment: it is stored
                raise
            name = image.name
        return MEDIA_PREFIX + name


def _live(row: dict[str, Any] | None) -> dict | None:
    """What the audit log keeps of a version: its number and document."""
    return {"version": row["version"], "document": document_of(row)} if row else None


def is_draft(row: dict[str, Any]) -> bool:
    return row["status"] == DRAFT
