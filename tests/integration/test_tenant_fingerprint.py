"""The fingerprint that tells a reload which tenant folders changed: every file of the folder and of its theme
chain, by mtime and size; a folder modified just before it was read is read again until it settles."""

from __future__ import annotations

import os

from tenant_folders import copy_folders, edit, settle

from mypage.tenancy.registry import TenantRegistry


def test_a_same_size_edit_a_new_file_and_a_removed_file_are_changes(tmp_path):
    tenants, themes = copy_folders(tmp_path)
    settle(tenants, themes)
    first = TenantRegistry.load(tenants, themes)
    assert first.read == ("aicom", "itscom", "nmedia") and all(first.fingerprints.values())
    assert TenantRegistry.load(tenants, themes, first).read == ()
    edit(tenants / "aicom" / "tenant.toml", 'primary_colour = "#0a7d3b"', 'primary_colour = "#0a7d3c"')  # same size
    (tenants / "itscom" / "content" / "note.md").write_text("# メモ\n", encoding="utf-8")
    logo = next((tenants / "nmedia" / "static").iterdir())
    past = logo.stat().st_mtime_ns
    logo.write_bytes(logo.read_bytes())  # rewritten, same bytes
    os.utime(logo, ns=(past, past))  # and dated back: no change to see
    second = TenantRegistry.load(tenants, themes, first)
    assert second.read == ("aicom", "itscom")
    assert second.get("aicom").config.branding.primary_colour == "#0a7d3c"
    assert second.get("nmedia") is first.get("nmedia")


def test_a_folder_modified_just_before_its_read_is_read_again_until_it_settles(tmp_path):
    tenants, themes = copy_folders(tmp_path)
    settle(tenants, themes)
    edit(tenants / "aicom" / "tenant.toml", 'primary_colour = "#0a7d3b"', 'primary_colour = "#145a32"')
    first = TenantRegistry.load(tenants, themes)
    assert first.fingerprints["aicom"] is None and first.fingerprints["itscom"] is not None
    again = TenantRegistry.load(tenants, themes, first)
    assert again.read == ("aicom",)
    assert again.get("aicom") is first.get("aicom")  # read again, found the same: the running tenant is kept
    settle(tenants / "aicom")
    settled = TenantRegistry.load(tenants, themes, again)
    assert settled.read == ("aicom",) and settled.fingerprints["aicom"] is not None
    assert TenantRegistry.load(tenants, themes, settled).read == ()


def test_a_changed_theme_reads_again_the_tenants_of_its_chain(tmp_path):
    tenants, themes = copy_folders(tmp_path)
    settle(tenants, themes)
    first = TenantRegistry.load(tenants, themes)
    (themes / "base" / "templates" / "probe.html").write_text("probe", encoding="utf-8")
    assert TenantRegistry.load(tenants, themes, first).read == ("aicom", "itscom", "nmedia")
    settle(themes)
    second = TenantRegistry.load(tenants, themes, first)
    (themes / "nmedia" / "static" / "extra.css").write_text("/* */", encoding="utf-8")
    assert TenantRegistry.load(tenants, themes, second).read == ("nmedia",)
