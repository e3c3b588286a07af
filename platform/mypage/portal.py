"""The running portal: settings, tenants, themes, per-tenant templates, catalogs and stores.

Built once by :func:`mypage.app.create_app` and reachable from every request as
``request.state.portal``.
"""

from __future__ import annotations

from html import escape

from litestar.datastructures import MutableScopeHeaders

from mypage import i18n
from mypage.settings import Settings
from mypage.tenancy.registry import Tenant, TenantRegistry
from mypage.web.sessions import DatabaseSessionStore, RedisSessionStore, SessionStore
from mypage.web.templating import TenantTemplates, ThemeRegistry

CAPTCHA_SOURCES = {
    "recaptcha": "https://www.google.com/recaptcha/ https://www.gstatic.com/recaptcha/",
    "turnstile": "https://challenges.cloudflare.com",
}


class Portal:
    def __init__(self, settings: Settings, tenants: TenantRegistry | None = None):
        self.settings = settings
        self.themes = ThemeRegistry(settings.themes_dir)
        self.tenants = tenants or TenantRegistry.load(settings.tenants_dir, settings.themes_dir)
        for tenant in self.tenants:
            self.themes.chain(tenant.config.theme)
        self.catalogs = i18n.Catalogs(settings.locales_dir)
        i18n.install_catalogs(self.catalogs)
        self.session_store: SessionStore = RedisSessionStore(settings.redis_url) if settings.redis_url else DatabaseSessionStore()
        globals_ = {"dev_mode": settings.dev_mode}
        self.templates = {t.slug: TenantTemplates(t, self.themes, globals_) for t in self.tenants}

    def templates_for(self, tenant: Tenant) -> TenantTemplates:
        return self.templates[tenant.slug]

    def base_url(self, tenant: Tenant) -> str:
        """The address used in mail links: the tenant's first host (``<slug>.localhost:PORT`` in development)."""
        if self.settings.dev_mode:
            host = next((h for h in tenant.config.hosts if h.endswith(".localhost")), tenant.config.hosts[0])
            port = self.settings.public_base_port or self.settings.port
            return f"http://{host}:{port}"
        scheme = "https" if self.settings.https else "http"
        return f"{scheme}://{tenant.config.hosts[0]}"

    def security_headers(self, headers: MutableScopeHeaders, tenant: Tenant | None) -> None:
        extra = ""
        if tenant is not None:
            extra = CAPTCHA_SOURCES.get(tenant.config.identity.captcha.provider, "")
        script = f"'self' {extra}".strip()
        frame = f"'self' {extra}".strip() if extra else "'none'"
        csp = (
            "default-src 'self'; "
            f"script-src {script}; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; "
            f"connect-src 'self' {extra}".strip()
            + "; "
            "worker-src 'self' blob:; "
            f"frame-src {frame}; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
        )
        # Tenant pages always get this policy; a development page (no tenant) may bring its own.
        if tenant is not None or "content-security-policy" not in headers:
            headers["content-security-policy"] = csp
        headers["x-frame-options"] = "DENY"
        headers["x-content-type-options"] = "nosniff"
        headers["referrer-policy"] = "same-origin"
        headers["permissions-policy"] = "camera=(), microphone=(), geolocation=()"
        headers["cross-origin-opener-policy"] = "same-origin"
        if self.settings.https:
            headers["strict-transport-security"] = "max-age=63072000; includeSubDomains"
        if "cache-control" not in headers:
            headers["cache-control"] = "no-store"

    def unknown_host_page(self) -> str:
        return (
            '<!doctype html><html lang="ja"><meta charset="utf-8"><title>404</title>'
            "<h1>ページが見つかりません / Not Found</h1>"
            f"<p>{escape('このアドレスのマイページはありません。')}</p></html>"
        )
