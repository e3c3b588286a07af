"""The console's ブランディング, 文言・連絡先 and 機能 editors: a failing contrast refused with the pair and
the ratio, a draft previewed in frames, published by a 管理者 only, seen by the customer pages of another
worker, restored; each action audited with the staff member."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from admin_support import make_staff, staff_login
from conftest import PortalClient, run
from mypage.app import create_app
from mypage.audit.tables import AuditEvent
from mypage.db.engine import bind_tables, make_engine
from mypage.portal import Portal

ROOT = Path(__file__).resolve().parents[2]
COLOURS = {"primary_colour": "#0a7d3b", "header_text_colour": "#ffffff", "theme": "aicom"}


@pytest.fixture
def apps(db, portal):
    """The console's app and a second one (another worker) over the same database; their own portals, so
    what is published here does not reach the other tests' app."""
    console, worker = Portal(db, tenants=portal.base), Portal(db, tenants=portal.base)
    built = create_app(db, portal=console), create_app(db, portal=worker)
    bind_tables(make_engine(db))
    for each in (console, worker):
        run(each.refresh())
    return built, (console, worker)


def staff_client(app, slug: str, role: str = "admin") -> PortalClient:
    client = PortalClient(app, base_url=f"http://{slug}.localhost")
    staff = make_staff(slug, f"{role}@{slug}.example", role)
    assert staff_login(client, staff).status_code == 303
    return client


def events(slug: str) -> list[dict]:
    async def go():
        query = AuditEvent.select().where(AuditEvent.tenant == slug).where(AuditEvent.event.like("admin.config.%"))
        return await query.order_by(AuditEvent.id).output(load_json=True)

    return run(go())


def test_branding_refused_previewed_published_seen_by_another_worker_and_restored(apps):
    (console_app, worker_app), (_, worker) = apps
    admin = staff_client(console_app, "aicom")
    page = admin.get("/admin/branding")
    assert page.status_code == 200 and "下書きはありません" in page.text

    refused = admin.submit("/admin/branding", {**COLOURS, "accent_colour": "#f29b00"})
    assert refused.status_code == 400
    assert "フォーカス枠: #f29b00 と #f6f8fa のコントラスト比は 2.08:1 です(WCAG AA では 3:1 以上が必要です)" in refused.text
    assert 'id="f-accent_colour-error"' in refused.text

    saved = admin.submit("/admin/branding", {**COLOURS, "accent_colour": "#a05a00"}, follow_redirects=False)
    assert saved.status_code == 303
    page = admin.get("/admin/branding")
    frames = re.findall(r'<iframe [^>]*src="(/admin/config/1/preview/(?:login|home))"', page.text)
    assert sorted(set(frames)) == ["/admin/config/1/preview/home", "/admin/config/1/preview/login"]
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    preview = admin.get("/admin/config/1/preview/login")
    assert preview.status_code == 200 and 'href="/admin/config/1/brand.css"' in preview.text
    assert "frame-ancestors 'self'" in preview.headers["content-security-policy"]
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"
    assert "--brand-accent:#a05a00" in admin.get("/admin/config/1/brand.css").text
    assert admin.get("/admin/config/1/preview/home").status_code == 200
    assert 'href="/admin/config/1/theme.css"' in preview.text
    theme_css = admin.get("/admin/config/1/theme.css")
    assert theme_css.status_code == 200 and theme_css.text == (ROOT / "themes/aicom/static/css/theme.css").read_text()
    assert admin.get("/admin/config/1/preview/other").status_code == 404

    customer = PortalClient(worker_app, base_url="http://aicom.localhost")
    assert "#c57d00" in customer.get("/brand.css").text  # a draft is not live
    assert customer.get("/admin/config/1/preview/login", follow_redirects=False).status_code == 303  # staff only

    for role in ("support", "viewer"):
        other = staff_client(console_app, "aicom", role)
        assert other.get("/admin/branding").status_code == 200  # they may look
        assert other.submit("/admin/config/1/publish", {}).status_code == 403
        assert other.submit("/admin/branding", {**COLOURS, "accent_colour": "#a05a00"}).status_code == 403

    published = admin.submit("/admin/config/1/publish", {"section": "branding"}, follow_redirects=False)
    assert published.status_code == 303 and published.headers["location"] == "/admin/branding"
    run(worker.refresh())  # what the other worker's background poll does within a second
    assert "--brand-accent:#a05a00" in customer.get("/brand.css").text

    admin.submit("/admin/branding", {**COLOURS, "accent_colour": "#8a4d00"})
    admin.submit("/admin/config/2/publish", {})
    run(worker.refresh())
    assert "--brand-accent:#8a4d00" in customer.get("/brand.css").text
    restored = admin.submit("/admin/config/1/restore", {"section": "branding"}, follow_redirects=False)
    assert restored.status_code == 303
    run(worker.refresh())
    assert "--brand-accent:#a05a00" in customer.get("/brand.css").text
    history = admin.get("/admin/config/versions").text
    assert "バージョン1の復元" in history and "admin@aicom.example" in history

    audited = events("aicom")
    assert [e["event"] for e in audited].count("admin.config.published") == 2
    restore = next(e for e in audited if e["event"] == "admin.config.restored")
    assert "admin@aicom.example" in restore["actor"] and restore["staff_id"]
    assert restore["before"]["version"] == 2 and restore["after"]["version"] == 3

    # Another tenant's staff cannot open these versions.
    itscom = staff_client(console_app, "itscom")
    assert itscom.get("/admin/config/1/preview/login").status_code == 404


def test_logo_upload_through_the_console(apps):
    (console_app, worker_app), (_, worker) = apps
    admin = staff_client(console_app, "nmedia")
    refused = admin.post(
        "/admin/branding/logo",
        data={"_csrf_token": admin.csrf()},
        files={"logo": ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")},
    )
    assert refused.status_code == 400 and "SVGは受け付けません" in refused.text
    out = io.BytesIO()
    Image.new("RGB", (300, 80), (0, 63, 142)).save(out, format="PNG")
    uploaded = admin.post(
        "/admin/branding/logo",
        data={"_csrf_token": admin.csrf()},
        files={"logo": ("logo.png", out.getvalue(), "image/png")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    admin.submit("/admin/config/1/publish", {})
    run(worker.refresh())
    customer = PortalClient(worker_app, base_url="http://nmedia.localhost")
    logo = re.search(r'<img src="(/media/[0-9a-f]{32}\.png)"', customer.get("/login").text).group(1)
    served = customer.get(logo)
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert any(e["event"] == "admin.config.logo_uploaded" for e in events("nmedia"))
    # A file field is accepted only where the route allows it.
    assert (
        admin.post("/admin/texts", data={"_csrf_token": admin.csrf()}, files={"logo": ("x.png", b"x", "image/png")}).status_code
        == 400
    )


def test_texts_contact_and_features(apps):
    (console_app, worker_app), (_, worker) = apps
    admin = staff_client(console_app, "aicom")
    form = admin.get("/admin/texts")
    assert form.status_code == 200
    menu = re.search(r'<textarea id="f-menu"[^>]*>(.*?)</textarea>', form.text, re.S).group(1)
    import html

    menu = html.unescape(menu)
    bad = admin.submit("/admin/texts", {"contact_name_ja": "窓口", "contact_hours_ja": "9時〜17時", "menu": "[{"})
    assert bad.status_code == 400 and "メニューの書式(JSON)が正しくありません" in bad.text
    saved = admin.submit(
        "/admin/texts",
        {
            "contact_name_ja": "あいコム 新窓口",
            "contact_hours_ja": "9時〜17時",
            "contact_phone": "0748-62-9999",
            "home_notes_ja": "新しい注意書きです。",
            "text_link__forgot_ja": "パスワードをお忘れの方はこちら",
            "menu": menu,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert admin.submit("/admin/features", {}, follow_redirects=False).status_code == 303  # every feature off
    admin.submit("/admin/config/1/publish", {})
    run(worker.refresh())
    customer = PortalClient(worker_app, base_url="http://aicom.localhost")
    login = customer.get("/login").text
    assert "パスワードをお忘れの方はこちら" in login and "0748-62-9999" in login
    assert customer.get("/billing", follow_redirects=False).status_code == 404
    config = worker.tenants.get("aicom").config
    assert config.contact.name.ja == "あいコム 新窓口" and config.features.names() == []


def test_a_draft_with_another_theme_is_previewed_with_it_and_can_be_discarded(apps):
    (console_app, _), _ = apps
    admin = staff_client(console_app, "aicom")
    admin.submit("/admin/branding", {**COLOURS, "accent_colour": "#c57d00", "theme": "nmedia"})
    css = admin.get("/admin/config/1/theme.css").text
    assert css == (ROOT / "themes/nmedia/static/css/theme.css").read_text()
    assert admin.submit("/admin/config/1/discard", {"section": "branding"}, follow_redirects=False).status_code == 303
    assert admin.get("/admin/config/1/preview/login").status_code == 404
    assert "下書きはありません" in admin.get("/admin/branding").text
    assert any(e["event"] == "admin.config.draft_discarded" for e in events("aicom"))
