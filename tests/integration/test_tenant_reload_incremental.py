"""A reload reads again only the tenant folders that changed (their files or their theme chain's, by mtime and
size), takes new folders in and drops removed ones; a broken changed folder is refused and every running tenant
keeps serving as it was. Jinja environments are built on a tenant's first page."""

from __future__ import annotations

import shutil

import pytest
from litestar.testing import TestClient
from tenant_folders import add_tenant, copy_folders, edit, settle

from conftest import run
from mypage.app import create_app
from mypage.db.engine import bind_tables, make_engine
from mypage.portal import Portal
from mypage.tenancy import registry as registry_module
from mypage.tenancy.reload import FOLDERS, announce

MANY = [f"net{number:02d}" for number in range(12)]


@pytest.fixture
def many(db, tmp_path, monkeypatch):
    """15 tenants (the 3 shipped and 12 copies of them) read long after they were written; ``reads`` lists the
    tenant folders parsed since."""
    tenants, themes = copy_folders(tmp_path)
    for number, slug in enumerate(MANY):
        source = ("aicom", "itscom", "nmedia")[number % 3]
        add_tenant(tenants, slug, host=f"{slug}.localhost", name=f"{slug} マイページ", source=source)
    settle(tenants, themes)
    settings = db.with_(tenants_dir=tenants, themes_dir=themes)
    portal = Portal(settings)
    app = create_app(settings, portal=portal)
    bind_tables(make_engine(settings))
    run(portal.refresh())
    reads: list[str] = []
    load_tenant = registry_module.load_tenant

    def counted(folder, themes_dir=None):
        reads.append(folder.name)
        return load_tenant(folder, themes_dir)

    monkeypatch.setattr(registry_module, "load_tenant", counted)
    return settings, portal, app, reads


def reload(portal: Portal) -> bool:
    run(announce(FOLDERS))
    return run(portal.refresh())


def page(app, host: str, path: str = "/login"):
    return TestClient(app, base_url=f"http://{host}").get(path)


def test_only_the_changed_tenant_is_read_again(many):
    settings, portal, app, reads = many
    assert len(portal.tenants) == 15
    before = {t.slug: t for t in portal.tenants}
    edit(settings.tenants_dir / "net04" / "tenant.toml", 'ja = "net04 マイページ"', 'ja = "net04 新マイページ"')
    assert reload(portal) is True
    assert reads == ["net04"] and portal.base.read == ("net04",)
    assert "net04 新マイページ" in page(app, "net04.localhost").text
    assert all(portal.tenants.get(slug) is tenant for slug, tenant in before.items() if slug != "net04")
    reads.clear()
    assert reload(portal) is False  # announced again, nothing changed: nothing read but the racy net04
    assert set(reads) <= {"net04"}


def test_a_changed_file_of_the_theme_reads_its_tenants_again(many):
    settings, portal, _app, reads = many
    css = settings.themes_dir / "itscom" / "static" / "css" / "theme.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n/* changed */\n", encoding="utf-8")
    reload(portal)
    users = sorted(t.slug for t in portal.tenants if t.config.theme == "itscom")
    assert sorted(reads) == users and "itscom" in users and len(users) == 5


def test_a_new_folder_is_read_and_a_removed_one_dropped(many):
    settings, portal, app, reads = many
    add_tenant(settings.tenants_dir, "hikari", host="hikari.localhost", name="ひかりネット マイページ")
    shutil.rmtree(settings.tenants_dir / "net07")
    assert page(app, "net07.localhost").status_code == 200
    assert reload(portal) is True
    assert reads == ["hikari"]
    assert "ひかりネット マイページ" in page(app, "hikari.localhost").text
    assert page(app, "net07.localhost").status_code == 404
    assert portal.tenants.find("net07") is None and len(portal.tenants) == 15


def test_a_broken_changed_folder_is_refused_and_every_tenant_keeps_serving(many, caplog):
    settings, portal, app, reads = many
    running = {t.slug: t for t in portal.tenants}
    edit(settings.tenants_dir / "net05" / "tenant.toml", 'ja = "net05 マイページ"', 'ja = "net05 新マイページ"')
    edit(settings.tenants_dir / "net02" / "tenant.toml", 'primary_colour = "#', 'primary_colour = "green')
    assert reload(portal) is False
    assert "tenant reload refused" in caplog.text and "net02/tenant.toml: key 'branding.primary_colour'" in caplog.text
    assert sorted(reads) == ["net02", "net05"]
    assert {t.slug: t for t in portal.tenants} == running  # the same objects: nothing applied, not even net05
    assert page(app, "net02.localhost").status_code == 200
    assert "net05 マイページ" in page(app, "net05.localhost").text
    # Repaired: both apply, and only what changed since the last good reload is read.
    edit(settings.tenants_dir / "net02" / "tenant.toml", 'primary_colour = "green', 'primary_colour = "#')
    reads.clear()
    assert reload(portal) is True
    assert sorted(reads) == ["net02", "net05"]
    assert "net05 新マイページ" in page(app, "net05.localhost").text


def test_environments_are_built_on_first_use_and_kept_across_reloads(many):
    settings, portal, app, _reads = many
    assert portal.templates == {}
    assert page(app, "net01.localhost").status_code == 200
    assert page(app, "net02.localhost").status_code == 200
    assert set(portal.templates) == {"net01", "net02"}
    kept = portal.templates["net01"]
    edit(settings.tenants_dir / "net02" / "tenant.toml", 'ja = "net02 マイページ"', 'ja = "net02 新マイページ"')
    reload(portal)
    assert set(portal.templates) == {"net01"} and portal.templates["net01"] is kept
    assert "net02 新マイページ" in page(app, "net02.localhost").text
    assert portal.templates["net02"].tenant is portal.tenants.get("net02")
