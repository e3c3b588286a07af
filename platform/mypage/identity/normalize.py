"""Kind normalisation of Japanese input before it is checked or compared.

Full-width digits and letters become half-width, every kind of hyphen and long-dash becomes ``-``
(or disappears where only digits are meaningful), half-width katakana and hiragana become full-width
katakana where katakana is asked, and spaces of either width are unified.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff70\u2043\ufe63\ufe58"
_HYPHEN_RE = re.compile(f"[{re.escape(HYPHENS)}]")
_SPACES_RE = re.compile(r"[\s\u3000]+")


def ascii_text(value: str) -> str:
    """Full-width ASCII to half-width (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", value or "").strip()


def digits_only(value: str) -> str:
    """``０７４８－６２－１２３４`` → ``0748621234``; hyphens, spaces and brackets dropped."""
    text = ascii_text(value)
    text = _HYPHEN_RE.sub("", text)
    return re.sub(r"[\s()（）]", "", text)


def login_id(value: str, case_insensitive: bool) -> str:
    text = ascii_text(value)
    text = _HYPHEN_RE.sub("-", text)
    return text.lower() if case_insensitive else text


def email(value: str) -> str:
    text = ascii_text(value)
    local, sep, domain = text.rpartition("@")
    if not sep:
        return text
    return f"{local}@{domain.lower()}"


def katakana_name(value: str) -> str:
    """``ｱｲｺﾑ ﾀﾛｳ`` / ``あいこむ　たろう`` → ``アイコム　タロウ`` (full-width katakana, one full-width space)."""
    text = unicodedata.normalize("NFKC", value or "")  # half-width kana to full-width, spaces unified
    text = jaconv.hira2kata(text)
    text = text.replace("-", "ー").replace("\u2212", "ー").replace("\uff0d", "ー")
    return _SPACES_RE.sub("\u3000", text.strip())


def name(value: str) -> str:
    """A name as written (kanji, kana, letters): NFKC-width unified, one full-width space between parts."""
    text = unicodedata.normalize("NFKC", value or "")
    return _SPACES_RE.sub("\u3000", text.strip())


def name_key(value: str) -> str:
    """A comparison key for names: width, kana type and spaces ignored."""
    text = jaconv.hira2kata(unicodedata.normalize("NFKC", value or ""))
    return _SPACES_RE.sub("", text).lower()


def postal_code(value: str) -> str:
    return digits_only(value).replace("〒", "")


def upper_code(value: str) -> str:
    """Contract numbers, device IDs: half-width, hyphen-free, upper case."""
    return digits_only(value).upper()


def strip_leading_zeros(value: str) -> str:
    return value.lstrip("0") or "0"
