"""Each tenant's login page opens in Chromium with its own branding, wording and a working form."""

import re

import pytest
from playwright.sync_api import expect

TENANT_LABELS = {
    "aicom": ("アカウントID", "あいコムこうか"),
    "itscom": ("iTSCOM ID", "イッツコム"),
    "nmedia": ("アクセスID", "日本メディアシステム"),
}


@pytest.mark.parametrize("tenant", sorted(TENANT_LABELS))
def test_login_page_is_branded(live_server, page, tenant):
    label, name = TENANT_LABELS[tenant]
    page.goto(live_server.url(tenant, "/"))
    assert page.url.endswith("/login")
    assert name in page.title()
    assert page.get_by_label(label).is_visible()
    assert page.locator("label[for=f-password]").inner_text().startswith("パスワード")
    assert page.locator("#f-password").get_attribute("type") == "password"
    colour = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand-primary')")
    assert colour.strip().startswith("#")


@pytest.mark.parametrize("tenant", sorted(TENANT_LABELS))
def test_login_page_fits_a_phone(live_server, phone, tenant):
    phone.goto(live_server.url(tenant, "/login"))
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"horizontal scroll on a phone: {width}px"


def test_aicom_demo_login_and_logout(live_server, page):
    page.goto(live_server.url("aicom", "/login"))
    page.get_by_label("アカウントID").fill("aicom-demo")
    page.locator("#f-password").fill("Demo1234")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(live_server.url("aicom", "/"))
    assert "お客様メニューリスト" in page.content()
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(live_server.url("aicom", "/login"))
    assert "ログアウトしました" in page.content()


def test_wrong_password_shows_message_next_to_form(live_server, page):
    page.goto(live_server.url("aicom", "/login"))
    page.get_by_label("アカウントID").fill("aicom-demo")
    page.locator("#f-password").fill("wrong-password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert").first).to_have_text(re.compile(r"^\s*アカウントID"))
    expect(page.get_by_label("アカウントID")).to_have_value("aicom-demo")


def test_unknown_host_is_404(live_server, page):
    response = page.goto(f"http://nobody.localhost:{live_server.port}/")
    assert response.status == 404
