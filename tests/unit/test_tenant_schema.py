"""The tenant schema is honest (issue 8, item 5): every field is documented, every field is read by
some code, the ``[texts]`` registry is the set of keys the code looks up, and
``docs/tenant-config.md`` is generated from all of that and current."""

from __future__ import annotations

import importlib.util
import re
import typing
from pathlib import Path

from pydantic import BaseModel

from mypage.tenancy.config import TenantConfig, Text
from mypage.tenancy.texts import FIELD, PENDING_RENAMES, TEXT_KEY_FAMILIES, TEXT_KEYS

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "platform" / "mypage" / "tenancy" / "config.py"
TEXT_REGISTRY = ROOT / "platform" / "mypage" / "tenancy" / "texts.py"
SOURCE_SUFFIXES = {".py", ".html", ".txt", ".xml", ".j2"}


def models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in models_in(arg)]


def schema_fields(model: type[BaseModel] = TenantConfig, prefix: str = ""):
    """``(dotted path, field name, model, FieldInfo)`` of every field; list items are written ``[]``."""
    for name, info in model.model_fields.items():
        dotted = prefix + name
        yield dotted, name, model, info
        nested = "[]" if typing.get_origin(info.annotation) is list else ""
        for inner in models_in(info.annotation):
            if inner is not Text:
                yield from schema_fields(inner, f"{dotted}{nested}.")


def code_files() -> list[tuple[Path, str]]:
    """The code that may read the config: platform/ (minus the schema and the text-key registry, whose
    docstrings name fields and keys, and migrations, which never read config), themes/ and the tenants'
    template overrides."""
    roots = [ROOT / "platform", ROOT / "themes", *sorted((ROOT / "tenants").glob("*/templates"))]
    files = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or not path.is_file() or path in (SCHEMA, TEXT_REGISTRY):
                continue
            if "migrations" in path.parts or "__pycache__" in path.parts:
                continue
            files.append((path, path.read_text(encoding="utf-8", errors="replace")))
    return files


# -- every field has a docstring --------------------------------------------------------------------


def test_every_schema_field_has_a_docstring():
    seen, missing = set(), []
    for dotted, name, model, info in [*schema_fields(), *[(f"Text.{n}", n, Text, i) for n, i in Text.model_fields.items()]]:
        if (model, name) in seen:
            continue
        seen.add((model, name))
        if not (info.description or "").strip():
            missing.append(f"{model.__name__}.{name} ({dotted})")
    assert not missing, "schema fields without a docstring (add one under the field in tenancy/config.py):\n" + "\n".join(missing)


# -- the Zulip rule: every field is read by some code ----------------------------------------------
#
# The search is textual: a field counts as read when its name appears as an attribute (``.name``) or
# a quoted name (``getattr(x, "name")``, ``["name"]``) in a code file. Common names (``label``, ``key``)
# are therefore found easily; the test catches fields whose name appears nowhere, which is how dead
# settings look in practice.

READ_ONLY_BY_THE_SCHEMA = {
    "menu[].items[].feature": "refuses a menu item whose feature is off (TenantConfig.check); the menu shows the item as is",
    "texts": "read through TenantConfig.text() (and texts.get in mail templates)",
}
"""Fields whose only reader is validation or a method of the schema module itself."""

NOT_YET_READ: dict[str, str] = {}
"""Fields that no code reads yet, kept for the work that will read them (not deleted)."""


def _is_read(name: str, files: list[tuple[Path, str]]) -> list[Path]:
    pattern = re.compile(rf"\.{re.escape(name)}\b|[\"']{re.escape(name)}[\"']")
    return [path for path, text in files if pattern.search(text)]


def test_every_schema_field_is_read_by_some_code():
    files = code_files()
    unread = []
    for dotted, name, _model, _info in schema_fields():
        if dotted in READ_ONLY_BY_THE_SCHEMA or dotted in NOT_YET_READ:
            continue
        if not _is_read(name, files):
            unread.append(dotted)
    assert not unread, (
        "schema fields that no code in platform/, themes/ or tenants/*/templates reads (wire them up, remove them, "
        "or list them in NOT_YET_READ with the issue that will read them):\n" + "\n".join(unread)
    )


def test_the_not_yet_read_list_is_current():
    files = code_files()
    fields = {dotted: name for dotted, name, _m, _i in schema_fields()}
    for dotted in [*NOT_YET_READ, *READ_ONLY_BY_THE_SCHEMA]:
        assert dotted in fields, f"{dotted} is no schema field any more: remove it from the list"
    now_read = [d for d in NOT_YET_READ if _is_read(fields[d], files)]
    assert not now_read, f"now read by code, remove from NOT_YET_READ: {now_read}"


def test_the_check_would_find_an_unread_field():
    files = [(Path("x.py"), "config.identity.totp_optional and getattr(f, 'layout')")]
    assert _is_read("totp_optional", files) and _is_read("layout", files)
    assert not _is_read("collect_nickname", files) and not _is_read("totp", files)


# -- [texts]: the registry is the set of keys the code looks up ------------------------------------

STATIC_LOOKUPS = [
    # t("key", "default") in templates (web/render.py and documents/pdf.py provide ``t``)
    re.compile(r"""(?<![\w.])t\(\s*(["'])(?P<key>[a-z0-9_.]+)\1\s*,\s*(["'])(?P<default>.*?)(?<!\\)\3\s*\)"""),
    # text(tenant, "key", default) in Python (web/render.py)
    re.compile(r"""(?<![\w.])text\(\s*tenant\s*,\s*(["'])(?P<key>[a-z0-9_.]+)\1"""),
    # tenant.config.text("key", locale)
    re.compile(r"""config\.text\(\s*(["'])(?P<key>[a-z0-9_.]+)\1"""),
    # tenant.texts.get("key") in templates
    re.compile(r"""texts\.get\(\s*(["'])(?P<key>[a-z0-9_.]+)\1"""),
]
FAMILY_LOOKUP = re.compile(
    r"""(?:(?<![\w.])text\(\s*tenant\s*,\s*|config\.text\(\s*)f(["'])(?P<head>[a-z0-9_.]*)\{\w+\}(?P<tail>[a-z0-9_.]*)\1"""
)
DYNAMIC_LOOKUP = re.compile(r"""(?<![\w.])t\(\s*(?![\"'\s)])|config\.text\(\s*(?![\"'f\s])(?!key\b)""")
"""A lookup with a computed key cannot be checked: the registry would not know it."""


def code_text_keys() -> tuple[dict[str, set[str]], set[str], list[str]]:
    """``({key: defaults}, {family patterns}, [dynamic lookups])`` found in the code."""
    keys: dict[str, set[str]] = {}
    families: set[str] = set()
    dynamic: list[str] = []
    for path, text in code_files():
        for pattern in STATIC_LOOKUPS:
            for match in pattern.finditer(text):
                defaults = keys.setdefault(match["key"], set())
                default = match.groupdict().get("default")
                if default:
                    defaults.add(default)
        for match in FAMILY_LOOKUP.finditer(text):
            families.add(f"{match['head']}{FIELD}{match['tail']}")
        for match in DYNAMIC_LOOKUP.finditer(text):
            line = text[: match.start()].count("\n") + 1
            if path.name not in ("render.py", "pdf.py"):  # where ``t`` itself is defined
                dynamic.append(f"{path.relative_to(ROOT)}:{line}")
    return keys, families, dynamic


def test_the_text_key_registry_is_the_set_of_keys_the_code_looks_up():
    keys, families, dynamic = code_text_keys()
    assert not dynamic, f"text lookups with a computed key (use a literal key or an f-string family): {dynamic}"
    assert set(TEXT_KEYS) == set(keys), (
        "mypage/tenancy/texts.py TEXT_KEYS and the code disagree:\n"
        f"  looked up but not registered: {sorted(set(keys) - set(TEXT_KEYS))}\n"
        f"  registered but looked up nowhere: {sorted(set(TEXT_KEYS) - set(keys))}"
    )
    assert set(TEXT_KEY_FAMILIES) == families, (
        f"TEXT_KEY_FAMILIES {sorted(TEXT_KEY_FAMILIES)} and the code's f-string lookups {sorted(families)} disagree"
    )


def test_the_registered_default_wording_is_the_code_s():
    keys, _families, _dynamic = code_text_keys()
    wrong = {
        key: (sorted(TEXT_KEYS[key].defaults), sorted(defaults))
        for key, defaults in keys.items()
        if set(TEXT_KEYS[key].defaults) != defaults
    }
    assert not wrong, f"default wording in texts.py differs from the code's (registry, code): {wrong}"


def test_registry_entries_are_documented_and_sorted():
    assert list(TEXT_KEYS) == sorted(TEXT_KEYS)
    for key, entry in {**TEXT_KEYS, **TEXT_KEY_FAMILIES}.items():
        assert entry.doc.strip(), key
        for need in entry.needs:
            assert re.fullmatch(r"(kind:(chosen|email|issued)|factor:(password|email_otp|captcha|totp)|setting:[a-z_]+)", need), (
                need
            )
    for old in PENDING_RENAMES:
        assert old in TEXT_KEYS or old in TEXT_KEY_FAMILIES, old


def test_the_check_would_find_a_text_lookup():
    sample = 'x {{ t("billing.title", "料金") }} text(tenant, f"verify.{field}.detail", "")'
    assert STATIC_LOOKUPS[0].search(sample)["key"] == "billing.title"
    assert FAMILY_LOOKUP.search(sample)["head"] == "verify."
    assert DYNAMIC_LOOKUP.search('{{ t(name, "x") }}') and not DYNAMIC_LOOKUP.search('{{ t("a", "b") }}')


# -- docs/tenant-config.md is generated and current ---------------------------------------------


def _doc_script():
    spec = importlib.util.spec_from_file_location("tenant_config_doc", ROOT / "scripts" / "tenant_config_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tenant_config_doc_is_current():
    script = _doc_script()
    committed = (ROOT / "docs" / "tenant-config.md").read_text(encoding="utf-8")
    assert committed == script.render(), f"docs/tenant-config.md is not current: run {script.COMMAND} and commit it"


def test_the_doc_names_every_field_and_text_key():
    text = _doc_script().render()
    for dotted, *_ in schema_fields():
        assert f"`{dotted}`" in text, dotted
    for key in [*TEXT_KEYS, *TEXT_KEY_FAMILIES]:
        assert f"`{key}`" in text, key
