"""The running portal: settings, tenants, themes, per-tenant templates, catalogs and stores.

Built once by :func:`mypage.app.create_app` and reachable from every request as
``request.state.portal``.
"""

from __future__ import annotations

import asyncio
import logging
from html import escape

from litestar.datastructures import MutableScopeHeaders

from mypage import i18n
from mypage.identity.accounts import SESSION_WITH_ACCOUNT
from mypage.settings import Settings
from mypage.tenancy.registry import Tenant, TenantConfigError, TenantRegistry
from mypage.web.sessions import DatabaseSessionStore, RedisSessionStore, SessionStore
from mypage.web.templating import TenantTemplates, ThemeRegistry

CAPTCHA_SOURCES = {
    "recaptcha": "https://www.google.com/recaptcha/ https://www.gstatic.com/recaptcha/",
    "turnstile": "https://challenges.cloudflare.com",
}


log = logging.getLogger("mypage.tenancy")


class Portal:
    def __init__(self, settings: Settings, tenants: TenantRegistry | None = None):
        self.settings = settings
        self.themes = ThemeRegistry(settings.themes_dir)
        self.base = tenants or TenantRegistry.load(settings.tenants_dir, settings.themes_dir, theme_parents=self.themes.parents())
        """The tenants as their folders define them; ``tenants`` adds the published overrides."""
        self.tenants = self.base
        for tenant in self.tenants:
            self.themes.chain(tenant.config.theme)
        self.catalogs = i18n.Catalogs(settings.locales_dir)
        i18n.install_catalogs(self.catalogs)
        self.session_store: SessionStore = (
            RedisSessionStore(settings.redis_url) if settings.redis_url else DatabaseSessionStore(SESSION_WITH_ACCOUNT)
        )
        self.templates: dict[str, TenantTemplates] = {}
        """Each tenant's Jinja environment, built on its first use (``templates_for``)."""
        self.generation: dict[str, str] | None = None
        """The change tokens (``tenancy.reload``) this portal applied; None before its first refresh."""
        self._refreshing = asyncio.Lock()
        self.suspended: frozenset[str] = frozenset()
        """Slugs of the tenants the platform console suspended: their hosts answer the maintenance page."""

    def _templates(self, tenant: Tenant) -> TenantTemplates:
        return TenantTemplates(tenant, self.themes, {"dev_mode": self.settings.dev_mode})

    def templates_for(self, tenant: Tenant) -> TenantTemplates:
        templates = self.templates.get(tenant.slug)
        if templates is not None and templates.tenant is tenant:
            return templates
        templates = self._templates(tenant)
        # A tenant object this portal does not serve (a preview of a draft, or a request that began just
        # before a reload) gets its own environment, not kept.
        if self.tenants.find(tenant.slug) is tenant:
            self.templates[tenant.slug] = templates
        return templates

    async def refresh(self) -> bool:
        """Applies announced tenant changes (``tenancy.reload``): reloads the folders when they were announced
        (a broken folder is logged and the tenants keep serving as they are) and applies every tenant's live
        override version. True when something changed."""
        from mypage.platformconsole.repository import suspended_tenants
        from mypage.tenancy.reload import FOLDERS, OVERRIDES, SUSPENSIONS, generation, load_folders

        async with self._refreshing:
            tokens = await generation()
            if tokens == self.generation:
                return False
            applied = self.generation or {}
            base, themes = self.base, self.themes
            if self.generation is not None and tokens.get(FOLDERS) != applied.get(FOLDERS):
                try:
                    folders = await asyncio.to_thread(load_folders, self.settings, self.base)
                    base, themes = folders.tenants, folders.themes
                    removed = set(self.base.slugs) - set(base.slugs)
                    log.info(
                        "tenant folders reloaded: %d tenants, read again: %s; removed: %s",
                        len(base),
                        ", ".join(base.read) or "none",
                        ", ".join(sorted(removed)) or "none",
                    )
                except TenantConfigError as exc:
                    log.error("tenant reload refused, the running tenants keep serving:\n%s", exc)
            overrides_changed = self.generation is None or tokens.get(OVERRIDES) != applied.get(OVERRIDES)
            changed = await self._apply(base, themes, overrides_changed=overrides_changed)
            if self.generation is None or tokens.get(SUSPENSIONS) != applied.get(SUSPENSIONS):
                suspended = await suspended_tenants()
                changed = changed or suspended != self.suspended
                self.suspended = suspended
            self.generation = tokens
            return changed

    async def _apply(self, base: TenantRegistry, themes: ThemeRegistry, *, overrides_changed: bool) -> bool:
        """Rebuilds the tenants (and their Jinja environments) whose folder or live override version changed."""
        from mypage.overrides.repository import current_versions_of_all_tenants
        from mypage.overrides.service import Overrides, effective_tenant

        folders_changed = base is not self.base
        if not folders_changed and not overrides_changed:
            return False
        live = await current_versions_of_all_tenants()
        tenants = []
        for tenant in base:
            running = self.tenants.find(tenant.slug)
            version, document = live.get(tenant.slug, (None, {}))
            same_folder = self.base.find(tenant.slug) is tenant
            if same_folder and running is not None and running.override_version == version:
                tenants.append(running)
            elif version is None:
                tenants.append(tenant)
            else:
                overrides = Overrides(tenant, set(themes.names))
                checked = await overrides.check(document)
                if checked.config is None or not checked.ok:
                    log.error(
                        "tenant %s: override version %s does not fit its folder, not applied: %s",
                        tenant.slug,
                        version,
                        checked.problems,
                    )
                    tenants.append(tenant)
                else:
                    tenants.append(effective_tenant(tenant, version, checked.config, await overrides.logo_of(checked.config)))
        if len(tenants) == len(self.tenants) and all(t is self.tenants.find(t.slug) for t in tenants):
            self.base, self.themes = base, themes
            return False
        registry = TenantRegistry(tenants)
        kept = {slug: t for slug, t in self.templates.items() if registry.find(slug) is t.tenant}
        self.base, self.themes, self.tenants, self.templates = base, themes, registry, kept
        return True

    def base_url(self, tenant: Tenant) -> str:
        """The address used in mail links: the tenant's first host (``<slug>.localhost:PORT`` in development)."""
        if self.settings.dev_mode:
            host = next((h for h in tenant.config.hosts if h.endswith(".localhost")), tenant.config.hosts[0])
            port = self.settings.public_base_port or self.settings.port
            return f"http://{host}:{port}"
        scheme = "https" if self.settings.https else "http"
        return f"{scheme}://{tenant.config.hosts[0]}"

    def security_headers(self, headers: MutableScopeHeaders, tenant: Tenant | None, state: dict | None = None) -> None:
        """``state`` of the request: ``same_origin_frame`` lets a page be shown in a frame of the same site (a
        preview in the console), ``embeds_previews`` lets a page frame such pages."""
        state = state or {}
        same_origin_frame = bool(state.get("same_origin_frame"))
        extra = ""
        if tenant is not None:
            extra = CAPTCHA_SOURCES.get(tenant.config.identity.captcha.provider, "")
        script = f"'self' {extra}".strip()
        frame = f"'self' {extra}".strip() if extra or state.get("embeds_previews") else "'none'"
        ancestors = "'self'" if same_origin_frame else "'none'"
        csp = (
            "default-src 'self'; "
            f"script-src {script}; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; "
            f"connect-src 'self' {extra}".strip()
            + "; "
            "worker-src 'self' blob:; "
            f"frame-src {frame}; "
            f"frame-ancestors {ancestors}; form-action 'self'; base-uri 'self'; object-src 'none'"
        )
        # Tenant pages always get this policy; a development page (no tenant) may bring its own.
        if tenant is not None or "content-security-policy" not in headers:
            headers["content-security-policy"] = csp
        headers["x-frame-options"] = "SAMEORIGIN" if same_origin_frame else "DENY"
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
