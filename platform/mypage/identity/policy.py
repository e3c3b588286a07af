"""Checks login IDs and passwords against the tenant's policy; each violation names the rule broken."""

from __future__ import annotations

import re
import unicodedata

from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.tenancy.config import LoginIdPolicy, PasswordPolicy

CLASS_PATTERNS = {
    "upper": re.compile(r"[A-Z]"),
    "lower": re.compile(r"[a-z]"),
    "digit": re.compile(r"[0-9]"),
    "symbol": re.compile(r"[^A-Za-z0-9]"),
}
CLASS_NAMES = {"upper": N_("英大文字"), "lower": N_("英小文字"), "digit": N_("数字"), "symbol": N_("記号")}
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-/=^!#$&'*?`{|}~]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _length_error(value: str, low: int, high: int) -> str | None:
    if not low <= len(value) <= high:
        return _("{low}～{high}文字で入力してください。").format(low=low, high=high)
    return None


CHAR_NAMES = {" ": N_("スペース"), "\u3000": N_("全角スペース"), "\t": N_("タブ")}


def visible_char(char: str) -> str:
    """A refused character as the customer can see it: spaces and other invisible characters by name or code point."""
    if char in CHAR_NAMES:
        return _(CHAR_NAMES[char])
    if unicodedata.category(char)[0] in "ZC":
        return f"U+{ord(char):04X}"
    return char


def refused_chars_error(bad: str) -> str | None:
    """「使用できない文字が含まれています」 naming each refused character once, in the order it appears in the input."""
    chars = list(dict.fromkeys(bad))
    if not chars:
        return None
    return _("使用できない文字が含まれています: {chars}").format(chars="".join(f"「{visible_char(c)}」" for c in chars))


def _charset_error(value: str, allowed: str) -> str | None:
    return refused_chars_error(re.sub(f"[{allowed}]", "", value))


def check_login_id(value: str, policy: LoginIdPolicy) -> list[str]:
    if not value:
        return [_("入力してください。")]
    errors = [e for e in (_length_error(value, policy.min_length, policy.max_length), _charset_error(value, policy.allowed)) if e]
    if policy.kind == "email" and not errors and not EMAIL_RE.match(value):
        errors.append(_("メールアドレスの形式で入力してください。"))
    return errors


def check_password(value: str, policy: PasswordPolicy) -> list[str]:
    if not value:
        return [_("入力してください。")]
    errors = [e for e in (_length_error(value, policy.min_length, policy.max_length), _charset_error(value, policy.allowed)) if e]
    present = {name for name, pattern in CLASS_PATTERNS.items() if pattern.search(value)}
    if policy.min_classes and len(present & set(policy.classes)) < policy.min_classes:
        kinds = _("・").join(_(CLASS_NAMES[c]) for c in policy.classes)
        errors.append(_("{kinds}のうち{n}種類以上を使用してください。").format(kinds=kinds, n=policy.min_classes))
    missing = [c for c in policy.required_classes if c not in present]
    if missing:
        kinds = _("・").join(_(CLASS_NAMES[c]) for c in policy.required_classes)
        errors.append(_("{kinds}をそれぞれ1文字以上含めてください。").format(kinds=kinds))
    return errors


def check_email(value: str) -> list[str]:
    if not value:
        return [_("入力してください。")]
    if len(value) > 254 or not EMAIL_RE.match(value):
        return [_("メールアドレスの形式で入力してください。")]
    return []
