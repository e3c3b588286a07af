"""Development-only pages on ``http://localhost:PORT``: the tenant index and the outbox mail viewer.

They exist only with ``settings.dev_mode`` and only on the ``localhost`` / ``127.0.0.1`` host (no tenant):
on a tenant's host, or with dev_mode off, every URL here answers 404. The pages are not tenant pages:
they render with a plain Jinja environment of their own and a CSP that allows the inline styles of
mail HTML, which is shown in a sandboxed ``<iframe srcdoc>`` (no scripts, no same origin).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from litestar import Request, Response, get
from litestar.connection import ASGIConnection
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath

from mypage.mail.outbox import mail_by_id_all_tenants, recent_mail_all_tenants

DEV_HOSTS = ("localhost", "127.0.0.1")
DEV_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates" / "dev")),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def is_dev_request(connection: ASGIConnection) -> bool:
    state = connection.scope.get("state", {})
    portal = state.get("portal")
    host = (connection.headers.get("host") or "").split(":", 1)[0].lower()
    return bool(portal and portal.settings.dev_mode and state.get("tenant") is None and host in DEV_HOSTS)


async def dev_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not is_dev_request(connection):
        raise NotFoundException()


def _page(template: str, **context) -> Response:
    html = _env.get_template(template).render(**context)
    return Response(
        content=html,
        media_type=MediaType.HTML,
        headers={"content-security-policy": DEV_CSP, "cache-control": "no-store"},
    )


def dev_index(request: Request) -> Response:
    """``http://localhost:PORT/``: links to every tenant's portal (called by the ``/`` route)."""
    if not is_dev_request(request):
        raise NotFoundException()
    portal = request.scope["state"]["portal"]
    tenants = [
        {"slug": t.slug, "name": t.config.names.ja, "url": portal.base_url(t) + "/", "hosts": t.config.hosts}
        for t in portal.tenants
    ]
    return _page("index.html", tenants=tenants)


@get("/_dev/mail", guards=[dev_only], include_in_schema=False)
async def mail_list(request: Request) -> Response:
    portal = request.scope["state"]["portal"]
    tenant = request.query_params.get("tenant") or ""
    if tenant and tenant not in portal.tenants.slugs:
        tenant = ""
    mails = await recent_mail_all_tenants(limit=200, tenant=tenant or None)
    return _page("mail_list.html", mails=mails, tenant=tenant, slugs=portal.tenants.slugs, smtp=bool(portal.settings.smtp_url))


@get("/_dev/mail/{mail_id:int}", guards=[dev_only], include_in_schema=False)
async def mail_detail(mail_id: FromPath[int]) -> Response:
    mail = await mail_by_id_all_tenants(mail_id)
    if mail is None:
        raise NotFoundException()
    return _page("mail_detail.html", mail=mail)


ROUTES = [mail_list, mail_detail]
