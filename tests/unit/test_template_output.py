"""What the tenants' templates write out is exactly what plain Jinja would write, only cheaper to produce:
``_("literal")`` as a remembered filter (``mypage.web.messages``) and the output escaped without a ``Markup``
around each value (``mypage.web.templating.PortalTemplate``)."""

from __future__ import annotations

from pathlib import Path

import jinja2
import markupsafe
import pytest

from mypage import i18n
from mypage.web.messages import LiteralMessages, gettext_call
from mypage.web.templating import PortalTemplate, _escape_output

LOCALES = Path(__file__).resolve().parents[2] / "locales"

MESSAGES = (
    '{{ _("ご契約情報") }}|{{ _("100%%") }}|{{ _("<b>&") }}|{{ _("ご契約情報") ~ "<i>" }}'
    '|{{ _("%(rate)s%%対象計", rate=10) }}|{{ holder._("ご契約情報") }}|{{ _(name) }}|{{ _("ご契約情報")|length }}'
)


class Holder:
    def _(self, text):  # an attribute named ``_``: not the translation function
        return f"holder:{text}"


def _environment(extensions, autoescape):
    env = jinja2.Environment(extensions=["jinja2.ext.i18n", *extensions], autoescape=autoescape)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    env.globals.update(gettext=gettext_call, _=gettext_call)
    return env


@pytest.fixture
def catalogs():
    i18n.install_catalogs(i18n.Catalogs(LOCALES))
    yield
    i18n.set_locale("ja")


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("locale", ["ja", "en"])
def test_literal_messages_render_as_the_call_does(catalogs, locale, autoescape):
    i18n.set_locale(locale)
    values = {"holder": Holder(), "name": "ご契約情報"}
    plain = _environment([], autoescape).from_string(MESSAGES).render(values)
    rewritten = _environment([LiteralMessages], autoescape).from_string(MESSAGES).render(values)
    assert rewritten == plain
    assert ("Contract information" in plain) == (locale == "en")
    assert ("&lt;i&gt;" in plain) == autoescape


def test_only_a_lone_string_literal_becomes_the_filter():
    code = _environment([LiteralMessages], True).compile(MESSAGES, raw=True)
    assert code.count("t_1(context, ") == 5  # the filter, fetched once at the template's start
    assert code.count("context.call(") == 3
    assert "'_'), 'ご契約情報')" in code  # ``holder._("…")``: the method, called
    assert "'%(rate)s%%対象計', rate=10)" in code  # with variables: the ordinary call


def test_the_locale_is_read_at_each_render(catalogs):
    page = _environment([LiteralMessages], True).from_string('{{ _("ご契約情報") }}')
    i18n.set_locale("ja")
    assert page.render() == "ご契約情報"
    i18n.set_locale("en")
    assert page.render() == "Contract information"
    i18n.set_locale("ja")
    assert page.render() == "ご契約情報"


class Html:
    def __html__(self):
        return "<em>safe</em>"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "<a href=\"x\">'&'</a>",
        markupsafe.Markup("<b>kept</b>"),
        12345,
        1.5,
        None,
        Html(),
        ["<li>"],
        jinja2.Undefined(),
    ],
)
def test_output_escape_gives_what_markupsafe_gives(value):
    assert _escape_output(value) == str(markupsafe.escape(value))


def test_portal_templates_write_what_jinja_writes():
    source = (
        "{% macro cell(v) %}<td>{{ v }}</td>{% endmacro %}"
        "{% set block %}<p>{{ text }}</p>{% endset %}"
        "{{ cell(text) }}{{ block }}{{ safe }}{{ number }}{{ text ~ safe }}"
        "{% autoescape false %}{{ text }}{% endautoescape %}{{ missing }}"
    )
    values = {"text": "<script>&'\"", "safe": markupsafe.Markup("<br>"), "number": 7}
    plain = jinja2.Environment(autoescape=True)
    portal = jinja2.Environment(autoescape=True)
    portal.template_class = PortalTemplate
    assert portal.from_string(source).render(values) == plain.from_string(source).render(values)
    assert "&lt;script&gt;" in plain.from_string(source).render(values)


def test_what_is_remembered_stays_bounded(catalogs, monkeypatch):
    from mypage.web import messages

    page = _environment([LiteralMessages], True).from_string('{{ _("ご契約情報") }}')
    for _ in range(3 * messages.MAX_CATALOGS):  # each portal installs catalogs of its own
        i18n.install_catalogs(i18n.Catalogs(LOCALES))
        for locale in ("ja", "en"):
            i18n.set_locale(locale)
            assert page.render() == ("ご契約情報" if locale == "ja" else "Contract information")
    assert len(messages._remembered) <= messages.MAX_CATALOGS
    monkeypatch.setattr(messages, "MAX_REMEMBERED", 1)
    i18n.install_catalogs(i18n.Catalogs(LOCALES))
    two = _environment([LiteralMessages], True).from_string('{{ _("ご契約情報") }}{{ _("概要情報") }}')
    assert two.render() == two.render()
    assert all(len(known) <= 1 for memo in messages._remembered.values() for known in memo)
