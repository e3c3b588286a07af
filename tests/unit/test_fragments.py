"""``{% cache %}`` fragments (``mypage.web.fragments``): rendered once per key and environment."""

from __future__ import annotations

import jinja2

from mypage.web import fragments
from mypage.web.fragments import FragmentCache

TEMPLATE = "{% cache 'menu', locale %}<nav>{{ label }}{{ count() }}</nav>{% endcache %}|{{ name }}"


def _environment():
    env = jinja2.Environment(extensions=[FragmentCache], autoescape=True)
    calls = []
    env.globals["count"] = lambda: calls.append(1) or len(calls)
    return env, calls


def test_a_fragment_renders_once_per_key_and_the_rest_of_the_page_every_time():
    env, calls = _environment()
    page = env.from_string(TEMPLATE)
    first = page.render(locale="ja", label="<メニュー>", name="山田")
    again = page.render(locale="ja", label="changed", name="田中")
    english = page.render(locale="en", label="Menu", name="Tanaka")
    assert first == "<nav>&lt;メニュー&gt;1</nav>|山田"  # escaped once, when it was rendered
    assert again == "<nav>&lt;メニュー&gt;1</nav>|田中", "same key: the kept fragment, the page's own values"
    assert english == "<nav>Menu2</nav>|Tanaka"
    assert len(calls) == 2


def test_each_environment_keeps_its_own_fragments_and_a_bounded_number(monkeypatch):
    one, _ = _environment()
    other, _ = _environment()
    assert one.from_string(TEMPLATE).render(locale="ja", label="A", name="") != other.from_string(TEMPLATE).render(
        locale="ja", label="B", name=""
    )
    monkeypatch.setattr(fragments, "MAX_FRAGMENTS", 3)
    page = one.from_string(TEMPLATE)
    for n in range(10):
        page.render(locale=f"l{n}", label="x", name="")
    extension = one.extensions[FragmentCache.identifier]
    assert 1 <= len(extension.fragments) <= 3
