"""The platform code never names an operator: variation lives in tenants/ and themes/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "platform"
NAMES = ["aicom", "itscom", "nmedia", "n-media", "あいコム", "イッツコム", "日本メディア"]
PATTERN = re.compile("|".join(re.escape(n) for n in NAMES), re.IGNORECASE)
SKIP_SUFFIXES = {".po", ".pot", ".mo", ".pyc"}


def platform_files():
    for path in sorted(PLATFORM.rglob("*")):
        if (
            path.is_file()
            and path.suffix not in SKIP_SUFFIXES
            and "__pycache__" not in path.parts
            and ".egg-info" not in str(path)
        ):
            yield path


def test_no_operator_names_in_platform():
    hits = []
    for path in platform_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if PATTERN.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not hits, "operator names in platform/ (move them to tenant.toml, tenant templates or themes):\n" + "\n".join(hits)


def test_the_check_would_catch_a_name():
    assert PATTERN.search("if tenant.slug == 'ITSCOM':")
    assert PATTERN.search("イッツコムのお客様")
    assert not PATTERN.search("tenant.config.names.ja")


GENERIC_TERMS = {
    "ご請求明細",  # the common name of an invoice's statement (a PDF heading), which one tenant also titles a page
    "機器情報",  # the neutral label of a device ID, which one tenant also sets as its own
    "お客さま番号",  # a spelling of the customer-number column accepted by the importer
}
"""Everyday Japanese that a tenant happens to use verbatim too: not operator identity."""


def _tenant_phrases() -> dict[str, str]:
    """Every tenant's own wording: login-ID labels and [texts] values (Japanese: English single words such as
    "Device" are also code identifiers). Menu labels are
    left out: they name features (ご利用料金, お問い合わせ) as the pages themselves do."""
    from mypage.tenancy.registry import TenantRegistry

    phrases: dict[str, str] = {}
    for tenant in TenantRegistry.load(ROOT / "tenants", ROOT / "themes"):
        config = tenant.config
        found = [("identity.login_id.label", config.identity.login_id.label)]
        found += [(f"texts.{key}", value) for key, value in config.texts.items()]
        for where, phrase in found:
            if len(phrase.ja) >= 4 and phrase.ja not in GENERIC_TERMS:
                phrases.setdefault(phrase.ja, f"{tenant.slug}: {where}")
    return phrases


def test_no_tenant_wording_in_platform_or_base_theme():
    """Operator wording comes from tenant texts; the platform and the base theme hold neutral defaults only."""
    phrases = _tenant_phrases()
    roots = [PLATFORM, ROOT / "themes" / "base"]
    hits = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix in SKIP_SUFFIXES or "__pycache__" in path.parts:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            for phrase, owner in phrases.items():
                if phrase in text:
                    hits.append(f"{path.relative_to(ROOT)}: 「{phrase}」 ({owner})")
    assert not hits, "tenant wording in platform/ or themes/base/ (use the tenant's texts or a neutral default):\n" + "\n".join(
        hits
    )


def test_the_wording_check_knows_the_tenants_words():
    phrases = _tenant_phrases()
    assert "アクセスID" in phrases and "新規作成の方はこちら" in phrases
