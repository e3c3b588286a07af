"""Rules of the contracts feature: plan tenure, referral codes, document contents."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import date

from mypage import i18n
from mypage.billing.service import tax_for
from mypage.contracts.repository import months_between
from mypage.i18n import gettext as _
from mypage.records.tables import Contract, Customer, Document


def tenure(since: date | None, today: date | None = None) -> str:
    """プラン継続年数 as 「1年2ヵ月」."""
    if since is None:
        return ""
    months = months_between(since, today or i18n.today())
    return _("{years}年{months}ヵ月").format(years=months // 12, months=months % 12)


@dataclass(frozen=True)
class MonthlyFee:
    """A contract's 月額: as stored (excluding tax) and with the tenant's consumption tax."""

    excluded: int
    included: int


def monthly_fees(contracts: list[Contract], tax_rate: int) -> dict[int, MonthlyFee]:
    """Each contract's 月額 by contract id, 税抜 and 税込 (tax per contract, truncated like an invoice's)."""
    return {c.id: MonthlyFee(c.monthly_fee, c.monthly_fee + tax_for(c.monthly_fee, tax_rate)) for c in contracts}


def referral_code(secret_key: str, tenant_slug: str, customer_id: int) -> str:
    """A personal code: stable for the customer, different per customer, not guessable without the key."""
    digest = hmac.new(secret_key.encode(), f"referral:{tenant_slug}:{customer_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode().rstrip("=")


REFERRAL_CODE = re.compile(r"^[A-Z2-7]{16}$")


def looks_like_referral_code(code: str) -> bool:
    return bool(REFERRAL_CODE.match(code))


def opening_notice_context(customer: Customer, contract: Contract, document: Document, phone_lines) -> dict:
    """What the 開通案内 prints: the stored document data, completed from the contract records."""
    data = document.data or {}
    if isinstance(data, str):  # Piccolo hands JSON columns back as text
        data = json.loads(data or "{}")
    data = data if isinstance(data, dict) else {}
    address = " ".join(part for part in (contract.address1, contract.address2, contract.building) if part) or " ".join(
        part for part in (customer.prefecture, customer.address1, customer.address2, customer.building) if part
    )
    return {
        "issued_on": document.issued_on,
        "title": document.title,
        "holder_name": data.get("holder_name") or contract.holder_name or customer.name,
        "address": data.get("address") or address,
        "postal_code": data.get("postal_code") or contract.postal_code or customer.postal_code,
        "customer_id": data.get("customer_id") or contract.number,
        "access_key": data.get("access_key") or contract.access_key,
        "phonetic": phonetic,
        "service_name": data.get("service_name") or contract.service_name,
        "plan_name": data.get("plan_name") or contract.plan_name,
        "started_on": contract.started_on,
        "status": contract.status,
        "phone_lines": phone_lines,
    }


_LETTERS = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [
            "エー",
            "ビー",
            "シー",
            "ディー",
            "イー",
            "エフ",
            "ジー",
            "エイチ",
            "アイ",
            "ジェー",
            "ケー",
            "エル",
            "エム",
            "エヌ",
            "オー",
            "ピー",
            "キュー",
            "アール",
            "エス",
            "ティー",
            "ユー",
            "ブイ",
            "ダブリュー",
            "エックス",
            "ワイ",
            "ゼット",
        ],
        strict=False,
    )
)
_DIGITS = dict(zip("0123456789", ["ゼロ", "イチ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハチ", "キュウ"], strict=False))


def phonetic(value: str) -> str:
    """How a code is read out, as printed on the 開通案内: ``aA12`` -> ``エー・エー・イチ・ニ``."""
    return "・".join(_LETTERS.get(c.upper()) or _DIGITS.get(c) or c for c in (value or "") if not c.isspace())
