"""Login ID and password rules at their boundaries (the chosen-ID tenant's policy), and input normalisation."""

from __future__ import annotations

from pathlib import Path

import pytest

from mypage.identity import normalize
from mypage.identity.policy import check_email, check_login_id, check_password
from mypage.identity.totp import clean_code, matching_step, new_recovery_codes
from mypage.identity.verification import clean
from mypage.tenancy.registry import load_tenant

ROOT = Path(__file__).resolve().parents[2]
TENANT = load_tenant(ROOT / "tenants" / "aicom", ROOT / "themes")
IDENTITY = TENANT.config.identity
LOGIN_ID = IDENTITY.login_id
PASSWORD = IDENTITY.password
RULES = IDENTITY.registration


def test_the_tenant_is_the_chosen_id_policy_of_the_seed():
    assert (LOGIN_ID.kind, LOGIN_ID.min_length, LOGIN_ID.max_length, LOGIN_ID.case_insensitive) == ("chosen", 5, 30, True)
    assert (PASSWORD.min_length, PASSWORD.max_length, PASSWORD.min_classes) == (8, 16, 2)
    assert RULES.review and RULES.verify_fields == ["customer_number", "phone", "name_kana"]


# ---------------------------------------------------------------- アカウントID: 半角英数記号で5~30文字


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("abcd", False),  # 4
        ("abcde", True),  # 5
        ("a" * 30, True),  # 30
        ("a" * 31, False),  # 31
        ("!#$%&", True),  # 5 symbols
        ("a" * 29 + "~", True),  # 30 with a symbol
        ("~" * 31, False),  # 31 symbols
        ("Ab-._@x", True),
        ("ABCDE", True),
        ("abc de", False),  # space
        ("abcdé", False),  # non-ASCII
        ("あいうえお", False),  # full-width
        ("", False),
    ],
)
def test_login_id_rules(value, ok):
    errors = check_login_id(value, LOGIN_ID)
    assert (errors == []) is ok, (value, errors)


def test_login_id_messages_name_the_rule():
    assert check_login_id("abcd", LOGIN_ID) == ["5～30文字で入力してください。"]
    assert check_login_id("abc de", LOGIN_ID) == ["使用できない文字が含まれています: 「スペース」"]
    assert check_login_id("abc\u3000de", LOGIN_ID) == ["使用できない文字が含まれています: 「全角スペース」"]
    assert "使用できない文字が含まれています: 「あ」「い」「う」「え」「お」" in check_login_id("あいうえお", LOGIN_ID)
    assert check_login_id("", LOGIN_ID) == ["入力してください。"]


def test_every_printable_ascii_symbol_is_allowed_in_login_ids():
    symbols = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    for symbol in symbols:
        assert check_login_id(f"user{symbol}", LOGIN_ID) == [], symbol


def test_login_ids_compare_case_insensitively_and_width_insensitively():
    assert normalize.login_id("Taro.Aicom", True) == "taro.aicom"
    assert normalize.login_id("ＴＡＲＯ－ａｉｃｏｍ", True) == "taro-aicom"
    assert normalize.login_id("Taro", False) == "Taro"


# ---------------------------------------------------------------- パスワード: 8~16文字, 大文字・小文字・数字の2種類以上


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("Abcdef1", False),  # 7
        ("Abcdefg1", True),  # 8
        ("Abcdefghijklmn12", True),  # 16
        ("Abcdefghijklmno12", False),  # 17
        ("abcdefgh", False),  # lower only
        ("ABCDEFGH", False),  # upper only
        ("12345678", False),  # digits only
        ("abcdefg1", True),  # lower + digit
        ("ABCDEFG1", True),  # upper + digit
        ("ABCDefgh", True),  # upper + lower
        ("Abcdefg!", False),  # symbols are not allowed
        ("Abcd efg1", False),  # space
        ("Ａbcdefg1", False),  # full-width letter
        ("", False),
    ],
)
def test_password_rules(value, ok):
    errors = check_password(value, PASSWORD)
    assert (errors == []) is ok, (value, errors)


def test_password_messages():
    assert check_password("Abcdef1", PASSWORD) == ["8～16文字で入力してください。"]
    assert check_password("abcdefgh", PASSWORD) == ["英大文字・英小文字・数字のうち2種類以上を使用してください。"]
    assert check_password("Abcdefg!", PASSWORD) == ["使用できない文字が含まれています: 「!」"]


def test_refused_characters_in_input_order_each_once_and_visible():
    errors = check_password("ｚＡ b　ｚＡ1", PASSWORD)
    assert errors[0] == "使用できない文字が含まれています: 「ｚ」「Ａ」「スペース」「全角スペース」"
    assert check_password("Abc\tdefg1", PASSWORD) == ["使用できない文字が含まれています: 「タブ」"]
    assert check_password("Abc\u200bdefg1", PASSWORD) == ["使用できない文字が含まれています: 「U+200B」"]


def test_email_check_accepts_carrier_addresses():
    assert check_email("foo.@docomo.ne.jp") == []
    assert check_email("a..b@ezweb.ne.jp") == []
    assert check_email("no-at-sign") != []
    assert check_email("x@" + "a" * 250 + ".jp") != []


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize("hyphen", list(normalize.HYPHENS))
def test_every_hyphen_kind_is_dropped_from_phone_numbers(hyphen):
    assert normalize.digits_only(f"0748{hyphen}62{hyphen}1234") == "0748621234"


def test_full_width_digits_spaces_and_brackets():
    assert normalize.digits_only("０７４８－６２－１２３４") == "0748621234"
    assert normalize.digits_only(" 0748 (62) 1234 ") == "0748621234"
    assert normalize.digits_only("０７４８（６２）１２３４") == "0748621234"


@pytest.mark.parametrize(
    "typed",
    [
        "アイコム　タロウ",
        "アイコム タロウ",
        "ｱｲｺﾑ ﾀﾛｳ",
        "ｱｲｺﾑ　ﾀﾛｳ",
        "あいこむ　たろう",
        "あいこむ たろう",
        "  アイコム   タロウ  ",
        "アイコム\tタロウ",
    ],
)
def test_kana_names_become_full_width_katakana_with_one_full_width_space(typed):
    assert normalize.katakana_name(typed) == "アイコム\u3000タロウ"


def test_voiced_half_width_kana_and_long_vowel():
    assert normalize.katakana_name("ｶﾞｽ ｼﾞｭｰ") == "ガス\u3000ジュー"
    assert normalize.katakana_name("ぱぴぷ ぺぽ") == "パピプ\u3000ペポ"


def test_email_normalisation():
    assert normalize.email("ｔａｒｏ@ＥＸＡＭＰＬＥ.jp") == "taro@example.jp"
    assert normalize.email(" Taro@Example.JP ") == "Taro@example.jp"


# ---------------------------------------------------------------- verification.clean()


@pytest.mark.parametrize("typed", ["1234567", "0001234567", "１２３４５６７", "000１２３４５６７"])
def test_clean_customer_number(typed):
    answer = clean("customer_number", typed, RULES)
    assert answer.error is None and answer.value.lstrip("0") == "1234567"


def test_clean_customer_number_rejects_letters():
    assert clean("customer_number", "12A4", RULES).error == "半角数字で入力してください。"
    assert clean("customer_number", "", RULES).error == "入力してください。"


@pytest.mark.parametrize(
    "typed", ["0748621234", "0748-62-1234", "０７４８－６２－１２３４", "0748ー62ー1234", "0748−62−1234", "090-1234-5678"]
)
def test_clean_phone(typed):
    answer = clean("phone", typed, RULES)
    assert answer.error is None and answer.value.isdigit()


@pytest.mark.parametrize("typed", ["074862123", "074862123456", "0748-62-12ab"])
def test_clean_phone_rejects(typed):
    assert clean("phone", typed, RULES).error == "電話番号は10桁または11桁の数字で入力してください。"


@pytest.mark.parametrize("typed", ["ｱｲｺﾑ ﾀﾛｳ", "あいこむ　たろう", "アイコム タロウ"])
def test_clean_name_kana(typed):
    answer = clean("name_kana", typed, RULES)
    assert answer.error is None and answer.value == "アイコム\u3000タロウ"


@pytest.mark.parametrize("typed", ["Aicom Taro", "藍込 太郎", "アイコム1"])
def test_clean_name_kana_rejects(typed):
    assert clean("name_kana", typed, RULES).error == "全角カナで入力してください。"


# ---------------------------------------------------------------- TOTP helpers


def test_recovery_codes_and_code_cleaning():
    codes = new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 11 and c[5] == "-" for c in codes)
    assert clean_code("ＡＢＣＤＥ－ｆｇｈｊｋ") == "abcdefghjk"
    assert clean_code(" 123 456 ") == "123456"


def test_totp_allows_one_step_of_drift_only():
    import pyotp

    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    now = 1_700_000_000
    assert matching_step(secret, totp.at(now), now) == now // 30
    assert matching_step(secret, totp.at(now - 30), now) == now // 30 - 1
    assert matching_step(secret, totp.at(now + 30), now) == now // 30 + 1
    assert matching_step(secret, totp.at(now - 90), now) is None
    assert matching_step(secret, "abcdef", now) is None
