"""``mypage tenant check``: every problem of the tenant folders, each with its file, its key, what is
wrong and what would be right.

The checks are those of start-up (the schema and its cross-field rules in ``tenancy/config.py``, the
loader's in ``tenancy/registry.py``, the theme chains) plus the placeholders ``mypage tenant new``
leaves (``tenancy/placeholders.py``). Unlike start-up, which stops at the first broken folder's
loader problem, this reads every folder and reports everything it finds.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from mypage.tenancy import placeholders
from mypage.tenancy.annotated import facts, item_model, table_model
from mypage.tenancy.config import ConfigProblems, TenantConfig, Text
from mypage.tenancy.registry import TenantConfigError, load_tenant


@dataclass(frozen=True)
class Problem:
    file: Path
    key: str
    wrong: str
    right: str = ""
    warning: bool = False

    def __str__(self) -> str:
        head = f"{self.file}: key '{self.key}': {self.wrong}" if self.key else f"{self.file}: {self.wrong}"
        if self.warning:
            head = "warning: " + head
        return head + (f"\n    right: {self.right}" if self.right else "")


@dataclass(frozen=True)
class Report:
    """The outcome for one tenant folder: its config when the schema accepted it, and its problems."""

    folder: Path
    config: TenantConfig | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]


# -- the schema: which field a key names ---------------------------------------------------------------


def field_at(loc: tuple) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """The model in which the last named part of ``loc`` (a pydantic error location) is a field, and that
    field; ``None`` where the location leaves the schema (an unknown key, a ``[texts]`` entry)."""
    model: type[BaseModel] | None = TenantConfig
    owner, info = model, None
    for part in loc:
        if not isinstance(part, str) or model is None:
            continue
        if part not in model.model_fields:
            return model, None
        owner, info = model, model.model_fields[part]
        annotation = info.annotation
        model = item_model(annotation) or table_model(annotation) or (Text if annotation is Text else None)
    return owner, info


def _doc(info: FieldInfo | None) -> str:
    return " ".join((info.description or "").split()).replace("``", "`") if info else ""


def _meaning(info: FieldInfo | None) -> str:
    if info is None:
        return ""
    return f"{_doc(info)} ({facts(info)})".strip()


# -- explaining one pydantic error -----------------------------------------------------------------

FIX_WORDS = re.compile(
    r"^(use|known|fix|remove|set|add|choose|give|write|put|list|turn|drop|lower|raise|name|make|fill|keep|did you mean)\b"
)


def split_rule(message: str) -> tuple[str, str]:
    """A cross-field rule says ``<what is wrong>; <what would be right>``: the two parts."""
    wrong, sep, right = message.partition("; ")
    if sep and FIX_WORDS.match(right):
        return wrong, right
    return message, ""


def _explain_one(error: Any, file: Path) -> list[Problem]:
    loc = tuple(error["loc"])
    key = ".".join(str(part) for part in loc)
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigProblems):
        problems = []
        for sub_key, message in cause.problems:
            full = ".".join(part for part in (key, sub_key) if part)
            wrong, right = split_rule(message)
            if not right:
                _model, info = field_at(tuple(int(p) if p.isdigit() else p for p in full.split(".")))
                right = _meaning(info)
            problems.append(Problem(file, full, wrong, right))
        return problems
    kind = error["type"]
    value = error.get("input")
    owner, info = field_at(loc)
    meaning = _meaning(info)
    if kind == "missing":
        return [Problem(file, key, "is missing (required)", f"add it: {meaning}")]
    if kind == "extra_forbidden":
        known = list(owner.model_fields) if owner is not None else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=2, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        return [Problem(file, key, "is not a key of this table", f"{hint}remove it or use one of: {', '.join(known)}")]
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    message = error["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        return [Problem(file, key, f"{shown} is not one of the choices", f"use one of {error['ctx']['expected']}: {_doc(info)}")]
    return [Problem(file, key, f"{shown}: {message}", meaning)]


def explain_validation_error(error: ValidationError, file: Path) -> list[Problem]:
    return [problem for one in error.errors() for problem in _explain_one(one, file)]


# -- the loader's checks, the themes, the hosts ----------------------------------------------------

LINE = re.compile(r"^(?P<file>.+?): key '(?P<key>[^']+)': (?P<message>.*)$")
LOADER_FIXES = {
    "slug": 'the slug must equal the folder name: set slug = "{folder}" or rename the folder',
    "branding.logo": "put the logo file into {folder}/static/, or set branding.logo to a file that is there",
    "theme": 'create themes/<theme>/theme.toml (with parent = "base"), or set theme to an existing theme',
    "identity.registration.terms_url": "write that Markdown file under content/, or link another document",
    "features.mailboxes.terms_url": "write that Markdown file under content/, or link another document",
    "parent": 'set parent to an existing theme (ending in "base"), without cycles',
}


def parse_lines(message: str, folder_name: str = "") -> list[Problem]:
    """Problems from a :class:`TenantConfigError` message (``<file>: key '<key>': <problem>`` lines)."""
    problems = []
    for line in message.splitlines():
        match = LINE.match(line)
        if match is None:
            file, _, rest = line.partition(": ")
            problems.append(Problem(Path(file), "", rest or line))
            continue
        key = match["key"]
        right = LOADER_FIXES.get(key, "").format(folder=folder_name)
        problems.append(Problem(Path(match["file"]), key, match["message"], right))
    return problems


def _placeholder_problems(data: dict, folder: Path, config: TenantConfig | None) -> list[Problem]:
    file = folder / "tenant.toml"
    problems = []
    seen = set()
    for key, value in placeholders.found_in(data):
        if key in seen:
            continue
        seen.add(key)
        _model, info = field_at(tuple(int(p) if p.isdigit() else p for p in key.split(".")))
        problems.append(Problem(file, key, f"still the placeholder {value!r}", f"fill in: {_meaning(info)}"))
    for document in placeholders.files_with_placeholders(folder):
        problems.append(Problem(document, "", "still the placeholder document", "write the document (Markdown, no HTML)"))
    if config is not None and placeholders.logo_is_placeholder(folder / "static" / config.branding.logo):
        problems.append(
            Problem(
                folder / "static" / config.branding.logo,
                "",
                "is the generated placeholder logo",
                "put the operator's logo there (SVG or PNG; set branding.logo if the name differs)",
                warning=True,
            )
        )
    return problems


def check_folder(folder: Path, themes_dir: Path) -> tuple[Report, dict]:
    """Every problem of one tenant folder (not those between folders); also its parsed data."""
    file = folder / "tenant.toml"
    if not file.is_file():
        return Report(folder, None, [Problem(file, "", "file is missing", "write it, e.g. with `mypage tenant new`")]), {}
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return Report(folder, None, [Problem(file, "", f"not valid TOML: {exc}", "fix the syntax at that line and column")]), {}
    try:
        config: TenantConfig | None = TenantConfig.model_validate(data)
    except ValidationError as exc:
        return Report(folder, None, explain_validation_error(exc, file) + _placeholder_problems(data, folder, None)), data
    problems = []
    try:
        load_tenant(folder, themes_dir)
    except TenantConfigError as exc:
        problems += parse_lines(str(exc), folder.name)
    problems += _placeholder_problems(data, folder, config)
    return Report(folder, config, problems), data


def check_themes(themes_dir: Path) -> list[Problem]:
    from mypage.web.templating import ThemeRegistry

    try:
        ThemeRegistry(themes_dir)
    except TenantConfigError as exc:
        return parse_lines(str(exc))
    return []


def tenant_folders(tenants_dir: Path) -> list[Path]:
    """The folders start-up loads (hidden and ``_`` folders are skipped)."""
    return sorted(p for p in tenants_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def check_all(tenants_dir: Path, themes_dir: Path, only: str | None = None) -> tuple[list[Report], list[Problem]]:
    """Reports of every tenant folder (or of ``only``), and the problems of no one folder (themes, tenants dir)."""
    if not tenants_dir.is_dir():
        return [], [Problem(tenants_dir, "", "tenants folder is missing", "create it or set MYPAGE_TENANTS_DIR")]
    general = check_themes(themes_dir)
    reports: list[Report] = []
    hosts: dict[str, list[Path]] = {}
    for folder in tenant_folders(tenants_dir):
        report, data = check_folder(folder, themes_dir)
        raw_hosts = data.get("hosts", []) if isinstance(data.get("hosts"), list) else []
        for host in raw_hosts:
            hosts.setdefault(str(host).strip().lower(), []).append(folder)
        if only is None or folder.name == only:
            reports.append(report)
    for report in reports:
        for host, folders in hosts.items():
            if len(folders) > 1 and report.folder in folders:
                others = ", ".join(repr(f.name) for f in folders if f != report.folder)
                report.problems.append(
                    Problem(
                        report.folder / "tenant.toml",
                        "hosts",
                        f"{host!r} is also a host of {others}",
                        "each host serves one tenant: remove it from all tenants but one",
                    )
                )
    return reports, general
