"""Tenant documents such as terms of use (利用規約) or contract terms (契約約款), read from the tenant's folder.

``GET /terms`` shows ``tenants/<slug>/content/terms.md``; ``GET /terms/<document>`` shows
``tenants/<slug>/content/terms/<document>.md``; ``GET /help/<document>`` shows a guide such as a sample of
where a number is printed (``content/help/<document>.md``, linked from the registration field of that name). A ``<name>.<locale>.md`` next to a file is used for that
locale. A tenant without the file answers 404. The pages are public (they are read before registering) and
render in the tenant's layout. The Markdown is the operator's text, but it is still rendered with raw HTML
off (markdown-it escapes it) and markdown-it's link check (no ``javascript:`` links), so a content file
cannot inject markup or script into the portal.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from markdown_it import MarkdownIt
from markupsafe import Markup

from mypage.content.documents import document_path
from mypage.tenancy.registry import Tenant
from mypage.web.render import locale_of, render, tenant_of

DOCUMENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
"""Names of documents under ``content/terms/`` and ``content/help/``: lower-case letters, digits, ``-`` and ``_`` (no paths)."""


@lru_cache(maxsize=64)
def _rendered(path: str, mtime_ns: int) -> tuple[str, str]:
    """(title, HTML) of a Markdown file; cached per file version."""
    text = Path(path).read_text(encoding="utf-8")
    parser = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
    tokens = parser.parse(text)
    title = ""
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h1":
            title = tokens[index + 1].content
            break
    return title, parser.renderer.render(tokens, parser.options, {})


def render_document(tenant: Tenant, relative: str, locale: str) -> tuple[str, Markup] | None:
    path = document_path(tenant, relative, locale)
    if path is None:
        return None
    title, html = _rendered(str(path), path.stat().st_mtime_ns)
    return title, Markup(html)


def _page(request: Request, relative: str) -> Response:
    tenant = tenant_of(request)
    found = render_document(tenant, relative, locale_of(request))
    if found is None:
        raise NotFoundException()
    title, body = found
    return render(request, "content/page.html", title=title, body=body)


@get("/terms", sync_to_thread=False)
def terms(request: Request) -> Response:
    return _page(request, "terms")


@get("/terms/{document:str}", sync_to_thread=False)
def terms_document(request: Request, document: FromPath[str]) -> Response:
    if not DOCUMENT_NAME.fullmatch(document):
        raise NotFoundException()
    return _page(request, f"terms/{document}")


@get("/help/{document:str}", sync_to_thread=False)
def help_document(request: Request, document: FromPath[str]) -> Response:
    if not DOCUMENT_NAME.fullmatch(document):
        raise NotFoundException()
    return _page(request, f"help/{document}")


ROUTES = [terms, terms_document, help_document]
