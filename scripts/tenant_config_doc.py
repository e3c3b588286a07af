"""Writes ``docs/tenant-config.md`` from the tenant schema (``platform/mypage/tenancy/config.py``), its
cross-field rules and the text-key registry (``platform/mypage/tenancy/texts.py``).

    .venv/bin/python scripts/tenant_config_doc.py          # rewrite docs/tenant-config.md
    .venv/bin/python scripts/tenant_config_doc.py --check  # exit 1 if the file is not current

``tests/unit/test_tenant_schema.py`` fails when the committed file differs from what this script writes.
"""

from __future__ import annotations

import inspect
import json
import sys
import types
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

from pydantic import BaseModel  # noqa: E402
from pydantic_core import PydanticUndefined  # noqa: E402

from mypage.tenancy import config as schema  # noqa: E402
from mypage.tenancy.registry import LOADER_RULES  # noqa: E402
from mypage.tenancy.texts import FIELD, PENDING_RENAMES, TEXT_KEY_FAMILIES, TEXT_KEYS  # noqa: E402

OUTPUT = ROOT / "docs" / "tenant-config.md"
COMMAND = ".venv/bin/python scripts/tenant_config_doc.py"


def _args(annotation) -> tuple:
    return typing.get_args(annotation)


def _is_optional(annotation) -> bool:
    return isinstance(annotation, types.UnionType) and type(None) in _args(annotation)


def _model_in(annotation) -> type[BaseModel] | None:
    """The model a field holds (directly, in a list or as an optional table), if any; not ``Text``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None if annotation is schema.Text else annotation
    for arg in _args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _type(annotation) -> str:
    if annotation is schema.Text:
        return "Text"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    if typing.get_origin(annotation) is typing.Literal:
        return " | ".join(f"`{json.dumps(v, ensure_ascii=False)}`" for v in _args(annotation))
    if _is_optional(annotation):
        inner = next(a for a in _args(annotation) if a is not type(None))
        return f"{_type(inner)}, optional"
    origin = typing.get_origin(annotation)
    if origin is list:
        inner = _args(annotation)[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not schema.Text:
            return "array of tables"
        return f"list of {_type(inner)}"
    if origin is dict:
        return f"table of {_type(_args(annotation)[1])}"
    return {int: "integer", str: "string", bool: "boolean"}.get(annotation, str(annotation))


def _constraints(field) -> str:
    parts = []
    for meta in field.metadata:
        for name, words in (("ge", "≥ {}"), ("le", "≤ {}"), ("min_length", "at least {} item(s)"), ("pattern", "matches `{}`")):
            value = getattr(meta, name, None)
            if value is not None:
                parts.append(words.format(value))
    return ", ".join(parts)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, schema.Text):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.model_dump().items() if v) + " }"
    return str(value)


def _default(field) -> str:
    if field.is_required():
        return "required"
    value = field.default
    if value is PydanticUndefined:
        return "—"
    if value is None:
        return "absent (off)"
    if isinstance(value, BaseModel) and not isinstance(value, schema.Text):
        return "the table's defaults"
    return f"`{_toml(value)}`"


def _cell(text: str) -> str:
    return " ".join((text or "").split()).replace("``", "`").replace("|", "\\|")


def _sections(model: type[BaseModel], path: str, out: list[tuple[str, type[BaseModel]]]) -> None:
    out.append((path, model))
    for name, field in model.model_fields.items():
        inner = _model_in(field.annotation)
        if inner is None:
            continue
        suffix = "[]" if typing.get_origin(field.annotation) is list else ""
        _sections(inner, (f"{path}." if path else "") + name + suffix, out)


def _rules(model: type[BaseModel]) -> list[str]:
    if model.check is schema.Strict.check:
        return []
    doc = inspect.cleandoc(model.check.__doc__ or "")
    return [" ".join(item.split()).removeprefix("- ").replace("``", "`") for item in doc.split("\n\n") if item.strip()]


def render() -> str:
    lines = [
        "# Tenant configuration (`tenants/<slug>/tenant.toml`)",
        "",
        f"<!-- Generated by `{COMMAND}` from platform/mypage/tenancy/config.py and texts.py. Do not edit. -->",
        "",
        "Each operator is a folder `tenants/<slug>/` with a `tenant.toml` (data only), optional template",
        "overrides in `templates/` and files in `static/`. `mypage tenant check` validates every folder; start-up",
        "does the same and refuses to start, with one line per problem:",
        "",
        "```",
        "tenants/<slug>/tenant.toml: key '<dotted key>': <problem>",
        "```",
        "",
        "Dotted keys follow the TOML tables; items of arrays are numbered from 0 (`menu.0.items.3.href`).",
        "Unknown keys are refused. A table of a feature that is absent means the feature is off.",
        "A setting that the tenant's configured journeys would never read is refused too (it would look as",
        "if it did something), as is every combination listed under *Rules*.",
        "",
        'A **Text** is a phrase in every locale: `{ ja = "…", en = "…" }`; `ja` is required, an empty or',
        "missing `en` shows the Japanese.",
        "",
        "## Checked by the loader",
        "",
        *[f"- {rule}" for rule in LOADER_RULES],
        "",
    ]
    sections: list[tuple[str, type[BaseModel]]] = []
    _sections(schema.TenantConfig, "", sections)
    for path, model in sections:
        if not path:
            title = "Top level"
        elif "[]" in path:
            title = f"`[[{path.replace('[]', '')}]]` (each item of the array)"
        else:
            title = f"`[{path}]`"
        lines += [f"## {title}", ""]
        if model.__doc__:
            lines += [" ".join(inspect.cleandoc(model.__doc__).split()).replace("``", "`"), ""]
        lines += ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        for name, field in model.model_fields.items():
            key = f"{path}.{name}" if path else name
            kind = _type(field.annotation)
            limits = _constraints(field)
            if limits:
                kind += f" ({limits})"
            lines.append(f"| `{key}` | {_cell(kind)} | {_cell(_default(field))} | {_cell(field.description or '')} |")
        rules = _rules(model)
        if rules:
            lines += ["", "Rules:", "", *[f"- {rule}" for rule in rules]]
        lines.append("")
    fields = ", ".join(f"`{f}`" for f in schema.VERIFICATION_FIELDS)
    lines += [
        "## `[texts]`: text keys",
        "",
        '`[texts]` overrides wording the platform shows with a neutral default: `"<key>" = { ja = "…", en = "…" }`.',
        "Only the keys below are accepted (an unknown key is refused with the closest known keys), and only",
        "where they are shown: a key that needs a login-ID kind, factor or setting the tenant does not have, or a `<field>` key",
        "for a field its registration does not ask for, is refused. The registry is",
        '`platform/mypage/tenancy/texts.py`; a test fails when it and the code (`t("key", "default")` in',
        'templates, `text(tenant, "key", …)`, `config.text("key", …)`) disagree.',
        "",
        "### Convention",
        "",
        "A key is dot-separated lower-case segments, from the general to the specific, words within a",
        "segment joined by `_`: the area (the page or journey: `link`, `register`, `verify`, `billing`,",
        "`contracts`, `calls`, `mail`), optionally the step (`register.verify`), then the item (`title`,",
        "`intro`, `change_note`). Wording of a form field ends with the field and its part:",
        "`<area>.<field>.label` (the field's name), `.help` (the hint under it), `.detail` (an explanation",
        "next to a choice). The verification fields of every registration flow share one area:",
        "`verify.<field>.label`, `verify.<field>.help`, `verify.<field>.detail`.",
        "",
        *(
            [
                "Keys that predate the convention and are still read under their old names (to be renamed together",
                "with the code that reads them and the tenants' `[texts]`):",
                "",
                "| key today | by the convention | read in |",
                "| --- | --- | --- |",
                *[f"| `{old}` | `{new}` | {where} |" for old, (new, where) in PENDING_RENAMES.items()],
            ]
            if PENDING_RENAMES
            else ["Every key follows it."]
        ),
        "",
        "### Keys",
        "",
        "| key | shown when | default wording | where |",
        "| --- | --- | --- | --- |",
    ]
    for key, entry in TEXT_KEYS.items():
        lines.append(_text_row(key, entry))
    for key, entry in TEXT_KEY_FAMILIES.items():
        lines.append(_text_row(key, entry))
    lines += ["", f"`{FIELD}` is one of {fields}.", ""]
    return "\n".join(lines)


def _text_row(key: str, entry) -> str:
    when = " or ".join(f"`{n}`" for n in entry.needs) or "always"
    default = " / ".join(entry.defaults) or "—"
    return f"| `{key}` | {when} | {_cell(default)} | {_cell(entry.doc)} |"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is not current: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
