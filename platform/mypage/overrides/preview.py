"""Renders the login page and the top page as a draft version would make them, for the console's preview.

The pages are rendered with the draft's own Jinja environment (templates, theme, texts, menus, features) and
a sample customer; nothing is read from or written to a customer's data. The brand colours come from
``brand_css_url`` (a stylesheet the console serves for the draft), the theme's stylesheet from ``theme_css_url``
and an uploaded logo from ``/media/``.
"""

from __future__ import annotations

from enum import Enum
from types import SimpleNamespace
from typing import Any

from markupsafe import Markup

from mypage import i18n
from mypage.tenancy.registry import Tenant


class PreviewPage(Enum):
    LOGIN = "login"
    HOME = "home"


TEMPLATES = {PreviewPage.LOGIN: "identity/login.html", PreviewPage.HOME: "home.html"}


def sample_account() -> Any:
    name = i18n.gettext("見本 太郎")
    return SimpleNamespace(
        nickname="", display_name=name, login_id="sample", login_id_display="sample", role="owner", customer=None
    )


def render_preview(portal, tenant: Tenant, page: PreviewPage, locale: str, *, brand_css_url: str, theme_css_url: str = "") -> str:
    """The page's HTML for ``tenant`` (a draft's :class:`Tenant`, from ``Overrides.preview``); ``theme_css_url``
    serves the draft theme's ``css/theme.css`` when the draft chooses another theme."""
    config = tenant.config
    i18n.set_locale(locale)
    account = sample_account() if page is PreviewPage.HOME else None
    context: dict[str, Any] = {
        "tenant": config,
        "locale": locale,
        "lang": locale,
        "t": lambda key, default: config.text(key, locale) or i18n.gettext(default),
        "ltext": lambda phrase: phrase.get(locale) if phrase is not None else "",
        "csrf_token": "",
        "csrf_input": Markup(""),
        "flashes": [],
        "account": account,
        "holder_name": account.display_name if account else "",
        "path": "/" if page is PreviewPage.HOME else "/login",
        "brand_css_url": brand_css_url,
        "theme_css_url": theme_css_url or "/static/css/theme.css",
        "preview": True,
    }
    if page is PreviewPage.LOGIN:
        context |= {"next": "", "notice": None, "values": {}, "errors": {}, "form_error": None}
    else:
        context |= {
            "customer": None,
            "tenure": "",
            "contracts": [],
            "category_counts": {},
            "notices": [],
            "security_upsell": None,
        }
    return portal.templates_for(tenant).render(TEMPLATES[page], context)
