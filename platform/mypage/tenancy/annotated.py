"""Writes a ``tenant.toml`` in which every key is explained: its docstring from the schema
(``tenancy/config.py``), the allowed choices, the limits and the default.

Keys the data sets are written as ``key = value``; keys it leaves at their default are written commented
out (``# key = default``), and tables it leaves out (features that are off, optional tables) are written
commented out as a whole, so the file is also the list of everything that could be set.
"""

from __future__ import annotations

import json
import re
import textwrap
import types
import typing
from collections.abc import Iterable

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from mypage.tenancy.config import VERIFICATION_FIELDS, TenantConfig, Text
from mypage.tenancy.texts import FIELD, TEXT_KEY_FAMILIES, TEXT_KEYS

WIDTH = 110
BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


# -- values ----------------------------------------------------------------------------------------


def toml_key(key: str) -> str:
    return key if BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: typing.Any, indent: str = "") -> str:
    """TOML for a value: inline tables on one line, arrays of tables one item per line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are a subset of TOML's basic strings
    if isinstance(value, BaseModel):
        return toml_value(value.model_dump(exclude_defaults=True), indent)
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v, indent)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        if any(isinstance(v, (dict, BaseModel)) for v in value):
            inner = indent + "  "
            return "[\n" + "".join(f"{inner}{toml_value(v, inner)},\n" for v in value) + f"{indent}]"
        return "[" + ", ".join(toml_value(v, indent) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


# -- the schema ------------------------------------------------------------------------------------


def _args(annotation) -> tuple:
    return typing.get_args(annotation)


def table_model(annotation) -> type[BaseModel] | None:
    """The model of a field that is a TOML table (a model or an optional model, not ``Text``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None if annotation is Text else annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        for arg in _args(annotation):
            found = table_model(arg)
            if found is not None:
                return found
    return None


def item_model(annotation) -> type[BaseModel] | None:
    """The model of each item of a field that is a list of tables (not of ``Text``)."""
    if typing.get_origin(annotation) is list:
        inner = _args(annotation)[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not Text:
            return inner
    return None


def choices(annotation) -> list:
    """The allowed values of a ``Literal`` field or a list of ``Literal``."""
    if typing.get_origin(annotation) is typing.Literal:
        return list(_args(annotation))
    if typing.get_origin(annotation) is list:
        return choices(_args(annotation)[0])
    return []


def _plain(text: str | None) -> str:
    return " ".join((text or "").split()).replace("``", "`")


def limits(field: FieldInfo) -> list[str]:
    words = {"ge": "at least {}", "le": "at most {}", "min_length": "at least {} item(s)", "pattern": "matches {}"}
    found = []
    for meta in field.metadata:
        for name, template in words.items():
            value = getattr(meta, name, None)
            if value is not None:
                found.append(template.format(value))
    return found


def default_of(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default
    if value is None:
        return "default: absent (off)"
    if value is PydanticUndefined:
        return "default: none"
    if isinstance(value, BaseModel) and not isinstance(value, Text):
        return "default: the table's defaults"
    return f"default: {toml_value(value)}"


def facts(field: FieldInfo) -> str:
    """``choices: …; at least 1; default: …`` for the comment under a key's explanation."""
    parts = []
    allowed = choices(field.annotation)
    if allowed:
        parts.append("choices: " + ", ".join(toml_value(c) for c in allowed))
    parts += limits(field)
    parts.append(default_of(field))
    return "; ".join(parts)


def explain(field: FieldInfo, prefix: str = "# ") -> list[str]:
    """The comment lines above a key: its docstring, then its choices, limits and default."""
    lines = textwrap.wrap(_plain(field.description), WIDTH - len(prefix)) or [""]
    lines.append(f"({facts(field)})")
    return [prefix + line for line in lines]


def example(field: FieldInfo) -> str:
    """A value to write commented out: the default, else an empty value of the right shape."""
    default = None if field.is_required() else field.default
    if default is not None and (isinstance(default, Text) or not isinstance(default, BaseModel)):
        return toml_value(default)
    if typing.get_origin(field.annotation) is list:
        return "[]"
    if field.annotation is Text or Text in _args(field.annotation):
        return '{ ja = "", en = "" }'
    allowed = choices(field.annotation)
    if allowed:
        return toml_value(allowed[0])
    if field.annotation is int:
        return "0"
    if field.annotation is bool:
        return "false"
    return '""'


# -- writing ---------------------------------------------------------------------------------------


class AnnotatedWriter:
    """Writes ``data`` (a ``tenant.toml`` as a dict) with every key of the schema explained."""

    def __init__(self, config: TenantConfig | None = None):
        self.config = config
        self.lines: list[str] = []

    def write(self, data: dict, header: Iterable[str] = ()) -> str:
        self.lines = [f"# {line}".rstrip() for line in header]
        self._table(TenantConfig, data, "", present=True)
        return "\n".join(self.lines).rstrip() + "\n"

    def _blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def _table(self, model: type[BaseModel], data: dict | None, path: str, present: bool, doc: str = "") -> None:
        """One table: its header, its own keys, then its sub-tables. Absent tables are written commented out."""
        off = "" if present else "# "
        if path:
            self._blank()
            self.lines += [f"# {line}" for line in textwrap.wrap(_plain(doc), WIDTH - 2)]
            if not present:
                self.lines.append("# (absent: uncomment the header and the keys you need to set it)")
            self.lines.append(f"{off}[{path}]")
        deferred = []
        for name, field in model.model_fields.items():
            if table_model(field.annotation) is not None or (not path and self._is_table_at_top(name, field)):
                deferred.append((name, field))
                continue
            self._key(name, field, data, off)
        for name, field in deferred:
            child = f"{path}.{name}" if path else name
            value = (data or {}).get(name)
            if name == "texts" and not path:
                self._texts(value or {}, field)
            elif item_model(field.annotation) is not None:
                self._array_of_tables(child, field, value or [])
            else:
                inner = table_model(field.annotation)
                assert inner is not None
                self._table(inner, value, child, present and value is not None, field.description or "")

    @staticmethod
    def _is_table_at_top(name: str, field: FieldInfo) -> bool:
        return name == "texts" or item_model(field.annotation) is not None

    def _key(self, name: str, field: FieldInfo, data: dict | None, off: str) -> None:
        self._blank()
        self.lines += explain(field)
        items = item_model(field.annotation)
        if items is not None:
            self.lines += self._item_keys(items)
        if data is not None and name in data:
            self.lines.append(f"{off}{toml_key(name)} = {toml_value(data[name])}")
        else:
            self.lines.append(f"# {toml_key(name)} = {example(field)}")

    def _item_keys(self, model: type[BaseModel], prefix: str = "#   ") -> list[str]:
        lines = ["# Each item is an inline table with these keys:"]
        for name, field in model.model_fields.items():
            text = f"{name}: {_plain(field.description)} ({facts(field)})"
            lines += [prefix + line for line in textwrap.wrap(text, WIDTH - len(prefix), subsequent_indent="  ")]
        return lines

    def _array_of_tables(self, path: str, field: FieldInfo, items: list) -> None:
        model = item_model(field.annotation)
        assert model is not None
        self._blank()
        self.lines += explain(field)
        self.lines.append(f"# Each [[{path}]] has these keys:")
        for name, inner in model.model_fields.items():
            self.lines += [
                f"#   {line}" for line in textwrap.wrap(f"{name}: {_plain(inner.description)} ({facts(inner)})", WIDTH - 4)
            ]
            nested = item_model(inner.annotation)
            if nested is not None:
                self.lines += ["#   " + line.removeprefix("# ") for line in self._item_keys(nested, "#     ")]
        if not items:
            self.lines.append(f"# [[{path}]]")
        for item in items:
            self.lines.append(f"[[{path}]]")
            for name in model.model_fields:
                if name in item:
                    self.lines.append(f"{toml_key(name)} = {toml_value(item[name])}")
            self._blank()

    def _texts(self, texts: dict, field: FieldInfo) -> None:
        self._blank()
        self.lines += explain(field)
        self.lines.append("# The keys this tenant shows, with the default wording used while a key is not set:")
        self.lines.append("[texts]")
        for key, value in texts.items():
            self.lines.append(f"{toml_key(key)} = {toml_value(value)}")
        for key, doc, default in self._text_keys():
            if key in texts:
                continue
            self.lines += [f"#   {line}" for line in textwrap.wrap(_plain(doc), WIDTH - 4)]
            self.lines.append(f'# {toml_key(key)} = {{ ja = {json.dumps(default, ensure_ascii=False)}, en = "" }}')

    def _text_keys(self) -> list[tuple[str, str, str]]:
        """``(key, where it is shown, default wording)`` of every text key this tenant would show."""
        found = []
        config = self.config
        asked = config.identity.registration.asked_fields() if config is not None else set(VERIFICATION_FIELDS)
        for key, entry in TEXT_KEYS.items():
            if config is None or config.text_needs_met(entry.needs):
                found.append((key, entry.doc, entry.defaults[0] if entry.defaults else ""))
        for pattern, entry in TEXT_KEY_FAMILIES.items():
            if config is not None and not config.text_needs_met(entry.needs):
                continue
            for field in VERIFICATION_FIELDS:
                if field in asked:
                    found.append((pattern.replace(FIELD, field), entry.doc, ""))
        return found
