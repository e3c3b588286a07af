"""The platform core over HTTP: tenant resolution, the dev index, themes, locales, security headers,
CSRF and themed error pages, and a fourth tenant served by configuration alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from litestar import get

from conftest import PortalClient, run
from mypage.app import create_app
from mypage.identity.accounts import AccountRepository
from mypage.identity.passwords import hash_password
from mypage.identity.policy import check_login_id, check_password
from mypage.portal import Portal
from mypage.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def client(app, host: str) -> PortalClient:
    return PortalClient(app, base_url=f"http://{host}")


# --- tenant resolution -----------------------------------------------------------------------------


def test_host_picks_the_tenant(app, portal):
    for tenant in portal.tenants:
        for host in tenant.config.hosts:
            page = client(app, host).get("/login")
            assert page.status_code == 200, host
            assert tenant.config.portal_title.ja in page.text
            assert tenant.config.identity.login_id.label.ja in page.text


def test_port_and_case_in_host_are_ignored(app, portal):
    title = portal.tenants.get("itscom").config.portal_title.ja
    page = client(app, "aicom.localhost").get("/login", headers={"host": "ITSCOM.localhost:8000"})
    assert page.status_code == 200 and title in page.text


def test_unknown_host_is_a_404_page(app):
    for host in ("unknown.example.jp", "aicom.localhost.evil.example", "evil.localhost"):
        page = client(app, "aicom.localhost").get("/login", headers={"host": host})
        assert page.status_code == 404, host
        assert "ページが見つかりません" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert "mypage_session" not in page.headers.get("set-cookie", "")


def test_localhost_lists_the_tenants_in_development(app, portal):
    for host in ("localhost", "localhost:8000", "127.0.0.1:8000"):
        page = client(app, "localhost").get("/", headers={"host": host})
        assert page.status_code == 200, host
        for tenant in portal.tenants:
            assert tenant.config.names.ja in page.text
            assert f'href="{portal.base_url(tenant)}/"' in page.text
        assert "/_dev/mail" in page.text
    # The dev index is not a tenant: tenant pages are 404 there.
    assert client(app, "localhost").get("/login").status_code == 404


def test_localhost_is_404_without_dev_mode(db, portal):
    settings = db.with_(dev_mode=False)
    app = create_app(settings, portal=Portal(settings, tenants=portal.tenants))
    page = client(app, "localhost").get("/")
    assert page.status_code == 404
    assert portal.tenants.get("aicom").config.names.ja not in page.text
    # Tenants are served as before.
    assert client(app, "mypage.aicom-koka.jp").get("/login").status_code == 200


def test_mail_links_use_the_development_host_and_port(portal):
    settings = portal.settings.with_(port=8123)
    assert Portal(settings, tenants=portal.tenants).base_url(portal.tenants.get("aicom")) == "http://aicom.localhost:8123"
    production = Portal(settings.with_(dev_mode=False, https=True), tenants=portal.tenants)
    assert production.base_url(portal.tenants.get("aicom")) == "https://mypage.aicom-koka.jp"


# --- themes ----------------------------------------------------------------------------------------


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    tenants, themes = tmp_path / "tenants", tmp_path / "themes"
    shutil.copytree(ROOT / "tenants", tenants)
    shutil.copytree(ROOT / "themes", themes)
    return tenants, themes


def test_templates_resolve_child_first(folders):
    tenants, themes = folders
    (themes / "aicom" / "templates").mkdir(exist_ok=True)
    (themes / "aicom" / "templates" / "probe.html").write_text("theme aicom", encoding="utf-8")
    (themes / "base" / "templates" / "probe.html").write_text("theme base", encoding="utf-8")
    portal = Portal(Settings(tenants_dir=tenants, themes_dir=themes))
    render = lambda slug: portal.templates_for(portal.tenants.get(slug)).render("probe.html", {})  # noqa: E731
    assert render("aicom") == "theme aicom"
    assert render("itscom") == "theme base"
    # A tenant's own template wins over its theme.
    (tenants / "aicom" / "templates").mkdir(exist_ok=True)  # git keeps no empty folder
    (tenants / "aicom" / "templates" / "probe.html").write_text("tenant aicom", encoding="utf-8")
    portal = Portal(Settings(tenants_dir=tenants, themes_dir=themes))
    assert portal.templates_for(portal.tenants.get("aicom")).render("probe.html", {}) == "tenant aicom"
    assert portal.templates_for(portal.tenants.get("nmedia")).render("probe.html", {}) == "theme base"


def test_theme_chain_is_child_first(folders):
    tenants, themes = folders
    (themes / "child").mkdir()
    (themes / "child" / "theme.toml").write_text('name = "child"\nparent = "aicom"\n', encoding="utf-8")
    portal = Portal(Settings(tenants_dir=tenants, themes_dir=themes))
    assert [t.name for t in portal.themes.chain("child")] == ["child", "aicom", "base"]


def test_static_files_resolve_child_first(folders):
    tenants, themes = folders
    portal = Portal(Settings(tenants_dir=tenants, themes_dir=themes))
    aicom = portal.templates_for(portal.tenants.get("aicom"))
    assert aicom.find_static("css/theme.css") == (themes / "aicom" / "static" / "css" / "theme.css").resolve()
    assert aicom.find_static("css/portal.css") == (themes / "base" / "static" / "css" / "portal.css").resolve()
    assert aicom.find_static("logo.svg") == (tenants / "aicom" / "static" / "logo.svg").resolve()
    assert aicom.find_static("../tenant.toml") is None
    assert aicom.find_static("../../themes/base/theme.toml") is None
    (tenants / "aicom" / "static" / "css").mkdir()
    (tenants / "aicom" / "static" / "css" / "theme.css").write_text("/* tenant */", encoding="utf-8")
    assert aicom.find_static("css/theme.css") == (tenants / "aicom" / "static" / "css" / "theme.css").resolve()


def test_static_and_brand_css_over_http(app, portal):
    aicom = client(app, "aicom.localhost")
    css = aicom.get("/static/css/theme.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.text == (ROOT / "themes" / "aicom" / "static" / "css" / "theme.css").read_text(encoding="utf-8")
    assert aicom.get("/static/logo.svg").headers["content-type"].startswith("image/svg")
    assert aicom.get("/static/../tenant.toml").status_code == 404
    assert aicom.get("/static/%2e%2e/tenant.toml").status_code == 404
    assert aicom.get("/static/nothing.css").status_code == 404
    brand = aicom.get("/brand.css").text
    assert portal.tenants.get("aicom").config.branding.primary_colour in brand
    assert portal.tenants.get("itscom").config.branding.primary_colour in client(app, "itscom.localhost").get("/brand.css").text


# --- locale ----------------------------------------------------------------------------------------


def test_locale_from_query_cookie_header_and_default(app):
    aicom = client(app, "aicom.localhost")
    assert "パスワード" in aicom.get("/login").text
    assert '<html lang="ja">' in aicom.get("/login").text
    english = aicom.get("/login?lang=en")
    assert '<html lang="en">' in english.text and "Password" in english.text
    assert aicom.cookies.get("lang") == "en"
    # The lang cookie keeps English on the next page.
    assert '<html lang="en">' in aicom.get("/login").text
    assert '<html lang="ja">' in aicom.get("/login?lang=ja").text
    # Accept-Language when neither is given; the tenant default otherwise; unknown languages ignored.
    fresh = client(app, "aicom.localhost")
    assert '<html lang="en">' in fresh.get("/login", headers={"accept-language": "en-GB,en;q=0.8"}).text
    assert '<html lang="ja">' in client(app, "aicom.localhost").get("/login").text
    assert '<html lang="ja">' in client(app, "aicom.localhost").get("/login?lang=fr").text


# --- security --------------------------------------------------------------------------------------


def test_security_headers_on_tenant_pages(app):
    page = client(app, "itscom.localhost").get("/login")
    headers = page.headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-src 'none'" in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers
    cookies = headers.get_list("set-cookie")
    assert cookies and all("Secure" not in c for c in cookies)
    assert any(c.startswith("mypage_csrf=") and "HttpOnly" in c and "samesite=lax" in c.lower() for c in cookies)


def test_https_settings_add_hsts_and_secure_cookies(db, portal):
    settings = db.with_(https=True, secure_cookies=True)
    app = create_app(settings, portal=Portal(settings, tenants=portal.tenants))
    aicom = client(app, "aicom.localhost")
    page = aicom.get("/login")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    csrf_cookie = [c for c in page.headers.get_list("set-cookie") if c.startswith("mypage_csrf=")]
    assert csrf_cookie and "Secure" in csrf_cookie[0]
    response = aicom.get("/login?lang=en")
    lang_cookie = [c for c in response.headers.get_list("set-cookie") if c.startswith("lang=")]
    assert lang_cookie and "Secure" in lang_cookie[0]


def test_post_without_csrf_token_is_a_themed_403_in_japanese(app, portal):
    aicom = client(app, "aicom.localhost")
    aicom.get("/login")
    response = aicom.post("/login", data={"login_id": "x", "password": "y"})
    assert response.status_code == 403
    assert "この操作は許可されていません" in response.text
    assert "画面の有効期限が切れたか" in response.text
    # Themed: the tenant's layout and stylesheet, not a bare error.
    assert portal.tenants.get("aicom").config.portal_title.ja in response.text
    assert "/static/css/theme.css" in response.text
    assert response.headers["x-frame-options"] == "DENY"
    # A wrong token is refused as well.
    assert aicom.post("/login", data={"login_id": "x", "password": "y", "_csrf_token": "forged"}).status_code == 403
    # And with the token, the form is processed.
    assert aicom.submit("/login", {"login_id": "x", "password": "y"}).status_code in (400, 429)


def test_csrf_token_of_one_tenant_does_not_serve_another(app):
    aicom = client(app, "aicom.localhost")
    token = aicom.csrf()
    itscom = client(app, "itscom.localhost")
    itscom.get("/login")
    response = itscom.post("/login", data={"login_id": "x", "password": "y", "_csrf_token": token})
    assert response.status_code == 403


def test_404_page_is_themed(app, portal):
    for slug in ("aicom", "nmedia"):
        page = client(app, f"{slug}.localhost").get("/no/such/page")
        assert page.status_code == 404
        assert "ページが見つかりません" in page.text
        assert portal.tenants.get(slug).config.portal_title.ja in page.text
    english = client(app, "aicom.localhost").get("/no/such/page?lang=en")
    assert english.status_code == 404 and "Page not found" in english.text


def test_405_is_a_page_not_a_traceback(app):
    response = client(app, "aicom.localhost").submit("/brand.css", {})
    assert response.status_code == 405
    assert "この操作は許可されていません" in response.text


def test_a_route_that_raises_gives_the_themed_500_page(db, portal):
    @get("/_test/boom", sync_to_thread=False)
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    app = create_app(db, portal=Portal(db, tenants=portal.tenants))
    app.register(boom)
    response = PortalClient(app, base_url="http://nmedia.localhost", raise_server_exceptions=False).get("/_test/boom")
    assert response.status_code == 500
    assert "ただいま処理できません" in response.text
    assert portal.tenants.get("nmedia").config.portal_title.ja in response.text
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert response.headers["content-security-policy"]


# --- a fourth tenant, by configuration alone ---------------------------------------------------------


FOURTH_TOML_CHANGES = [
    ('slug = "itscom"', 'slug = "fourth"'),
    ('hosts = ["mypage.itscom.jp", "itscom.localhost"]', 'hosts = ["mypage.fourth-cable.jp", "fourth.localhost"]'),
    ('factors = ["password"]', 'factors = ["password", "captcha"]'),
    ('label = { ja = "iTSCOM ID", en = "iTSCOM ID" }', 'label = { ja = "フォースケーブルID", en = "Fourth Cable ID" }'),
    ("min_length = 6\nmax_length = 32", "min_length = 10\nmax_length = 20"),
]


@pytest.fixture
def fourth(db, tmp_path, portal):
    tenants = tmp_path / "tenants"
    shutil.copytree(ROOT / "tenants", tenants)
    shutil.copytree(tenants / "itscom", tenants / "fourth")
    toml = tenants / "fourth" / "tenant.toml"
    text = toml.read_text(encoding="utf-8")
    for old, new in FOURTH_TOML_CHANGES:
        assert old in text, old
        text = text.replace(old, new, 1)
    text = text.replace("[identity.password]\n", '[identity.password]\nrequired_classes = ["upper", "digit"]\n', 1)
    text = text.replace('names = { ja = "', 'names = { ja = "フォースケーブル", en = "Fourth Cable" }\n# was: { ja = "', 1)
    toml.write_text(text, encoding="utf-8")
    settings = db.with_(tenants_dir=tenants)
    fourth_portal = Portal(settings)
    return create_app(settings, portal=fourth_portal), fourth_portal


def test_a_fourth_tenant_is_served_by_configuration_alone(fourth):
    app, portal = fourth
    tenant = portal.tenants.get("fourth")
    assert tenant.config.names.ja == "フォースケーブル"
    page = client(app, "fourth.localhost").get("/login")
    assert page.status_code == 200
    assert "フォースケーブルID" in page.text and 'type="email"' in page.text
    assert "フォースケーブル" in page.text
    assert client(app, "mypage.fourth-cable.jp").get("/login").status_code == 200
    # Its own rules, enforced by the shared policy code.
    policy = tenant.config.identity
    assert check_login_id("user@example.jp", policy.login_id) == []
    assert check_login_id("not-an-address", policy.login_id)
    assert check_password("Abcdefgh12", policy.password) == []
    assert check_password("Abc12", policy.password)  # too short for this tenant (10-20)
    assert check_password("abcdefgh12", policy.password)  # no upper-case letter
    assert check_password("Abc123", portal.tenants.get("itscom").config.identity.password) == []

    async def make():
        await AccountRepository(tenant).create(login_id="Four@Example.jp", password_hash=hash_password("Abcdefgh12"))

    run(make())
    browser = client(app, "fourth.localhost")
    response = browser.submit("/login", {"login_id": "four@example.jp", "password": "Abcdefgh12"}, follow_redirects=False)
    # The captcha factor comes next: not logged in yet.
    assert response.status_code == 303 and response.headers["location"].startswith("/login/captcha")
    assert browser.get("/", follow_redirects=False).headers["location"].startswith("/login")
    # The other tenants do not know this account.
    other = client(app, "itscom.localhost")
    assert (
        other.submit("/login", {"login_id": "four@example.jp", "password": "Abcdefgh12"}, follow_redirects=False).status_code
        == 400
    )
