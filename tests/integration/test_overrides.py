"""Tenant staff's configuration overrides: drafts validated per key, preview, publish applied by every
worker without a restart, restore as a new version, uploaded logos served from the database."""

from __future__ import annotations

import io

import pytest
from litestar.testing import TestClient
from PIL import Image

from conftest import run
from mypage.app import create_app
from mypage.audit.log import AuditLog
from mypage.db.engine import bind_tables, make_engine
from mypage.overrides.images import ImageError
from mypage.overrides.preview import PreviewPage, render_preview
from mypage.overrides.service import Overrides, OverridesError
from mypage.portal import Portal


@pytest.fixture
def two_workers(db, portal):
    """Two portals (as two worker processes would have) over the same database."""
    first = Portal(db, tenants=portal.base)
    second = Portal(db, tenants=portal.base)
    apps = create_app(db, portal=first), create_app(db, portal=second)
    bind_tables(make_engine(db))
    for each in (first, second):
        run(each.refresh())
    return (first, second), apps


def brand(app, host="aicom.localhost") -> str:
    return TestClient(app, base_url=f"http://{host}").get("/brand.css").text


def overrides_of(portal: Portal, slug: str = "aicom") -> Overrides:
    return Overrides(portal.base.get(slug), set(portal.themes.names))


def test_an_invalid_draft_is_refused_with_the_key_and_the_problem(two_workers):
    (first, _), _ = two_workers
    with pytest.raises(OverridesError) as refused:
        run(overrides_of(first).save_draft({"branding": {"accent_colour": "#f29b00", "primary_colour": "#0a7d3"}}, "staff-a"))
    found = dict(refused.value.problems)
    assert "String should match pattern" in found["branding.primary_colour"]
    with pytest.raises(OverridesError) as refused:
        run(overrides_of(first).save_draft({"branding": {"accent_colour": "#f29b00"}}, "staff-a"))
    assert dict(refused.value.problems) == {
        "branding.accent_colour": "フォーカス枠: #f29b00 と #f6f8fa のコントラスト比は 2.08:1 です(WCAG AA では 3:1 以上が必要です)"
    }
    assert run(overrides_of(first).versions.versions()) == []


def test_publish_applies_on_another_worker_without_restart_and_restore_keeps_history(two_workers):
    (first, second), (app_a, app_b) = two_workers
    editor = overrides_of(first)
    v1 = run(editor.save_draft({"branding": {"primary_colour": "#145a32"}, "contact": {"phone": "0748-11-2222"}}, "staff-a"))
    assert (
        run(editor.save_draft({"branding": {"primary_colour": "#145a32"}, "contact": {"phone": "0748-11-3333"}}, "staff-a")) == v1
    )
    assert "#0a7d3b" in brand(app_b)  # a draft is not live
    run(editor.publish(v1, "admin-a"))
    assert run(second.refresh()) is True  # what the worker's background poll does within a second
    assert "#145a32" in brand(app_b)
    assert second.tenants.get("aicom").config.contact.phone == "0748-11-3333"
    assert "#e60012" in brand(app_b, "itscom.localhost")  # other tenants untouched

    v2 = run(editor.save_draft({"branding": {"primary_colour": "#1b6e3f"}}, "staff-b"))
    run(editor.publish(v2, "admin-a"))
    run(second.refresh())
    assert "#1b6e3f" in brand(app_b)

    v3 = run(editor.restore(v1, "admin-a"))
    assert v3 == 3
    run(first.refresh())
    run(second.refresh())
    assert "#145a32" in brand(app_a) and "#145a32" in brand(app_b)
    versions = run(editor.versions.versions())
    assert [(v["version"], v["status"], v["current"], v["restored_from"]) for v in versions] == [
        (3, "published", True, 1),
        (2, "published", False, None),
        (1, "published", False, None),
    ]
    assert versions[0]["published_by"] == "admin-a" and versions[0]["published_at"] is not None
    events = [e["event"] for e in run(AuditLog("aicom").events())]
    assert (
        events.count("admin.config.published") == 2 and "admin.config.restored" in events and "admin.config.draft_saved" in events
    )


def test_features_texts_and_menus_apply_through_the_same_mechanism(two_workers):
    (first, second), (_, app_b) = two_workers
    editor = overrides_of(first)
    version = run(editor.save_draft({"features": {"billing": False}, "home_notes": [{"ja": "新しいお知らせ文"}]}, "staff"))
    run(editor.publish(version, "admin"))
    run(second.refresh())
    config = second.tenants.get("aicom").config
    assert not config.features.enabled("billing") and config.home_notes[0].ja == "新しいお知らせ文"
    response = TestClient(app_b, base_url="http://aicom.localhost").get("/billing", follow_redirects=False)
    assert response.status_code == 404


def test_logo_upload_is_cleaned_stored_and_served_to_every_worker(two_workers):
    (first, second), (_, app_b) = two_workers
    editor = overrides_of(first)
    with pytest.raises(ImageError):
        run(editor.upload_logo(b"<svg onload='alert(1)'/>", "staff"))
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    Image.new("RGB", (200, 60), (10, 125, 59)).save(out, format="JPEG", exif=exif)
    logo = run(editor.upload_logo(out.getvalue(), "staff"))
    assert logo.startswith("media:") and logo.endswith(".jpg")
    url = "/media/" + logo.removeprefix("media:")
    aicom = TestClient(app_b, base_url="http://aicom.localhost")
    served = aicom.get(url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert b"CameraMaker" not in served.content
    assert TestClient(app_b, base_url="http://itscom.localhost").get(url).status_code == 404  # another tenant's file
    version = run(editor.save_draft({"branding": {"logo": logo}}, "staff"))
    run(editor.publish(version, "admin"))
    run(second.refresh())
    assert f'src="{url}"' in aicom.get("/login").text
    assert second.tenants.get("aicom").logo == ("image/jpeg", served.content)


def test_an_unknown_media_logo_is_refused(two_workers):
    (first, _), _ = two_workers
    with pytest.raises(OverridesError) as refused:
        run(overrides_of(first).save_draft({"branding": {"logo": "media:" + "0" * 32 + ".png"}}, "staff"))
    assert dict(refused.value.problems) == {"branding.logo": "no uploaded image of that name"}


def test_preview_renders_login_and_top_page_with_the_draft(two_workers):
    (first, _), (app_a, _) = two_workers
    editor = overrides_of(first, "aicom")
    draft = run(
        editor.save_draft(
            {
                "branding": {"primary_colour": "#14365e"},
                "home_notes": [{"ja": "見本の注意書き"}],
                "texts": {"link.forgot": {"ja": "パスワードを忘れた方はこちら"}},
            },
            "staff",
        )
    )
    tenant = run(editor.preview(draft))
    assert tenant.config.branding.primary_colour == "#14365e"
    login = render_preview(first, tenant, PreviewPage.LOGIN, "ja", brand_css_url="/preview.css")
    assert 'href="/preview.css"' in login and "パスワードを忘れた方はこちら" in login
    home = render_preview(first, tenant, PreviewPage.HOME, "ja", brand_css_url="/preview.css")
    assert "見本の注意書き" in home and "見本 太郎" in home
    # The live tenant is unchanged by a preview.
    assert "パスワードを忘れた方はこちら" not in TestClient(app_a, base_url="http://aicom.localhost").get("/login").text


def test_parallel_publishes_and_restores_leave_one_live_version(two_workers):
    (first, second), _ = two_workers
    editor = overrides_of(first)
    v1 = run(editor.save_draft({"contact": {"phone": "0748-00-0001"}}, "a"))
    run(editor.publish(v1, "a"))

    async def race():
        import asyncio

        await asyncio.gather(*(overrides_of(first).restore(v1, f"staff-{i}") for i in range(6)))

    run(race())
    versions = run(editor.versions.versions())
    assert sorted(v["version"] for v in versions) == list(range(1, 8))
    assert len([v for v in versions if v["current"]]) == 1
    run(second.refresh())
    assert second.tenants.get("aicom").config.contact.phone == "0748-00-0001"
