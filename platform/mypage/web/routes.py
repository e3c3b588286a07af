"""Platform routes: tenant static files and brand stylesheet, health, and the development pages (``dev.py``)."""

from __future__ import annotations

import logging
import mimetypes

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.db.engine import check_database
from mypage.tenancy.config import Branding
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


def brand_stylesheet(branding: Branding) -> str:
    """The brand colours as CSS variables (also served for a draft's preview)."""
    return (
        ":root{"
        f"--brand-primary:{branding.primary_colour};"
        f"--brand-accent:{branding.accent_colour};"
        f"--brand-header-text:{branding.header_text_colour};"
        "}"
    )


@get("/brand.css", include_in_schema=False, sync_to_thread=False)
def brand_css(request: Request) -> Response:
    # Pages link it as ``Branding.stylesheet_url`` (tagged with the colours), so a change is a new address.
    css = brand_stylesheet(tenant_of(request).config.branding)
    return Response(content=css, media_type="text/css", headers={"cache-control": "public, max-age=300"})


READY_TIMEOUT = 2.0
"""Seconds ``/readyz`` waits for the database's answer to ``SELECT 1``."""


@get("/healthz", include_in_schema=False, sync_to_thread=False)
def health() -> dict:
    """Liveness: the process serves requests (the database is not consulted)."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def ready() -> Response:
    """Readiness: the database answers ``SELECT 1`` within ``READY_TIMEOUT``; 503 otherwise."""
    from mypage.web.errors import RETRY_AFTER_SECONDS

    problem = await check_database(timeout=READY_TIMEOUT)
    if problem is None:
        return Response({"status": "ok", "database": "ok"}, headers={"cache-control": "no-store"})
    logging.getLogger("mypage").warning("not ready: database: %s", problem)
    return Response(
        {"status": "unavailable", "database": "unavailable"},
        status_code=503,
        headers={"retry-after": str(RETRY_AFTER_SECONDS), "cache-control": "no-store"},
    )


ROUTES = [static_file, brand_css, health, ready, *dev.ROUTES]
