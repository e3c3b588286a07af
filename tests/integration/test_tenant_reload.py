"""Tenant folders added or changed while the portal runs: validated first, applied on every worker without a
restart (``mypage tenant reload``, SIGHUP); a broken folder is refused and the running tenants keep serving."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from tenant_folders import add_tenant, copy_folders, edit

from conftest import run
from mypage.app import create_app
from mypage.cli import main
from mypage.db.engine import bind_tables, make_engine
from mypage.portal import Portal
from mypage.tenancy.registry import TenantConfigError
from mypage.tenancy.reload import FOLDERS, announce, generation, reload_folders


@pytest.fixture
def folders(db, tmp_path):
    tenants, themes = copy_folders(tmp_path)
    settings = db.with_(tenants_dir=tenants, themes_dir=themes)
    portal = Portal(settings)
    app = create_app(settings, portal=portal)
    bind_tables(make_engine(settings))
    run(portal.refresh())
    return settings, portal, app


def page(app, host: str, path: str = "/login"):
    return TestClient(app, base_url=f"http://{host}").get(path)


def test_a_new_tenant_folder_is_served_after_reload(folders):
    settings, portal, app = folders
    add_tenant(settings.tenants_dir, "hikari", host="hikari.localhost", name="ひかりネット マイページ")
    assert page(app, "hikari.localhost").status_code == 404  # not before the reload
    run(reload_folders(settings))
    assert run(portal.refresh()) is True
    response = page(app, "hikari.localhost")
    assert response.status_code == 200 and "ひかりネット マイページ" in response.text
    assert page(app, "aicom.localhost").status_code == 200


def test_a_changed_folder_applies_after_reload(folders):
    settings, portal, app = folders
    edit(settings.tenants_dir / "aicom" / "tenant.toml", 'primary_colour = "#0a7d3b"', 'primary_colour = "#145a32"')
    edit(settings.tenants_dir / "aicom" / "tenant.toml", 'ja = "あいコムこうか マイページ"', 'ja = "あいコム 新マイページ"')
    assert "#0a7d3b" in page(app, "aicom.localhost", "/brand.css").text
    run(reload_folders(settings))
    run(portal.refresh())
    assert "#145a32" in page(app, "aicom.localhost", "/brand.css").text
    assert "あいコム 新マイページ" in page(app, "aicom.localhost").text


def test_a_broken_folder_is_refused_and_the_tenants_keep_serving(folders):
    settings, portal, app = folders
    before = run(generation())
    broken = add_tenant(settings.tenants_dir, "broken", host="broken.localhost", name="壊れた")
    edit(broken / "tenant.toml", 'primary_colour = "#0a7d3b"', 'primary_colour = "green"')
    with pytest.raises(TenantConfigError) as refused:
        run(reload_folders(settings))
    assert "broken/tenant.toml: key 'branding.primary_colour'" in str(refused.value)
    assert run(generation()) == before  # nothing announced
    assert run(portal.refresh()) is False
    assert page(app, "aicom.localhost").status_code == 200
    assert page(app, "broken.localhost").status_code == 404


def test_a_worker_that_meets_a_broken_folder_keeps_its_tenants(folders, caplog):
    """Announced by another host while a folder here is broken: this worker logs and keeps what it serves."""
    settings, portal, app = folders
    edit(settings.tenants_dir / "itscom" / "tenant.toml", 'slug = "itscom"', 'slug = "itscom2"')
    run(announce(FOLDERS))
    run(portal.refresh())
    assert "tenant reload refused" in caplog.text and "differs from the folder name" in caplog.text
    assert page(app, "itscom.localhost").status_code == 200
    assert portal.tenants.slugs == ["aicom", "itscom", "nmedia"]


def test_the_reload_command_validates_then_announces(folders):
    settings, portal, app = folders
    env = {
        "MYPAGE_TENANTS_DIR": str(settings.tenants_dir),
        "MYPAGE_THEMES_DIR": str(settings.themes_dir),
        "MYPAGE_DATABASE_URL": settings.database_url,
        "MYPAGE_SQLITE_PATH": str(settings.sqlite_path),
    }
    broken = add_tenant(settings.tenants_dir, "hikari", host="aicom.localhost", name="ひかり")
    result = CliRunner().invoke(main, ["tenant", "reload"], env=env)
    assert result.exit_code == 1
    assert "refused" in result.output and "'aicom.localhost' is already used by 'aicom'" in result.output
    edit(broken / "tenant.toml", 'hosts = ["aicom.localhost"]', 'hosts = ["hikari.localhost"]')
    result = CliRunner().invoke(main, ["tenant", "reload"], env=env)
    assert result.exit_code == 0, result.output
    assert "hikari" in result.output
    bind_tables(make_engine(settings))
    run(portal.refresh())
    assert page(app, "hikari.localhost").status_code == 200


def test_tenant_check_warns_of_brand_colours_below_wcag_aa(tmp_path):
    tenants, themes = copy_folders(tmp_path)
    edit(tenants / "aicom" / "tenant.toml", 'accent_colour = "#c57d00"', 'accent_colour = "#f29b00"')
    env = {"MYPAGE_TENANTS_DIR": str(tenants), "MYPAGE_THEMES_DIR": str(themes)}
    result = CliRunner().invoke(main, ["tenant", "check"], env=env)
    assert result.exit_code == 0
    assert "warning: " in result.output and "aicom/tenant.toml: key 'branding.accent_colour'" in result.output
    assert "#f29b00 と #f6f8fa のコントラスト比は 2.08:1" in result.output
