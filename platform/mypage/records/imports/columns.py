"""What a CSV file of each kind may hold: its columns (name, Japanese header, aliases, required) and how
each cell is parsed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mypage.records import csvparse as p
from mypage.records.csvparse import FieldError


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    """The Japanese header accepted as an alias (and used in docs/import.md)."""
    required: bool
    parse: Callable[[str], Any]
    empty: Any = ""
    """The value of an empty cell (required columns may not be empty)."""
    aliases: tuple[str, ...] = ()


PAYMENT_METHODS = {
    "bank": "bank",
    "口座振替": "bank",
    "口座": "bank",
    "card": "card",
    "クレジットカード": "card",
    "カード": "card",
    "invoice": "invoice",
    "請求書": "invoice",
    "払込票": "invoice",
    "コンビニ払込票": "invoice",
}
SERVICES = {
    "internet": "internet",
    "インターネット": "internet",
    "net": "internet",
    "tv": "tv",
    "テレビ": "tv",
    "phone": "phone",
    "電話": "phone",
    "cloud": "cloud",
    "クラウド": "cloud",
}
CATEGORIES = {"main": "main", "主契約": "main", "other": "other", "その他": "other"}
TAX_RATES = {"10": 10, "10%": 10, "8": 8, "8%": 8, "0": 0, "0%": 0, "非課税": 0, "対象外": 0}


def _services(value: str) -> str:
    import re
    import unicodedata

    parts = [s for s in re.split(r"[,;|・、\s]+", unicodedata.normalize("NFKC", value)) if s]
    kinds = [p.choice(part, SERVICES) for part in parts]
    return ",".join(dict.fromkeys(kinds))


def _devices(value: str) -> list[tuple[str, str]]:
    """``STB:STB0000001;Hit pot:HP0001`` → [("STB", "STB0000001"), ("Hit pot", "HP0001")]."""
    devices = []
    for part in p.split_list(value):
        kind, sep, device_id = part.rpartition(":")
        if not sep:
            kind, device_id = "STB", part
        devices.append((p.text(kind, 30) or "STB", p.code(device_id, 40)))
    return devices


def _options(value: str) -> list[str]:
    items = [p.text(item, 200) for item in p.split_list(value)]
    if len(items) > 20:
        raise FieldError("オプションは20件までです。")
    return items


def _phones(value: str) -> list[str]:
    return [p.phone(item) for item in p.split_list(value)]


def _tax_rate(value: str) -> int:
    return int(p.choice(value.replace(" ", ""), {k: str(v) for k, v in TAX_RATES.items()}))


def _t(length: int) -> Callable[[str], str]:
    return lambda value: p.text(value, length)


def _code(length: int) -> Callable[[str], str]:
    return lambda value: p.code(value, length)


def _nonnegative(value: str) -> int:
    return p.integer(value, 0, p.MAX_INT)


ADDRESS = [
    Column("postal_code", "郵便番号", False, p.postal_code),
    Column("prefecture", "都道府県", False, _t(10)),
    Column("address1", "住所1", False, _t(200), aliases=("住所①", "住所")),
    Column("address2", "住所2", False, _t(200), aliases=("住所②",)),
    Column("building", "建物名", False, _t(200)),
]

SPECS: dict[str, list[Column]] = {
    "customers": [
        Column("customer_number", "お客様番号", True, _code(20), aliases=("お客さま番号",)),
        Column("name", "お客様名", True, lambda v: p.name(v, 120), aliases=("氏名", "契約者名")),
        Column("name_kana", "お客様名カナ", False, p.kana, aliases=("フリガナ", "カナ", "氏名カナ")),
        Column("phone", "電話番号", False, p.phone),
        *ADDRESS,
        Column("email", "メールアドレス", False, p.email),
        Column("bank_name", "金融機関名", False, _t(60)),
        Column("bank_last4", "口座番号下4桁", False, p.last4),
        Column("card_last4", "カード番号下4桁", False, p.last4),
        Column("payment_method", "お支払い方法", False, lambda v: p.choice(v, PAYMENT_METHODS), empty="bank"),
        Column("plan_name", "ご契約プラン", False, _t(300)),
        Column("renewal_window", "更新月", False, _t(60)),
        Column("customer_since", "ご利用開始日", False, p.a_date, empty=None),
        Column("services", "サービス", False, _services),
        Column("devices", "機器", False, _devices, empty=[]),
    ],
    "contracts": [
        Column("contract_number", "契約番号", True, _code(20)),
        Column("customer_number", "お客様番号", True, _code(20), aliases=("お客さま番号",)),
        Column("billing_group", "請求グループ", False, _code(30), empty=None),
        Column("billing_group_name", "請求グループ名", False, _t(120)),
        Column("category", "契約区分", False, lambda v: p.choice(v, CATEGORIES), empty="main"),
        Column("service", "サービス種別", False, lambda v: p.choice(v, SERVICES), empty="internet"),
        Column("service_name", "サービス名", False, _t(200)),
        Column("plan_name", "プラン名", False, _t(200)),
        Column("status", "契約ステータス", False, _t(40)),
        Column("started_on", "開始日", False, p.a_date, empty=None),
        Column("ended_on", "終了日", False, p.a_date, empty=None),
        Column("access_key", "アクセスキー", False, lambda v: p.key(v, 40)),
        Column("holder_name", "契約者名", False, lambda v: p.name(v, 120), aliases=("顧客名",)),
        Column("holder_kana", "契約者名カナ", False, p.kana, aliases=("顧客カナ",)),
        *ADDRESS,
        Column("monthly_fee", "月額料金", False, _nonnegative, empty=0),
        Column("call_details_from", "通話明細開始月", False, p.month, empty=None),
        Column("options", "オプション", False, _options, empty=[]),
        Column("phone_numbers", "契約電話番号", False, _phones, empty=[]),
        Column("phone_service_name", "電話サービス名", False, _t(200)),
        Column("phone_detail", "電話詳細", False, _t(500), aliases=("ひかり電話詳細",)),
    ],
    "invoices": [
        Column("invoice_number", "ご請求番号", True, _code(30), aliases=("請求番号",)),
        Column("customer_number", "お客様番号", True, _code(20), aliases=("お客さま番号",)),
        Column("month", "請求年月", True, p.month, aliases=("ご請求年月",)),
        Column("issued_on", "発行日", True, p.a_date),
        Column("due_on", "振替日", False, p.a_date, empty=None, aliases=("お支払期限",)),
        Column("payment_method", "お支払い方法", False, lambda v: p.choice(v, PAYMENT_METHODS), empty="bank"),
        Column("billing_group", "請求グループ", False, _code(30), empty=None),
        Column("contract_number", "契約番号", False, _code(20), empty=None),
        Column("description", "料金内訳", True, _t(200), aliases=("内訳", "品目")),
        Column("amount", "金額", True, p.integer, aliases=("金額(円)", "金額(税抜)")),
        Column("tax_rate", "税率", False, _tax_rate, empty=10),
        Column("note", "備考", False, _t(200)),
    ],
    "calls": [
        Column("contract_number", "契約番号", True, _code(20)),
        Column("started_at", "日時", True, p.a_datetime, aliases=("通話開始日時",)),
        Column("kind", "利用種類", True, _t(40)),
        Column("caller", "通話元", True, p.dialled),
        Column("callee", "通話先", True, p.dialled),
        Column("duration", "通話時間", True, p.duration),
        Column("charge", "料金", True, _nonnegative),
        Column("record_key", "明細キー", False, lambda v: p.key(v, 80), empty=None),
        Column("month", "請求年月", False, p.month, empty=None),
    ],
}
