"""Resolves the tenant from the Host header, picks the locale, loads the session, adds safe headers.

This is the outermost layer of the app: everything inside (CSRF, routes, error pages) can rely on
``request.state.tenant``, ``request.state.session`` and ``request.state.locale``.
"""

from __future__ import annotations

import re
import time
from http.cookies import SimpleCookie
from urllib.parse import unquote_to_bytes

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from mypage import i18n
from mypage.web.forms import CONTROL
from mypage.web.page_reads import page_read_for
from mypage.web.printview import drop_stale
from mypage.web.proxies import TrustedProxies
from mypage.web.sessions import (
    COOKIE_NAME,
    MAX_AGE_SECONDS,
    PLATFORM,
    PLATFORM_COOKIE_NAME,
    PLATFORM_COOKIE_PATH,
    PLATFORM_SCOPE,
    STAFF,
    STAFF_COOKIE_NAME,
    STAFF_COOKIE_PATH,
    Session,
    load_session,
    refresh_idle_clock,
    save_session,
)

LOGIN_KEYS = ("account_id", "login_at", "pending_login", "view_as")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
DEV_HOSTS = ("localhost", "127.0.0.1")
HEALTH_PATHS = ("/healthz", "/readyz")
"""Liveness and readiness probes: answered on any host, without a session (they must not need the database)."""


def is_admin_path(path: str) -> bool:
    """The staff console: its own session cookie, and not subject to a "view as customer" session's limits."""
    return path == STAFF_COOKIE_PATH or path.startswith(STAFF_COOKIE_PATH + "/")


def is_platform_path(path: str) -> bool:
    return path == PLATFORM_COOKIE_PATH or path.startswith(PLATFORM_COOKIE_PATH + "/")


SUSPENDED_OPEN = ("/static/", "/media/", "/brand.css")
"""What a suspended tenant's hosts still serve: the assets its maintenance page is drawn with."""


def _is_dev_path(path: str) -> bool:
    """What ``localhost`` serves in development: the tenant index and the ``/_dev/`` pages."""
    return path in ("/", "/healthz") or path.startswith("/_dev/") or path == "/_dev"


# ``name[:port]``: what Litestar can parse into a URL (``portal.example:8612:1`` made every page a 500).
_HOST = re.compile(r"(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{0,5}))?")
# The form layer's control characters: no address needs them either; PostgreSQL refuses NUL.
_CONTROL_BYTES = re.compile(CONTROL.pattern.encode())


def _valid_host(host: str) -> bool:
    match = _HOST.fullmatch(host)
    return bool(match) and (not match.group(1) or int(match.group(1)) <= 65535)


def _malformed_target(scope: Scope) -> bool:
    """A path or query string carrying control characters (``/static/%00``, ``?token=%00``)."""
    if CONTROL.search(scope.get("path", "")):
        return True
    query = scope.get("query_string", b"")
    return bool(query) and bool(_CONTROL_BYTES.search(unquote_to_bytes(query)))


def _replace_host(scope: Scope, host: str) -> None:
    scope["headers"] = [(k, v) for k, v in scope.get("headers", []) if k != b"host"] + [(b"host", host.encode())]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _headers(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", []) if key == name]


def _cookies(scope: Scope) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(_header(scope, b"cookie"))
    except Exception:  # a malformed Cookie header is treated as no cookies
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


def _query_lang(scope: Scope) -> str:
    for part in scope.get("query_string", b"").decode("latin-1").split("&"):
        if part.startswith("lang="):
            return part[5:]
    return ""


class PortalMiddleware:
    def __init__(self, app: ASGIApp, portal) -> None:
        self.app = app
        self.portal = portal
        self.proxies = TrustedProxies(portal.settings.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        portal = self.portal
        raw_host = _header(scope, b"host")
        host = raw_host.split(":", 1)[0].lower()
        # The platform console's host is recognised before any tenant's (a tenant can never claim it).
        on_platform = bool(portal.settings.platform_host) and host == portal.settings.platform_host
        tenant = None if on_platform else portal.tenants.by_host(host)
        host_ok = _valid_host(raw_host)
        bad_request = not host_ok or _malformed_target(scope)
        if not host_ok:
            _replace_host(scope, host if _HOST.fullmatch(host) else "invalid")
        state = scope.setdefault("state", {})
        state["portal"] = portal
        state["tenant"] = tenant
        # The one place the client's address is decided (``web.render.client_address`` reads it).
        peer = scope.get("client")
        state["client_address"] = self.proxies.client_address(
            peer[0] if peer else "", _headers(scope, b"x-forwarded-for") if self.proxies else ()
        )
        cookies = _cookies(scope)

        if scope.get("path", "") in HEALTH_PATHS and not bad_request:
            i18n.set_locale("ja")
            state["locale"] = "ja"
            state["session"] = None
            await self.app(scope, receive, self._headers_only(send))
            return

        if on_platform:
            await self._platform(scope, receive, send, cookies, bad_request)
            return

        if tenant is None:
            if bad_request:
                body = '<!doctype html><html lang="ja"><meta charset="utf-8"><title>400</title><h1>400</h1></html>'
                await self._tenantless_page(send, 400, body)
                return
            if portal.settings.dev_mode and host in DEV_HOSTS and _is_dev_path(scope.get("path", "")):
                i18n.set_locale("ja")
                state["locale"] = "ja"
                state["session"] = None
                await self.app(scope, receive, self._headers_only(send))
                return
            await self._tenantless_page(send, 404, portal.unknown_host_page())
            return

        config = tenant.config
        requested = _query_lang(scope) or cookies.get("lang", "")
        if requested in config.locales:
            locale = requested
        else:
            locale = i18n.negotiate(_header(scope, b"accept-language"), config.locales, config.default_locale)
        i18n.set_locale(locale)
        i18n.set_zone(config.timezone)
        state["locale"] = locale
        lang_cookie = _query_lang(scope) if _query_lang(scope) in config.locales else None

        path = scope.get("path", "")
        staff_session: Session | None = None
        try:
            cookie = cookies.get(COOKIE_NAME)
            page = page_read_for(scope, tenant) if cookie and portal.session_store.joins_page_reads else None
            session = await load_session(portal.session_store, cookie, tenant.slug, page=page)
            if is_admin_path(path):
                staff_session = await load_session(portal.session_store, cookies.get(STAFF_COOKIE_NAME), tenant.slug, STAFF)
        except Exception as exc:  # outside Litestar's exception handlers: answer the themed page here
            state["session"] = Session(None, {}, tenant.slug)
            await self._error_page(scope, receive, send, tenant, exc)
            return
        state["staff_session"] = staff_session
        now = int(time.time())
        if session.get("account_id") is not None:
            idle_limit = config.session.idle_timeout_minutes * 60
            absolute_limit = config.session.absolute_timeout_hours * 3600
            idle = now - int(session.get("_last_seen", now))
            age = now - int(session.get("login_at", now))
            view_as = session.get("view_as")
            if idle > idle_limit or age > absolute_limit or (view_as and now > int(view_as.get("until", 0))):
                for key in LOGIN_KEYS:
                    session.pop(key)
                session["forced_logout"] = "view_as" if view_as else "idle" if idle > idle_limit else "absolute"
                session.rotate()
        if session.session_id is not None:
            refresh_idle_clock(session, now)
        else:  # a new session starts its clock without a store write of its own
            session.data["_last_seen"] = now
        drop_stale(session)
        state["session"] = session

        settings = portal.settings

        failed = False

        async def send_wrapper(message: Message) -> None:
            nonlocal failed
            if failed:
                return  # the rest of the response that could not be completed
            if message["type"] == "http.response.start":
                try:
                    cookie = await save_session(portal.session_store, session)
                except Exception as exc:  # the session store failed: the response cannot be sent as it is
                    failed = True
                    await self._error_page(scope, receive, send, tenant, exc)
                    return
                headers = MutableScopeHeaders.from_message(message)
                secure = "; Secure" if settings.secure_cookies else ""
                if cookie == "":
                    headers.add("set-cookie", f"{COOKIE_NAME}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}")
                elif cookie:
                    headers.add(
                        "set-cookie",
                        f"{COOKIE_NAME}={cookie}; Path=/; Max-Age={MAX_AGE_SECONDS}; HttpOnly; SameSite=Lax{secure}",
                    )
                if staff_session is not None:
                    try:
                        staff_cookie = await save_session(portal.session_store, staff_session)
                    except Exception as exc:
                        failed = True
                        await self._error_page(scope, receive, send, tenant, exc)
                        return
                    if staff_cookie is not None:
                        age = f"Max-Age={MAX_AGE_SECONDS}" if staff_cookie else "Max-Age=0"
                        headers.add(
                            "set-cookie",
                            f"{STAFF_COOKIE_NAME}={staff_cookie}; Path={STAFF_COOKIE_PATH}; {age}; HttpOnly; SameSite=Strict{secure}",
                        )
                if lang_cookie:
                    headers.add("set-cookie", f"lang={lang_cookie}; Path=/; Max-Age=31536000; SameSite=Lax{secure}")
                portal.security_headers(headers, tenant, state)
            await send(message)

        if bad_request:
            await self._bad_request(scope, receive, send_wrapper)
            return
        if session.get("view_as") and scope.get("method", "GET") not in SAFE_METHODS and not is_admin_path(path):
            # Staff viewing the portal as a customer: nothing may be changed in the customer's name.
            await self._audit_refusal(tenant.slug, session, scope, state["client_address"])
            await self._refused(scope, receive, send_wrapper)
            return
        if tenant.slug in portal.suspended and not path.startswith(SUSPENDED_OPEN):
            await self._maintenance(scope, receive, send_wrapper)
            return
        await self.app(scope, receive, send_wrapper)

    async def _platform(self, scope: Scope, receive: Receive, send: Send, cookies: dict[str, str], bad_request: bool) -> None:
        """The platform console's host: only ``/platform`` pages, with the platform session (its own cookie)."""
        portal = self.portal
        state = scope["state"]
        i18n.set_locale("ja")
        state["locale"] = "ja"
        state["session"] = None
        path = scope.get("path", "")
        if bad_request:
            await self._tenantless_page(send, 400, '<!doctype html><meta charset="utf-8"><title>400</title><h1>400</h1>')
            return
        if path == "/":
            start: Message = {"type": "http.response.start", "status": 303, "headers": [(b"location", b"/platform")]}
            portal.security_headers(MutableScopeHeaders.from_message(start), None)
            await send(start)
            await send({"type": "http.response.body", "body": b""})
            return
        if not is_platform_path(path):
            await self._tenantless_page(send, 404, portal.unknown_host_page())
            return
        try:
            session = await load_session(portal.session_store, cookies.get(PLATFORM_COOKIE_NAME), PLATFORM_SCOPE, PLATFORM)
        except Exception:  # the session store is unavailable: no console page can be answered
            body = '<!doctype html><meta charset="utf-8"><title>503</title><h1>503</h1>'
            await self._tenantless_page(send, 503, body)
            return
        state["platform_session"] = session
        secure = "; Secure" if portal.settings.secure_cookies else ""

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                cookie = await save_session(portal.session_store, session)
                if cookie is not None:
                    age = f"Max-Age={MAX_AGE_SECONDS}" if cookie else "Max-Age=0"
                    headers.add(
                        "set-cookie",
                        f"{PLATFORM_COOKIE_NAME}={cookie}; Path={PLATFORM_COOKIE_PATH}; {age}; HttpOnly; SameSite=Strict{secure}",
                    )
                portal.security_headers(headers, None)
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _maintenance(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A suspended tenant: the maintenance page in its own theme, 503 (its data is untouched)."""
        from mypage.i18n import N_
        from mypage.web.errors import error_page

        request = Request(scope, receive)
        response = error_page(request, 503, N_("ただいまメンテナンス中です。しばらくしてから改めてアクセスしてください。"))
        response.headers["Retry-After"] = "3600"
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)

    @staticmethod
    async def _audit_refusal(tenant: str, session: Session, scope: Scope, address: str) -> None:
        from mypage.audit.log import AuditLog

        view_as = session.get("view_as") or {}
        try:
            await AuditLog(tenant).record(
                "admin.customer.view_as_refused",
                address=address,
                staff_id=view_as.get("staff_id"),
                actor=str(view_as.get("staff", "")),
                customer_id=view_as.get("customer_id"),
                account_id=session.get("account_id"),
                method=scope.get("method", ""),
                path=scope.get("path", "")[:200],
            )
        except Exception as exc:  # the refusal stands without its log entry (the database may be down)
            import logging

            logging.getLogger("mypage").warning("view-as refusal not audited: %s", exc)

    async def _refused(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The themed 403 page for a state-changing request made while viewing the portal as a customer."""
        from mypage.i18n import N_
        from mypage.web.errors import error_page

        request = Request(scope, receive)
        response = error_page(request, 403, N_("お客様としての閲覧中は、変更・送信の操作はできません。"))
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)

    async def _bad_request(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The themed 400 page, answered here: the request cannot be routed safely."""
        from mypage.web.errors import error_page

        request = Request(scope, receive)
        response = error_page(request, 400)
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)

    async def _tenantless_page(self, send: Send, status: int, html: str) -> None:
        """A page for a request no tenant can answer (unknown or malformed host), with the security headers."""
        body = html.encode()
        start: Message = {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
        self.portal.security_headers(MutableScopeHeaders.from_message(start), None)
        await send(start)
        await send({"type": "http.response.body", "body": body})

    def _headers_only(self, send: Send, tenant=None) -> Send:
        async def wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.portal.security_headers(MutableScopeHeaders.from_message(message), tenant)
            await send(message)

        return wrapper

    async def _error_page(self, scope: Scope, receive: Receive, send: Send, tenant, exc: Exception) -> None:
        """The tenant's error page for a failure in this middleware (503 when the database is unavailable)."""
        from mypage.web import errors

        request = Request(scope, receive)
        response = errors.server_error(request, exc)
        await response.to_asgi_response(None, request)(scope, receive, self._headers_only(send, tenant))
