"""``{% cache key, … %}…{% endcache %}``: a fragment rendered once per key, then reused.

For the parts of a page that depend only on the tenant and a few values named in the key (the footer, the
menu), which every logged-in page repeated: ~20% of a page's CPU. The cache belongs to one tenant's Jinja
environment, which lives exactly as long as that tenant's configuration (``Portal.templates_for``), so a
reload or published overrides start afresh. Name in the key everything the fragment reads besides the
tenant's configuration, the locale first; never per-customer data (names, amounts).
(After the ``FragmentCacheExtension`` example of the Jinja documentation.)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

MAX_FRAGMENTS = 512
"""Fragments kept per tenant environment; past it the cache starts again (keys are a few per locale and role)."""


class FragmentCache(Extension):
    tags = {"cache"}  # noqa: RUF012 (Jinja reads the class attribute)

    def __init__(self, environment) -> None:
        super().__init__(environment)
        self.fragments: dict[Hashable, str] = {}

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        key = parser.parse_tuple()
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_fragment", [key]), [], [], body).set_lineno(lineno)

    def _fragment(self, key: Hashable, caller: Callable[[], str]) -> str:
        fragment = self.fragments.get(key)
        if fragment is None:
            if len(self.fragments) >= MAX_FRAGMENTS:
                self.fragments.clear()
            fragment = self.fragments[key] = caller()
        return fragment
