"""A bad tenant folder or theme stops start-up with a message naming the file, the key and the problem."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mypage.cli import main
from mypage.portal import Portal
from mypage.settings import Settings
from mypage.tenancy.registry import TenantConfigError, TenantRegistry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    tenants = tmp_path / "tenants"
    themes = tmp_path / "themes"
    shutil.copytree(ROOT / "tenants", tenants)
    shutil.copytree(ROOT / "themes", themes)
    return tenants, themes


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def load_error(tenants: Path, themes: Path) -> str:
    with pytest.raises(TenantConfigError) as info:
        Portal(Settings(tenants_dir=tenants, themes_dir=themes))
    return str(info.value)


def test_the_shipped_tenants_are_valid():
    registry = TenantRegistry.load(ROOT / "tenants", ROOT / "themes")
    assert set(registry.slugs) >= {"aicom", "itscom", "nmedia"}


def test_wrong_type(folders):
    tenants, themes = folders
    toml = tenants / "aicom" / "tenant.toml"
    edit(toml, "idle_timeout_minutes = 30", 'idle_timeout_minutes = "thirty"')
    message = load_error(tenants, themes)
    assert str(toml) in message
    assert "session.idle_timeout_minutes" in message
    assert "integer" in message


def test_unknown_key(folders):
    tenants, themes = folders
    toml = tenants / "itscom" / "tenant.toml"
    edit(toml, "[branding]\n", '[branding]\ncolour_scheme = "dark"\n')
    message = load_error(tenants, themes)
    assert str(toml) in message
    assert "branding.colour_scheme" in message
    assert "Extra inputs are not permitted" in message


def test_bad_colour(folders):
    tenants, themes = folders
    toml = tenants / "aicom" / "tenant.toml"
    edit(toml, 'primary_colour = "#0a7d3b"', 'primary_colour = "green"')
    message = load_error(tenants, themes)
    assert str(toml) in message
    assert "branding.primary_colour" in message
    assert "pattern" in message


def test_missing_logo(folders):
    tenants, themes = folders
    (tenants / "nmedia" / "static" / "logo.svg").unlink()
    message = load_error(tenants, themes)
    assert str(tenants / "nmedia" / "tenant.toml") in message
    assert "branding.logo" in message
    assert "does not exist" in message


def test_duplicate_host(folders):
    tenants, themes = folders
    toml = tenants / "itscom" / "tenant.toml"
    edit(toml, '"itscom.localhost"', '"itscom.localhost", "aicom.localhost"')
    message = load_error(tenants, themes)
    assert str(toml) in message
    assert "'hosts'" in message
    assert "aicom.localhost" in message and "already used" in message


def test_unknown_theme(folders):
    tenants, themes = folders
    toml = tenants / "aicom" / "tenant.toml"
    edit(toml, 'theme = "aicom"', 'theme = "nosuchtheme"')
    message = load_error(tenants, themes)
    assert str(toml) in message
    assert "'theme'" in message and "nosuchtheme" in message


def test_theme_cycle(folders):
    tenants, themes = folders
    edit(themes / "aicom" / "theme.toml", 'parent = "base"', 'parent = "itscom"')
    edit(themes / "itscom" / "theme.toml", 'parent = "base"', 'parent = "aicom"')
    message = load_error(tenants, themes)
    assert "theme.toml" in message
    assert "'parent'" in message and "cycle" in message


def test_theme_with_unknown_parent(folders):
    tenants, themes = folders
    edit(themes / "nmedia" / "theme.toml", 'parent = "base"', 'parent = "gone"')
    message = load_error(tenants, themes)
    assert str(themes / "nmedia" / "theme.toml") in message
    assert "unknown theme 'gone'" in message


def test_invalid_toml_syntax(folders):
    tenants, themes = folders
    toml = tenants / "aicom" / "tenant.toml"
    edit(toml, 'slug = "aicom"', 'slug = "aicom')
    message = load_error(tenants, themes)
    assert str(toml) in message and "not valid TOML" in message


def test_slug_must_match_folder(folders):
    tenants, themes = folders
    shutil.copytree(tenants / "aicom", tenants / "copy")
    edit(tenants / "copy" / "tenant.toml", "mypage.aicom-koka.jp", "copy.example.jp")
    message = load_error(tenants, themes)
    assert "key 'slug'" in message and "folder name 'copy'" in message


def test_menu_item_needs_its_feature(folders):
    tenants, themes = folders
    toml = tenants / "aicom" / "tenant.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(re.sub(r"\[features\.contracts\]\nlayout = \"summary\"\n", "", text), encoding="utf-8")
    message = load_error(tenants, themes)
    assert str(toml) in message and "feature 'contracts'" in message


def test_every_problem_is_reported_at_once(folders):
    tenants, themes = folders
    edit(tenants / "aicom" / "tenant.toml", 'accent_colour = "#c57d00"', 'accent_colour = "orange"')
    edit(tenants / "nmedia" / "tenant.toml", "[identity]\n", "[identity]\nunknown_flag = true\n")
    message = load_error(tenants, themes)
    assert "branding.accent_colour" in message and "identity.unknown_flag" in message


def test_cli_tenant_check_fails_with_the_message(folders):
    tenants, themes = folders
    toml = tenants / "aicom" / "tenant.toml"
    edit(toml, 'primary_colour = "#0a7d3b"', 'primary_colour = "#0a7d3"')
    env = {"MYPAGE_TENANTS_DIR": str(tenants), "MYPAGE_THEMES_DIR": str(themes)}
    result = CliRunner().invoke(main, ["tenant", "check"], env=env)
    assert result.exit_code != 0
    assert "tenant configuration is invalid" in result.output
    assert str(toml) in result.output and "branding.primary_colour" in result.output


def test_cli_tenant_check_passes_on_the_shipped_tenants(folders):
    tenants, _themes = folders
    result = CliRunner().invoke(main, ["tenant", "check"], env={"MYPAGE_TENANTS_DIR": str(tenants)})
    assert result.exit_code == 0, result.output
    for slug in ("aicom", "itscom", "nmedia"):
        assert f"ok  {slug}" in result.output
