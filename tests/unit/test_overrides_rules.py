"""Override documents merged onto tenant.toml: the same schema's problems per key, the WCAG contrast check,
features switched only within what the folder allows."""

from __future__ import annotations

from pathlib import Path

import pytest

from mypage.overrides.contrast import contrast_problems, ratio
from mypage.overrides.service import check, merge
from mypage.tenancy.registry import TenantRegistry

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = TenantRegistry.load(ROOT / "tenants", ROOT / "themes")


def problems(slug: str, document: dict) -> dict[str, str]:
    return dict(check(REGISTRY.get(slug), document, themes={"base", "aicom", "itscom", "nmedia"}).problems)


@pytest.mark.parametrize("slug", REGISTRY.slugs)
def test_shipped_brand_colours_pass_wcag_aa(slug):
    assert contrast_problems(REGISTRY.get(slug).config.branding) == []


def test_the_former_aicom_and_nmedia_accents_fail_as_focus_rings():
    assert round(ratio("#f29b00", "#f6f8fa"), 2) == 2.08
    assert round(ratio("#00a0e9", "#f6f8fa"), 2) == 2.74
    found = problems("aicom", {"branding": {"accent_colour": "#f29b00"}})
    assert found == {
        "branding.accent_colour": "フォーカス枠: #f29b00 と #f6f8fa のコントラスト比は 2.08:1 です(WCAG AA では 3:1 以上が必要です)"
    }


def test_header_text_and_link_contrast_are_checked():
    found = problems("itscom", {"branding": {"primary_colour": "#ff8080", "header_text_colour": "#ffffff"}})
    assert "ヘッダー・ボタンの文字: #ffffff と #ff8080" in found["branding.header_text_colour"]
    assert "4.5:1 以上が必要です" in found["branding.header_text_colour"]
    assert "リンク・ボタンの文字: #ff8080 と #f6f8fa" in found["branding.primary_colour"]


def test_schema_problems_name_the_key():
    found = problems("aicom", {"branding": {"primary_colour": "green"}, "contact": {"colour": "x"}, "slug": "other"})
    assert "String should match pattern" in found["branding.primary_colour"]
    assert "Extra inputs are not permitted" in found["contact.colour"]
    assert "cannot be changed in the console" in found["slug"]


def test_unknown_text_key_and_theme_are_refused():
    found = problems("aicom", {"texts": {"login.titel": {"ja": "ログイン"}}, "theme": "nope"})
    assert "unknown text key" in found['texts."login.titel"']
    assert "unknown theme 'nope'" in found["theme"]


def test_a_valid_document_merges_onto_the_file():
    aicom = REGISTRY.get("aicom")
    checked = check(aicom, {"branding": {"primary_colour": "#145a32"}, "contact": {"phone": "0748-00-1111"}})
    assert checked.ok and checked.config is not None
    assert checked.config.branding.primary_colour == "#145a32"
    assert checked.config.branding.accent_colour == aicom.config.branding.accent_colour  # untouched keys stay
    assert checked.config.contact.phone == "0748-00-1111" and checked.config.contact.email == aicom.config.contact.email


def test_texts_are_merged_entry_by_entry_and_null_drops_one():
    itscom = REGISTRY.get("itscom")
    key = next(iter(itscom.config.texts))
    merged, found = merge(itscom.source, {"texts": {key: None}})
    assert not found and key not in merged["texts"] and len(merged["texts"]) == len(itscom.config.texts) - 1


def test_features_switch_off_and_back_on_only_where_the_folder_allows():
    aicom = REGISTRY.get("aicom")
    assert aicom.config.features.enabled("billing")
    off = check(aicom, {"features": {"billing": False}})
    assert off.ok and off.config is not None and not off.config.features.enabled("billing")
    # The file's menu items that need the feature go with it (else the schema would refuse the menu).
    hrefs = [item.href for group in off.config.menu for item in group.items]
    assert not any(href.startswith("/billing") for href in hrefs)
    missing = next(name for name in ("mailboxes", "security_addon", "members") if not aicom.config.features.enabled(name))
    found = problems("aicom", {"features": {missing: True}})
    assert found == {f"features.{missing}": "the platform has not made this feature available to this tenant"}
