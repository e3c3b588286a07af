"""Platform routes: tenant static files and brand stylesheet, the development tenant index, health."""

from __future__ import annotations

import mimetypes

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.web.render import portal_of, tenant_of


@get("/static/{path:path}", include_in_schema=False, sync_to_thread=False)
def static_file(request: Request, path: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    found = portal_of(request).templates_for(tenant).find_static(path.lstrip("/"))
    if found is None:
        raise NotFoundException()
    media_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return Response(content=found.read_bytes(), media_type=media_type, headers={"cache-control": "public, max-age=3600"})


@get("/brand.css", include_in_schema=False, sync_to_thread=False)
def brand_css(request: Request) -> Response:
    branding = tenant_of(request).config.branding
    css = (
        ":root{"
        f"--brand-primary:{branding.primary_colour};"
        f"--brand-accent:{branding.accent_colour};"
        f"--brand-header-text:{branding.header_text_colour};"
        "}"
    )
    return Response(content=css, media_type="text/css", headers={"cache-control": "public, max-age=300"})


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def health() -> dict:
    return {"status": "ok"}


def dev_index(request: Request) -> Response:
    portal = portal_of(request)
    items = []
    for tenant in portal.tenants:
        url = portal.base_url(tenant) + "/"
        items.append(f'<li><a href="{url}">{tenant.config.names.ja}</a> <small>{url}</small></li>')
    html = (
        '<!doctype html><html lang="ja"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>mypage</title>'
        "<h1>mypage — テナント一覧 (development)</h1><ul>" + "".join(items) + "</ul>"
        '<p><a href="/_dev/mail">送信メール一覧 (outbox)</a></p></html>'
    )
    return Response(content=html, media_type="text/html; charset=utf-8")


ROUTES = [static_file, brand_css, health]
