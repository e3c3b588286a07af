"""Themes and per-tenant Jinja environments.

Each tenant gets its own :class:`jinja2.Environment` (Jinja caches templates by name, so one shared
environment with a request-dependent loader would leak one tenant's template to another), built on the
tenant's first page (``Portal.templates_for``). Templates resolve child first: the tenant's ``templates/``
overrides, then its theme and the theme's parents up to ``base``, then the feature folders' own ``templates/``.
What a template file compiles to is shared by every environment (:class:`SharedTemplateCode`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import CodeType

import jinja2
import markupsafe

from mypage import i18n
from mypage.tenancy.registry import Tenant, TenantConfigError
from mypage.web.fragments import FragmentCache
from mypage.web.messages import LiteralMessages, gettext_call

PACKAGE_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Theme:
    name: str
    folder: Path
    parent: str | None


class ThemeRegistry:
    def __init__(self, themes_dir: Path):
        self.themes_dir = themes_dir
        self._themes: dict[str, Theme] = {}
        if not themes_dir.is_dir():
            raise TenantConfigError(f"{themes_dir}: themes folder is missing")
        for folder in sorted(p for p in themes_dir.iterdir() if p.is_dir()):
            path = folder / "theme.toml"
            if not path.is_file():
                raise TenantConfigError(f"{path}: file is missing")
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise TenantConfigError(f"{path}: not valid TOML: {exc}") from exc
            parent = data.get("parent")
            if folder.name != "base" and not parent:
                raise TenantConfigError(f"{path}: key 'parent': a theme other than base must name its parent")
            self._themes[folder.name] = Theme(folder.name, folder, parent)
        if "base" not in self._themes:
            raise TenantConfigError(f"{themes_dir}: theme 'base' is missing")
        for theme in self._themes.values():
            self.chain(theme.name)

    @property
    def names(self) -> list[str]:
        return sorted(self._themes)

    def parents(self) -> dict[str, str | None]:
        return {name: theme.parent for name, theme in self._themes.items()}

    def chain(self, name: str) -> list[Theme]:
        """The theme and its ancestors, child first; refuses unknown parents and cycles."""
        chain, seen = [], set()
        current: str | None = name
        while current is not None:
            if current in seen:
                raise TenantConfigError(f"{self.themes_dir / name / 'theme.toml'}: key 'parent': cycle through {current!r}")
            theme = self._themes.get(current)
            if theme is None:
                raise TenantConfigError(f"{self.themes_dir / name / 'theme.toml'}: key 'parent': unknown theme {current!r}")
            seen.add(current)
            chain.append(theme)
            current = theme.parent
        return chain


def feature_template_dirs() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.glob("*/templates") if p.is_dir())


def _locale_filter(format_):
    """A filter formatting in the request's locale. ``pass_context`` keeps Jinja from folding
    ``{{ 12345|yen }}`` into a constant at compile time (in whatever locale compiled it)."""

    @jinja2.pass_context
    def apply(_context, value):
        return format_(value)

    return apply


class SharedTemplateCode(jinja2.BytecodeCache):
    """The compiled code of every template file, shared by the tenants' environments: a file is compiled once per
    process, not once per tenant. Jinja keys it by the template's name *and file* and checks it against the
    file's source, so a tenant's override (a file of its own folder) is never another tenant's code; the
    environments differ only in their globals, never in what compilation depends on (options, extensions,
    filters). Code objects are kept as they are (no marshalling)."""

    def __init__(self) -> None:
        self._codes: dict[str, tuple[str, CodeType]] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        found = self._codes.get(bucket.key)
        if found is not None and found[0] == bucket.checksum:
            bucket.code = found[1]

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.code is not None:
            self._codes[bucket.key] = (bucket.checksum, bucket.code)

    def clear(self) -> None:
        self._codes.clear()

    def __len__(self) -> int:
        return len(self._codes)


TEMPLATE_CODE = SharedTemplateCode()


_escape_inner = getattr(markupsafe, "_escape_inner", None) or (lambda text: str(markupsafe.escape(text)))
"""markupsafe's C function behind ``escape()``, which returns the escaped text without a ``Markup`` around it."""


def _escape_output(value: object) -> str:
    """What ``markupsafe.escape`` gives, as the plain text a template writes out.

    Jinja escapes every ``{{ … }}`` of an HTML template with ``escape()``, which wraps its result in a new
    ``Markup`` (and copies a value that is ``Markup`` already): a tenth of a page's CPU. What a template writes is
    only joined into the page (blocks and macros wrap their own output), so the wrapper is not needed there.
    """
    if type(value) is str:
        return _escape_inner(value)
    html = getattr(value, "__html__", None)
    return html() if html is not None else _escape_inner(str(value))


class PortalTemplate(jinja2.Template):
    """A template whose output is escaped by :func:`_escape_output` (the compiled code names ``escape`` only where
    it writes out a value)."""

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):
        namespace["escape"] = _escape_output
        return super()._from_namespace(environment, namespace, globals)


class TenantTemplates:
    """The Jinja environment and static search path of one tenant."""

    def __init__(self, tenant: Tenant, themes: ThemeRegistry, globals_: dict):
        self.tenant = tenant
        chain = themes.chain(tenant.config.theme)
        self.template_dirs = [tenant.templates_dir, *(t.folder / "templates" for t in chain), *feature_template_dirs()]
        self.static_dirs = [tenant.static_dir, *(t.folder / "static" for t in chain)]
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(p) for p in self.template_dirs if p.is_dir()]),
            autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
            extensions=["jinja2.ext.i18n", FragmentCache, LiteralMessages],
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            bytecode_cache=TEMPLATE_CODE,
        )
        self.env.template_class = PortalTemplate
        self.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
        self.env.globals.update(gettext=gettext_call, _=gettext_call)
        self.env.globals.update(globals_)
        self.env.globals["tenant"] = tenant.config
        self.env.filters.update(
            {
                name: _locale_filter(getattr(i18n, name))
                for name in ("yen", "number", "month", "long_date", "padded_date", "short_date", "date_time")
            }
        )

    def render(self, name: str, context: dict) -> str:
        return self.env.get_template(name).render(context)

    def find_static(self, relative: str) -> Path | None:
        """The file under one of the static folders (child theme first), or None: also for names the file
        system refuses (a NUL byte, a name or path too long), which are simply not found."""
        if "\x00" in relative or len(relative) > 1024:
            return None
        for folder in self.static_dirs:
            try:
                candidate = (folder / relative).resolve()
                if folder.resolve() in candidate.parents and candidate.is_file():
                    return candidate
            except (OSError, ValueError):
                return None
        return None
