"""The tenants' Jinja environments share what a template file compiles to, never a tenant's own template."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from tenant_folders import add_tenant, copy_folders

from mypage.app import create_app
from mypage.portal import Portal
from mypage.settings import Settings
from mypage.web.templating import TEMPLATE_CODE


@pytest.fixture
def portal(tmp_path):
    tenants, themes = copy_folders(tmp_path)
    for slug in ("kita", "minami", "nishi"):
        add_tenant(tenants, slug, host=f"{slug}.localhost", name=f"{slug} マイページ", source="itscom")
    override = tenants / "minami" / "templates" / "identity" / "login.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(
        '{% extends "layout.html" %}{% block content %}<p>MINAMI-ONLY {{ tenant.slug }}</p>{% endblock %}', "utf-8"
    )
    return Portal(Settings(tenants_dir=tenants, themes_dir=themes))


def login(app, slug: str) -> str:
    response = TestClient(app, base_url=f"http://{slug}.localhost").get("/login")
    assert response.status_code == 200
    return response.text


def test_a_tenant_override_is_never_served_to_another_tenant(portal):
    app = create_app(portal.settings, portal=portal)
    assert "MINAMI-ONLY" not in login(app, "kita")
    assert "MINAMI-ONLY minami" in login(app, "minami")
    for slug in ("kita", "nishi", "itscom"):
        assert "MINAMI-ONLY" not in login(app, slug)
    assert portal.templates["kita"].env is not portal.templates["nishi"].env


def test_a_template_file_is_compiled_once_for_every_tenant_using_it(portal):
    app = create_app(portal.settings, portal=portal)
    login(app, "kita")
    compiled = len(TEMPLATE_CODE)
    html = login(app, "nishi")  # same theme chain, no overrides: nothing new to compile
    assert len(TEMPLATE_CODE) == compiled
    assert "nishi マイページ" in html and "kita マイページ" not in html
    login(app, "minami")  # its own login.html is compiled for it
    assert len(TEMPLATE_CODE) == compiled + 1
