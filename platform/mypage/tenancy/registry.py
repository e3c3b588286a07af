"""Loads and validates every ``tenants/<slug>/tenant.toml``; maps hosts to tenants."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mypage.tenancy.config import ConfigProblems, TenantConfig
from mypage.tenancy.fingerprint import Fingerprint, Fingerprints

LOADER_RULES = (
    "The file is valid TOML and `slug` equals the folder name.",
    "`branding.logo` is a file under the tenant's `static/`.",
    "`theme` is a folder under `themes/` with a `theme.toml` (parents chain to `base`, no cycles).",
    "A document link (`identity.registration.terms_url`, `features.mailboxes.terms_url`) is served: `/terms` needs "
    "`content/terms.md`, `/terms/<name>` needs `content/terms/<name>.md` in the tenant's folder, `/static/<file>` a "
    "file in the tenant's or its theme chain's `static/`.",
    "No host serves two tenants.",
)
"""What ``load_tenant`` and ``TenantRegistry`` check beyond the schema (listed in ``docs/tenant-config.md``)."""


class TenantConfigError(Exception):
    """A tenant folder is invalid; the message names the file, the key and the problem."""


@dataclass(frozen=True)
class Tenant:
    """A loaded tenant: its validated config and its folder.

    ``source`` is the data read from ``tenant.toml`` (the base that published overrides are merged onto);
    ``override_version`` the published override version applied (None: the folder alone); ``logo`` the
    uploaded logo of that version as ``(content type, bytes)`` when its ``branding.logo`` names one."""

    config: TenantConfig
    folder: Path
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    override_version: int | None = None
    logo: tuple[str, bytes] | None = field(default=None, compare=False, repr=False)

    @property
    def slug(self) -> str:
        return self.config.slug

    @property
    def templates_dir(self) -> Path:
        return self.folder / "templates"

    @property
    def static_dir(self) -> Path:
        return self.folder / "static"


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """``(dotted key, problem)`` for every problem of a validation. Cross-field rules
    (:class:`ConfigProblems`) name their own keys, relative to the model that checked them."""
    found = []
    for problem in error.errors():
        prefix = ".".join(str(part) for part in problem["loc"])
        cause = (problem.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigProblems):
            for key, message in cause.problems:
                found.append((".".join(part for part in (prefix, key) if part), message))
            continue
        found.append((prefix or "(top level)", problem["msg"]))
    return found


def describe(problems: list[tuple[str, str]], path: Path | str) -> str:
    """One line per problem: ``<file>: key '<dotted key>': <problem>``."""
    return "\n".join(f"{path}: key '{key}': {message}" for key, message in problems)


def validate_config(data: dict, path: Path) -> TenantConfig:
    """The validated config of ``data`` (read from ``path``); :class:`TenantConfigError` names every problem."""
    try:
        return TenantConfig.model_validate(data)
    except ValidationError as exc:
        raise TenantConfigError(describe(problems_of(exc), path)) from exc


def _static_dirs(folder: Path, theme: str, themes_dir: Path | None) -> list[Path]:
    """Where ``/static/<file>`` is looked up: the tenant's ``static/``, then its theme chain's."""
    dirs = [folder / "static"]
    seen: set[str] = set()
    name: str | None = theme
    while themes_dir is not None and name and name not in seen:
        seen.add(name)
        dirs.append(themes_dir / name / "static")
        toml = themes_dir / name / "theme.toml"
        try:
            name = tomllib.loads(toml.read_text(encoding="utf-8")).get("parent") if toml.is_file() else None
        except tomllib.TOMLDecodeError:
            name = None
    return dirs


def _check_document_links(config: TenantConfig, folder: Path, themes_dir: Path | None, path: Path) -> list[str]:
    """Links of the config to a tenant document (``/terms``, ``/terms/<name>``, served by ``content/routes.py``
    from ``content/<name>.md``) or to ``/static/<file>`` must name a file the portal serves."""
    links = {"identity.registration.terms_url": config.identity.registration.terms_url}
    if config.features.mailboxes is not None:
        links["features.mailboxes.terms_url"] = config.features.mailboxes.terms_url
    problems = []
    for key, url in links.items():
        if url.startswith("/static/"):
            name = url.removeprefix("/static/").split("?", 1)[0]
            if ".." in name.split("/") or not any((d / name).is_file() for d in _static_dirs(folder, config.theme, themes_dir)):
                problems.append(f"{path}: key '{key}': {url!r} is not a file under the tenant's or its theme's static/")
        elif url == "/terms" or url.startswith("/terms/"):
            document = folder / "content" / f"{url.removeprefix('/')}.md"
            if not document.is_file():
                problems.append(f"{path}: key '{key}': {url!r} is served from {document}, which does not exist")
    return problems


def load_tenant(folder: Path, themes_dir: Path | None = None) -> Tenant:
    path = folder / "tenant.toml"
    if not path.is_file():
        raise TenantConfigError(f"{path}: file is missing")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TenantConfigError(f"{path}: not valid TOML: {exc}") from exc
    config = validate_config(data, path)
    if config.slug != folder.name:
        raise TenantConfigError(f"{path}: key 'slug': {config.slug!r} differs from the folder name {folder.name!r}")
    logo = folder / "static" / config.branding.logo
    if not logo.is_file():
        raise TenantConfigError(f"{path}: key 'branding.logo': file {logo} does not exist")
    if themes_dir is not None and not (themes_dir / config.theme / "theme.toml").is_file():
        raise TenantConfigError(f"{path}: key 'theme': no theme {config.theme!r} in {themes_dir}")
    problems = _check_document_links(config, folder, themes_dir, path)
    if problems:
        raise TenantConfigError("\n".join(problems))
    return Tenant(config=config, folder=folder, source=data)


class TenantRegistry:
    """All tenants, by slug and by host.

    ``fingerprints`` holds, per tenant folder read, what :func:`fingerprint` saw; ``read`` names the folders this
    registry parsed (the others came unchanged from the ``previous`` registry given to :meth:`load`)."""

    def __init__(self, tenants: list[Tenant], fingerprints: dict[str, Fingerprint | None] | None = None):
        self._by_slug = {t.slug: t for t in tenants}
        self.fingerprints: dict[str, Fingerprint | None] = fingerprints or {}
        self.read: tuple[str, ...] = ()
        self._by_host: dict[str, Tenant] = {}
        for tenant in tenants:
            for host in tenant.config.hosts:
                other = self._by_host.get(host)
                if other is not None:
                    raise TenantConfigError(
                        f"{tenant.folder / 'tenant.toml'}: key 'hosts': {host!r} is already used by {other.slug!r}"
                    )
                self._by_host[host] = tenant

    @classmethod
    def load(
        cls,
        tenants_dir: Path,
        themes_dir: Path | None = None,
        previous: TenantRegistry | None = None,
        theme_parents: Mapping[str, str | None] | None = None,
    ) -> TenantRegistry:
        """Every tenant folder, validated. With ``previous``, a folder whose files (and its theme chain's) are
        unchanged since ``previous`` read it is not read again: its tenant is taken over as it is.
        ``theme_parents`` (``ThemeRegistry.parents()``) spares reading the themes' ``theme.toml`` again."""
        if not tenants_dir.is_dir():
            raise TenantConfigError(f"{tenants_dir}: tenants folder is missing")
        folders = sorted(p for p in tenants_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        prints = Fingerprints(themes_dir, theme_parents)
        errors, tenants, read = [], [], []
        fingerprints: dict[str, Fingerprint | None] = {}
        for folder in folders:
            known = previous.find(folder.name) if previous is not None else None
            if known is not None and known.folder == folder:
                seen = previous.fingerprints.get(folder.name) if previous is not None else None
                if seen is not None and prints.of(folder, known.config.theme) == seen:
                    tenants.append(known)
                    fingerprints[folder.name] = seen
                    continue
            try:
                taken = prints.of_unread(folder)
                tenant = load_tenant(folder, themes_dir)
            except TenantConfigError as exc:
                errors.append(str(exc))
                continue
            finally:
                read.append(folder.name)
            if known is not None and tenant == known and tenant.source == known.source:
                tenant = known  # read again (its files were touched or too recent to trust) but the same
            tenants.append(tenant)
            fingerprints[folder.name] = prints.settled(taken, tenant.config.theme)
        if errors:
            raise TenantConfigError("\n".join(errors))
        registry = cls(tenants, fingerprints)
        registry.read = tuple(read)
        return registry

    def __iter__(self):
        return iter(self._by_slug.values())

    def __len__(self) -> int:
        return len(self._by_slug)

    def get(self, slug: str) -> Tenant:
        return self._by_slug[slug]

    def find(self, slug: str) -> Tenant | None:
        return self._by_slug.get(slug)

    def by_host(self, host: str) -> Tenant | None:
        return self._by_host.get(host.split(":", 1)[0].strip().lower())

    @property
    def slugs(self) -> list[str]:
        return list(self._by_slug)
