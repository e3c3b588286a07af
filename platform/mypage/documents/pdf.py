"""The shared PDF renderer: a tenant template rendered to PDF with WeasyPrint.

``render_pdf(portal, tenant, "billing/invoice_pdf.html", context)`` renders the template with the
tenant's Jinja environment (so the tenant's overrides and branding apply), then lays it out with
WeasyPrint in a worker thread (layout is CPU-bound and would block the event loop).

Resources: the fetcher given to WeasyPrint answers only ``data:`` URIs, so a template can read neither
local files (``file:``, relative paths) nor the network. The tenant's logo is handed to the template as
a ``data:`` URI (``logo_data_uri``); fonts come from the system (fontconfig: IPAexGothic / IPAexMincho).
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from urllib.parse import quote

import anyio.to_thread
from litestar import Response

from mypage import i18n
from mypage.tenancy.registry import Tenant

_DATA_ONLY = ("data",)


def _fetcher():
    """A WeasyPrint URL fetcher that refuses everything but ``data:`` URIs."""
    from weasyprint.urls import URLFetcher

    class DataOnlyFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols=_DATA_ONLY, allow_redirects=False, timeout=1)

        def fetch(self, url, headers=None):  # noqa: D401 - WeasyPrint's interface
            if not url.lower().startswith("data:"):
                raise ValueError(f"resource refused in PDF documents: {url[:60]}")
            return super().fetch(url, headers)

    return DataOnlyFetcher()


def data_uri(path: Path) -> str:
    """A file's content as a ``data:`` URI (for images embedded in PDF documents)."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix.lower() == ".svg":
        mime = "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


_logo_cache: dict[Path, str] = {}


def logo_data_uri(tenant: Tenant) -> str:
    path = tenant.static_dir / tenant.config.branding.logo
    if path not in _logo_cache:
        _logo_cache[path] = data_uri(path) if path.is_file() else ""
    return _logo_cache[path]


def render_html(portal, tenant: Tenant, template: str, context: dict) -> str:
    """The document's HTML, rendered with the tenant's templates (also used for print previews and tests)."""
    locale = context.get("locale") or i18n.current_locale()
    config = tenant.config
    base = {
        "tenant": config,
        "locale": locale,
        "lang": locale,
        "t": lambda key, default: config.text(key, locale) or i18n.gettext(default),
        "ltext": lambda phrase: phrase.get(locale) if phrase is not None else "",
        "logo_data_uri": logo_data_uri(tenant),
        "branding": config.branding,
    }
    return portal.templates_for(tenant).render(template, {**base, **context})


def html_to_pdf(html: str) -> bytes:
    """Lays out HTML to PDF (blocking; call through :func:`render_pdf` from async code)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=None, url_fetcher=_fetcher()).write_pdf()


async def render_pdf(portal, tenant: Tenant, template: str, context: dict) -> bytes:
    """Renders ``template`` (a tenant template, e.g. ``documents/xxx.html``) to PDF bytes."""
    html = render_html(portal, tenant, template, context)
    return await anyio.to_thread.run_sync(html_to_pdf, html)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``attachment; filename="..."; filename*=UTF-8''...`` (RFC 6266 / RFC 5987 for non-ASCII names)."""
    ascii_name = "".join(c if (c.isascii() and c.isprintable() and c not in '"\\;') else "_" for c in filename)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def pdf_response(content: bytes, filename: str, *, inline: bool = False) -> Response:
    """A PDF download (``Content-Disposition: attachment``; Japanese file names through ``filename*``)."""
    return Response(
        content=content,
        media_type="application/pdf",
        headers={
            "content-disposition": content_disposition(filename, "inline" if inline else "attachment"),
            "cache-control": "private, no-store",
        },
    )
