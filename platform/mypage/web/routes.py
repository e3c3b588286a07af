"""Platform routes: tenant static files and brand stylesheet, health, and the development pages (``dev.py``)."""

from __future__ import annotations

import mimetypes

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.web import dev
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


ROUTES = [static_file, brand_css, health, *dev.ROUTES]
