"""Catalogs, locale negotiation, and yen and date formatting with Babel."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from mypage import i18n

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "locales"


@pytest.fixture
def locale():
    """Sets the current locale for a test and restores it afterwards."""
    tokens = []

    def use(lang: str) -> None:
        tokens.append(i18n.set_locale(lang))

    yield use
    for token in reversed(tokens):
        i18n._current_locale.reset(token)


def test_yen_in_japanese_and_english():
    assert i18n.yen(12345, "ja") == "12,345円"
    assert i18n.yen(0, "ja") == "0円"
    assert i18n.yen(-500, "ja") == "-500円"
    assert i18n.yen(Decimal("1234567"), "ja") == "1,234,567円"
    assert i18n.yen(12345, "en") == "¥12,345"
    assert i18n.number(1234567, "en") == "1,234,567"


def test_yen_follows_the_current_locale(locale):
    locale("ja")
    assert i18n.yen(12345) == "12,345円"
    locale("en")
    assert i18n.yen(12345) == "¥12,345"


def test_months_and_dates():
    assert i18n.month("2023-10", "ja") == "2023年10月"
    assert i18n.month(date(2024, 1, 31), "ja") == "2024年1月"
    assert i18n.month("2023-10", "en") == "Oct 2023"
    assert i18n.long_date(date(2023, 10, 5), "ja") == "2023年10月5日"
    assert i18n.long_date(datetime(2023, 10, 5, 9, 0), "en") == "October 5, 2023"
    assert i18n.short_date(date(2023, 12, 7)) == "2023/12/07"
    assert i18n.long_date(None) == "" and i18n.short_date(None) == "" and i18n.date_time(None) == ""
    assert i18n.date_time(datetime(2023, 10, 5, 14, 3), "ja") == "2023/10/05 14:03:00"
    assert "2:03" in i18n.date_time(datetime(2023, 10, 5, 14, 3), "en")


def test_template_filters_format_by_locale(portal, locale):
    tenant = portal.tenants.get("aicom")
    env = portal.templates_for(tenant).env
    template = env.from_string("{{ 12345|yen }} {{ '2023-10'|month }}")
    locale("ja")
    assert template.render() == "12,345円 2023年10月"
    locale("en")
    assert template.render() == "¥12,345 Oct 2023"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "ja"),
        ("en-US,en;q=0.9", "en"),
        ("ja,en;q=0.5", "ja"),
        ("fr-FR,en;q=0.8,ja;q=0.9", "ja"),
        ("fr-FR,de;q=0.5", "ja"),
        ("en;q=bogus,ja;q=0.1", "ja"),
        ("EN", "en"),
    ],
)
def test_accept_language_negotiation(header, expected):
    assert i18n.negotiate(header, ["ja", "en"], "ja") == expected


def test_negotiation_offers_only_the_tenants_locales():
    assert i18n.negotiate("en-US", ["ja"], "ja") == "ja"
    assert i18n.negotiate("", ["ja", "en"], "en") == "en"


def _catalog(lang: str):
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


def test_catalogs_exist_and_parse():
    ja, en = _catalog("ja"), _catalog("en")
    assert len(ja) > 20 and len(en) > 20
    # Japanese is the source language: its catalog translates nothing.
    assert all(not m.string for m in ja if m.id)


PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)s")


def test_english_keeps_the_placeholders_of_its_source():
    for message in _catalog("en"):
        if message.id and message.string and isinstance(message.id, str):
            assert sorted(set(PLACEHOLDER.findall(message.id))) == sorted(set(PLACEHOLDER.findall(message.string))), message.id


def test_catalogs_translate_by_current_locale(locale):
    catalogs = i18n.Catalogs(LOCALES)
    i18n.install_catalogs(catalogs)
    locale("en")
    assert i18n.gettext("ログイン") == "Log in"
    assert i18n.gettext("まだ翻訳のない文") == "まだ翻訳のない文"
    locale("ja")
    assert i18n.gettext("ログイン") == "ログイン"


def test_missing_catalog_falls_back_to_the_source(tmp_path, locale):
    catalogs = i18n.Catalogs(tmp_path)
    assert catalogs.get("en").gettext("ログイン") == "ログイン"
    i18n.install_catalogs(i18n.Catalogs(LOCALES))


def test_n_marks_without_translating(locale):
    locale("en")
    assert i18n.N_("ログイン") == "ログイン"


def test_unknown_locale_is_japanese(locale):
    locale("fr")
    assert i18n.current_locale() == "ja"


# --- The English catalog is complete, and English pages show English -------------------------------

ANY_PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([^)]*\)[sd]|%%")
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")


def test_english_catalog_has_no_untranslated_or_fuzzy_messages():
    catalog = _catalog("en")
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"


def test_every_english_translation_keeps_the_placeholders_of_its_source():
    for message in _catalog("en"):
        if message.id:
            assert set(ANY_PLACEHOLDER.findall(message.id)) == set(ANY_PLACEHOLDER.findall(message.string)), message.id


def test_english_translations_are_english():
    for message in _catalog("en"):
        if message.id:
            assert not JAPANESE.search(message.string), message.id


def test_labels_kept_in_python_tables_are_extracted_and_translated(locale):
    from mypage.identity import policy, verification

    i18n.install_catalogs(i18n.Catalogs(LOCALES))
    catalog = _catalog("en")
    for label in [*verification.LABELS.values(), *policy.CLASS_NAMES.values()]:
        assert catalog.get(label) is not None and catalog.get(label).string, label
    locale("en")
    assert i18n.gettext(verification.LABELS["customer_number"]) == "Customer number"
    rules = policy.PasswordPolicy(
        min_length=4, max_length=8, allowed="a-z0-9", min_classes=2, classes=["lower", "digit"], rule_text={"ja": "半角英数字"}
    )
    errors = policy.check_password("abcd", rules)
    assert "Use at least 2 of: lower-case letters, digits." in errors
    locale("ja")
    errors = policy.check_password("abcd", rules)
    assert "英小文字・数字のうち2種類以上を使用してください。" in errors


def _visible_text(html: str, tag: str = "main") -> str:
    """The text inside the page's ``<tag>`` without tags, scripts and styles."""
    from html import unescape

    match = re.search(rf"<{tag}\b[^>]*>(.*)</{tag}>", html, re.S)
    body = match.group(1) if match else html
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


def _japanese_left(text: str, allowed: list[str]) -> list[str]:
    for phrase in allowed:
        text = text.replace(phrase, " ")
    return [line.strip() for line in text.splitlines() if JAPANESE.search(line)]


def _tenant_phrases(portal, slug: str) -> list[str]:
    """What may stay Japanese: the language switch's 日本語 and the katakana example of a name field."""
    return ["日本語", "アイコム タロウ"]


@pytest.mark.parametrize("slug", ["aicom", "itscom", "nmedia"])
def test_login_page_in_english(client_for, portal, slug):
    client = client_for(slug)
    response = client.get("/login?lang=en")
    assert response.status_code == 200
    assert 'lang="en"' in response.text
    assert _japanese_left(_visible_text(response.text, "body"), _tenant_phrases(portal, slug)) == []
    # The choice is remembered: the next page without ?lang is English too.
    assert "Log in" in client.get("/login").text or "Send" in client.get("/login").text


def test_aicom_registration_first_screen_in_english(client_for, portal):
    client = client_for("aicom")
    response = client.get("/register?lang=en", follow_redirects=True)
    assert response.status_code == 200
    text = _visible_text(response.text, "body")
    assert "Customer number" in text and "Phone number" in text
    assert _japanese_left(text, _tenant_phrases(portal, "aicom")) == []


def test_nmedia_inquiry_form_in_english(client_for, portal):
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    from feature_support import make_account, make_customer, sign_in

    customer = make_customer("nmedia", "0000001")
    account = make_account("nmedia", customer, "owner@example.com", email="owner@example.com")
    client = sign_in(client_for("nmedia"), "nmedia", account)
    response = client.get("/inquiries?lang=en")
    assert response.status_code == 200
    text = _visible_text(response.text, "body")
    assert "Inquiries" in text and "Subject" in text
    # the header greets the contract holder by the name on record: data, not wording
    assert "日本\u3000太郎" in text
    assert _japanese_left(text, [*_tenant_phrases(portal, "nmedia"), "日本\u3000太郎"]) == []


def test_padded_date_as_operators_print_document_dates():
    from datetime import date

    from mypage import i18n

    assert i18n.padded_date(date(2023, 12, 1), "ja") == "2023年12月01日"
    assert i18n.padded_date(date(2023, 12, 1), "en") == "Dec 1, 2023"
    assert i18n.padded_date(None, "ja") == ""


def test_dates_follow_the_tenant_time_zone_not_the_server_clock():
    from datetime import datetime

    from mypage import i18n

    evening_utc = datetime(2026, 11, 22, 20, 30, tzinfo=UTC)  # 05:30 on the 23rd in Tokyo
    token = i18n.set_zone("Asia/Tokyo")
    try:
        assert i18n.long_date(evening_utc, "ja") == "2026年11月23日"
        assert i18n.short_date(evening_utc, "ja") == "2026/11/23"
        i18n.set_zone("UTC")
        assert i18n.long_date(evening_utc, "ja") == "2026年11月22日"
    finally:
        i18n._current_zone.reset(token)
    assert i18n.today("Asia/Tokyo") == datetime.now(UTC).astimezone(i18n.ZoneInfo("Asia/Tokyo")).date()


def test_unknown_time_zone_is_refused_in_tenant_config(tmp_path):
    import shutil

    import pytest

    from mypage.settings import PROJECT_ROOT
    from mypage.tenancy.registry import TenantConfigError, load_tenant

    folder = tmp_path / "aicom"
    shutil.copytree(PROJECT_ROOT / "tenants" / "aicom", folder)
    toml = folder / "tenant.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('default_locale = "ja"', 'default_locale = "ja"\ntimezone = "Mars/Olympus"'),
        encoding="utf-8",
    )
    with pytest.raises(TenantConfigError) as error:
        load_tenant(folder)
    assert "timezone" in str(error.value) and "Mars/Olympus" in str(error.value)
