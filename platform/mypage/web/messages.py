"""``_("literal")`` in a template without a call through Jinja's context on every render.

Jinja compiles ``{{ _("ご契約情報") }}`` as ``context.call(_, "ご契約情報")``: its checks for context-taking
callables, then our ``gettext``, then the catalog, about 1.6 µs, and a logged-in page has forty such strings
(a tenth of its CPU). :class:`LiteralMessages` rewrites the call, when its only argument is a string literal,
into the filter ``("ご契約情報"|_message)``: Jinja keeps each filter in a local of the compiled template and
calls it directly, and :func:`message` remembers what each literal gives per catalog and escaping mode.
The result is exactly what ``_()`` gives (:func:`gettext_call`); calls with variables are left as
they are. Source files are unchanged, so message extraction (``pybabel``) sees the same ``_()`` calls.
"""

from __future__ import annotations

from collections.abc import Iterator

import jinja2
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup

from mypage import i18n

MAX_REMEMBERED = 20_000
"""Literals remembered per catalog and mode (templates hold a few hundred; tenant overrides add some)."""
MAX_CATALOGS = 8
"""Catalogs remembered at once: a server installs one per locale; tests build many portals, each its own."""


@jinja2.pass_eval_context
def gettext_call(eval_ctx, message: str, **variables) -> str:
    """Jinja's new-style ``gettext`` (autoescaped, always ``%``-formatted with the keyword arguments) in one call:
    Jinja's own goes through ``_`` → ``gettext`` → the catalog, two extra context calls per string (a page has
    forty or more)."""
    text = i18n.gettext(message)
    if eval_ctx.autoescape:
        text = Markup(text)
    # Without arguments ``%`` only turns ``%%`` into ``%``: most strings have neither, and skip it.
    return text % variables if variables or "%" in text else text


_remembered: dict[object, tuple[dict[str, str], dict[str, str]]] = {}
"""Per catalog (a ``Translations`` object, by identity): what each literal gives without and with autoescape."""


@jinja2.pass_context  # taking the context also keeps Jinja from folding the literal in at compile time
def message(context, text: str) -> str:
    catalog = i18n.translations()
    memo = _remembered.get(catalog)
    if memo is None:
        if len(_remembered) >= MAX_CATALOGS:  # catalogs installed since (a new Portal): forget the old ones
            _remembered.clear()
        memo = _remembered[catalog] = ({}, {})
    known = memo[context.eval_ctx.autoescape]
    found = known.get(text)
    if found is None:
        found = gettext_call(context.eval_ctx, text)
        if len(known) < MAX_REMEMBERED:
            known[text] = found
    return found


class LiteralMessages(Extension):
    """Rewrites ``_("literal")`` into ``("literal"|_message)`` in the token stream (see the module's text)."""

    def __init__(self, environment: jinja2.Environment) -> None:
        super().__init__(environment)
        environment.filters["_message"] = message

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        tokens = list(stream)
        n = 0
        while n < len(tokens):
            window = tokens[n : n + 4]
            if (
                len(window) == 4
                and [t.type for t in window] == ["name", "lparen", "string", "rparen"]
                and window[0].value == "_"
                and (n == 0 or tokens[n - 1].type != "dot")
            ):
                line = window[0].lineno
                yield Token(line, "lparen", "(")
                yield window[2]
                yield Token(line, "pipe", "|")
                yield Token(line, "name", "_message")
                yield Token(line, "rparen", ")")
                n += 4
                continue
            yield tokens[n]
            n += 1
