"""Request helpers shared by every feature: the tenant, the session, rendering and redirects."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup, escape

from mypage import i18n
from mypage.content.documents import has_document
from mypage.tenancy.registry import Tenant
from mypage.web.sessions import Session


def portal_of(connection: ASGIConnection):
    return connection.scope["state"]["portal"]


def tenant_of(connection: ASGIConnection) -> Tenant:
    tenant = connection.scope["state"].get("tenant")
    if tenant is None:
        raise NotFoundException()
    return tenant


def session_of(connection: ASGIConnection) -> Session:
    return connection.scope["state"]["session"]


def locale_of(connection: ASGIConnection) -> str:
    return connection.scope["state"].get("locale", "ja")


def client_address(connection: ASGIConnection) -> str:
    """The client's address as the portal middleware resolved it (``X-Forwarded-For`` only from trusted proxies)."""
    resolved = connection.scope.get("state", {}).get("client_address")
    if resolved is not None:
        return resolved
    client = connection.scope.get("client")
    return client[0] if client else ""


def csrf_token(connection: ASGIConnection) -> str:
    return ScopeState.from_scope(connection.scope).csrf_token or ""


def requires_feature(name: str):
    """A guard: the feature's URLs answer 404 on tenants where it is off."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if not tenant_of(connection).config.features.enabled(name):
            raise NotFoundException()

    return guard


def text(tenant: Tenant, key: str, default: str) -> str:
    """Tenant wording for ``key`` if the tenant sets it, else the catalog's translation of ``default``."""
    return tenant.config.text(key, i18n.current_locale()) or i18n.gettext(default)


def base_context(request: Request) -> dict[str, Any]:
    tenant = tenant_of(request)
    session = session_of(request)
    token = csrf_token(request)
    locale = locale_of(request)
    return {
        "request": request,
        "tenant": tenant.config,
        "locale": locale,
        "lang": locale,
        "t": lambda key, default: text(tenant, key, default),
        "ltext": lambda phrase: phrase.get(locale) if phrase is not None else "",
        "has_document": lambda relative: has_document(tenant, relative),
        "csrf_token": token,
        "csrf_input": Markup(f'<input type="hidden" name="_csrf_token" value="{escape(token)}">'),
        "flashes": session.take_flashes() if session is not None else [],
        "account": request.scope["state"].get("account"),
        "holder_name": holder_name(request.scope["state"].get("account"), request.scope["state"].get("customer")),
        "path": request.url.path,
        **view_as_context(session),
    }


def view_as_context(session: Session | None) -> dict[str, Any]:
    """The banner of a staff member viewing the portal as the customer (read-only, until a set time)."""
    view_as = session.get("view_as") if session is not None else None
    if not view_as:
        return {"view_as": None}
    from datetime import UTC, datetime

    until = datetime.fromtimestamp(int(view_as.get("until", 0)), UTC)
    return {"view_as": view_as, "view_as_until": i18n.date_time(until)}


def holder_name(account: Any, customer: Any) -> str:
    """The name the header greets the logged-in customer by: the account's nickname or display name, else the
    contract holder's name, and the login ID only when neither is known."""
    if account is None:
        return ""
    name = account.nickname or account.display_name or (customer.name if customer is not None else "")
    return name or account.login_id_display or account.login_id


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Response:
    tenant = tenant_of(request)
    templates = portal_of(request).templates_for(tenant)
    html = templates.render(template, {**base_context(request), **context})
    return Response(content=html, media_type=MediaType.HTML, status_code=status_code)


def redirect(path: str, status_code: int = 303) -> Redirect:
    return Redirect(path=path, status_code=status_code)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths are followed after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
