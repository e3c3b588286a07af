"""Card input checks (number, expiry, holder, security code) and the brand from the number's IIN.

These run on the server before the number is handed to the payment gateway; the number itself is
never stored, logged or kept in the session (only the gateway's token, the brand, the last four
digits and the expiry are).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from mypage import i18n
from mypage.i18n import gettext as _

# (brand, IIN ranges as (low, high, prefix digits), allowed lengths)
BRANDS: list[tuple[str, list[tuple[int, int, int]], tuple[int, ...]]] = [
    ("American Express", [(34, 34, 2), (37, 37, 2)], (15,)),
    ("JCB", [(3528, 3589, 4)], (16, 17, 18, 19)),
    ("Diners Club", [(300, 305, 3), (3095, 3095, 4), (36, 36, 2), (38, 39, 2)], (14, 15, 16, 17, 18, 19)),
    ("Mastercard", [(51, 55, 2), (2221, 2720, 4)], (16,)),
    ("Discover", [(6011, 6011, 4), (644, 649, 3), (65, 65, 2)], (16, 17, 18, 19)),
    ("Visa", [(4, 4, 1)], (13, 16, 19)),
]

HOLDER = re.compile(r"^[A-Z][A-Z.'\-]*( [A-Z][A-Z.'\-]*)*$")


def brand_of(number: str) -> str | None:
    """The card brand from the leading digits (IIN), or ``None`` for unknown ranges."""
    for brand, ranges, _lengths in BRANDS:
        for low, high, digits in ranges:
            if len(number) >= digits and low <= int(number[:digits]) <= high:
                return brand
    return None


def lengths_of(brand: str) -> tuple[int, ...]:
    return next(lengths for name, _r, lengths in BRANDS if name == brand)


def luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _half_width(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def clean_number(value: str) -> str:
    """Full-width digits become half-width; spaces and hyphens between groups are dropped."""
    return re.sub(r"[\s\-]", "", _half_width(value))


@dataclass(frozen=True)
class CardInput:
    number: str
    exp_month: int
    exp_year: int
    holder: str
    cvc: str
    brand: str

    def __repr__(self) -> str:  # never print the number or the code
        return f"CardInput(brand={self.brand!r}, last4={self.number[-4:]!r}, exp={self.exp_month:02d}/{self.exp_year})"

    __str__ = __repr__


def parse_expiry(value: str) -> tuple[int, int] | None:
    """``MM/YY`` (also ``MMYY``, ``MM/YYYY``) to (month, four-digit year)."""
    text = _half_width(value).replace(" ", "")
    match = re.fullmatch(r"(\d{1,2})/?(\d{2}|\d{4})", text) if "/" in text else re.fullmatch(r"(\d{2})(\d{2})", text)
    if not match:
        return None
    month, year = int(match.group(1)), int(match.group(2))
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        return None
    return month, year


def validate_card(form: dict, today: date | None = None) -> tuple[CardInput | None, dict[str, str]]:
    """Checks the card form; returns the input (when valid) and messages per field."""
    today = today or i18n.today()
    errors: dict[str, str] = {}

    number = clean_number(form.get("card_number", ""))
    brand = None
    if not number:
        errors["card_number"] = _("カード番号を入力してください。")
    elif not number.isdigit():
        errors["card_number"] = _("カード番号は半角数字で入力してください。")
    else:
        brand = brand_of(number)
        if brand is None:
            errors["card_number"] = _(
                "ご利用いただけないカードです。Visa、Mastercard、JCB、American Express、Diners Clubのカードをご利用ください。"
            )
        elif len(number) not in lengths_of(brand) or not luhn_ok(number):
            errors["card_number"] = _("カード番号に誤りがあります。ご確認の上、再度入力してください。")

    expiry_text = form.get("expiry", "")
    expiry = parse_expiry(expiry_text)
    if not _half_width(expiry_text):
        errors["expiry"] = _("有効期限を入力してください。")
    elif expiry is None:
        errors["expiry"] = _("有効期限は「MM/YY」の形式（例: 08/29）で入力してください。")
    elif (expiry[1], expiry[0]) < (today.year, today.month):
        errors["expiry"] = _("有効期限が切れています。")
    elif expiry[1] > today.year + 20:
        errors["expiry"] = _("有効期限に誤りがあります。")

    holder = re.sub(r"\s+", " ", _half_width(form.get("holder", "")))
    if not holder:
        errors["holder"] = _("カード名義を入力してください。")
    elif not HOLDER.match(holder) or len(holder) > 45:
        errors["holder"] = _("カード名義は半角英大文字で、姓と名の間に空白を入れて入力してください（例: TARO YAMADA）。")

    cvc = _half_width(form.get("cvc", ""))
    if not cvc:
        errors["cvc"] = _("セキュリティコードを入力してください。")
    elif not re.fullmatch(r"\d{3,4}", cvc):
        errors["cvc"] = _("セキュリティコードは半角数字3桁または4桁で入力してください。")
    elif brand == "American Express" and len(cvc) != 4:
        errors["cvc"] = _("American Expressのセキュリティコードはカード表面の4桁です。")

    if errors:
        return None, errors
    assert brand is not None and expiry is not None
    return CardInput(number=number, exp_month=expiry[0], exp_year=expiry[1], holder=holder, cvc=cvc, brand=brand), {}
