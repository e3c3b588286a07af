"""``mypage import <tenant> <kind> <file.csv>``: the operator's records from CSV files (docs/import.md).

Every row is parsed and checked first (line, column and reason for each problem); only a file without
any problem is written, all of it inside one transaction. Rows are upserted by their natural key
(customer number, contract number, invoice number, call record key), so importing a file again changes
nothing. Kinds: ``customers``, ``contracts``, ``invoices`` (one row per invoice line), ``calls``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import click
from piccolo.table import Table

from mypage.records import csvparse as p
from mypage.records.bulk import bulk_insert
from mypage.records.csvparse import FieldError, RowError
from mypage.records.tables import (
    BillingGroup,
    CallRecord,
    Contract,
    ContractOption,
    Customer,
    Device,
    Invoice,
    InvoiceLine,
    PhoneLine,
)

KINDS = ("customers", "contracts", "invoices", "calls")
CHUNK = 500
PROGRESS_FROM = 500
"""Show a progress bar (on stderr) for files with at least this many rows."""
MAX_REPORTED = 200


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
    "bank": "bank", "口座振替": "bank", "口座": "bank",
    "card": "card", "クレジットカード": "card", "カード": "card",
    "invoice": "invoice", "請求書": "invoice", "払込票": "invoice", "コンビニ払込票": "invoice",
}
SERVICES = {
    "internet": "internet", "インターネット": "internet", "net": "internet",
    "tv": "tv", "テレビ": "tv",
    "phone": "phone", "電話": "phone",
    "cloud": "cloud", "クラウド": "cloud",
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


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    added: list[tuple[int, str]] = field(default_factory=list)
    """(customer_id, kind) of what was newly added (each pair once): for notifying members after commit."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return (
            f"{self.kind}: {self.rows}行 — 新規 {self.created}件 / 更新 {self.updated}件 / 変更なし {self.unchanged}件"
        )

    def note_added(self, customer_id: int, kind: str) -> None:
        pair = (customer_id, kind)
        if pair not in self._added_set:
            self._added_set.add(pair)
            self.added.append(pair)

    def __post_init__(self) -> None:
        self._added_set: set[tuple[int, str]] = set()


# --- parsing ------------------------------------------------------------------------------------------------


def _header_map(kind: str) -> dict[str, Column]:
    import unicodedata

    mapping = {}
    for column in SPECS[kind]:
        for alias in (column.name, column.label, *column.aliases):
            mapping[unicodedata.normalize("NFKC", alias).strip().lower()] = column
    return mapping


def parse_rows(kind: str, csv_file: p.CsvFile) -> tuple[list[tuple[int, dict]], list[RowError]]:
    """Rows as dicts of normalised values (only the columns present in the header), and every problem."""
    import unicodedata

    errors: list[RowError] = []
    mapping = _header_map(kind)
    columns: list[Column | None] = []
    seen: dict[str, str] = {}
    for cell in csv_file.header:
        column = mapping.get(unicodedata.normalize("NFKC", cell).strip().lower())
        if column is None:
            errors.append(RowError(1, cell, "不明な列です(docs/import.md の列名を使ってください)。"))
        elif column.name in seen:
            errors.append(RowError(1, cell, f"列「{seen[column.name]}」と同じ列です。"))
        else:
            seen[column.name] = cell
        columns.append(column if column is not None and seen.get(column.name) == cell else None)
    for column in SPECS[kind]:
        if column.required and column.name not in seen:
            errors.append(RowError(1, column.name, "必須の列がありません。"))
    if errors:
        return [], errors
    if not csv_file.rows:
        return [], [RowError(0, "", "データ行がありません。")]

    parsed = []
    width = len(columns)
    for line, cells in csv_file.rows:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            errors.append(RowError(line, "", f"列の数({len(cells)})がヘッダー({width})より多くなっています。"))
            continue
        values: dict[str, Any] = {}
        for index, column in enumerate(columns):
            if column is None:
                continue
            raw = cells[index] if index < len(cells) else ""
            if not raw.strip():
                if column.required:
                    errors.append(RowError(line, column.name, "必須です。入力してください。"))
                values[column.name] = column.empty
                continue
            try:
                values[column.name] = column.parse(raw)
            except FieldError as exc:
                errors.append(RowError(line, column.name, str(exc)))
        parsed.append((line, values))
    return parsed, errors


# --- database helpers ---------------------------------------------------------------------------------------


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _by_key(table: type[Table], key_column, keys: Iterable, tenant: str, *columns) -> dict[Any, dict]:
    """Existing rows of ``tenant`` whose ``key_column`` is one of ``keys``, by key."""
    found: dict[Any, dict] = {}
    keys = list(dict.fromkeys(k for k in keys if k is not None))
    for chunk in _chunks(keys):
        query = table.select(*columns) if columns else table.select()
        rows = await query.where(table.tenant == tenant).where(key_column.is_in(chunk))
        for row in rows:
            found[row[key_column._meta.name]] = row
    return found


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        a = a if a.tzinfo else a.replace(tzinfo=timezone.utc)
        b = b if b.tzinfo else b.replace(tzinfo=timezone.utc)
        return a == b
    if isinstance(a, date) and isinstance(b, str):
        return a.isoformat() == b[:10]
    if isinstance(b, date) and isinstance(a, str):
        return b.isoformat() == a[:10]
    if a is None or b is None:
        return (a or "") == (b or "")
    return a == b


def _changes(existing: dict, values: dict) -> dict:
    return {k: v for k, v in values.items() if not _same(existing.get(k), v)}


async def _insert(table: type[Table], rows: list[dict], *returning) -> list[dict]:
    return await bulk_insert(table, rows, tuple(c._meta.name for c in returning))


async def _update(table: type[Table], tenant: str, row_id: int, changes: dict) -> None:
    await table.update({getattr(table, k): v for k, v in changes.items()}).where(table.tenant == tenant).where(
        table.id == row_id
    )


class Progress:
    def __init__(self, total: int, label: str, show: bool):
        self.bar = click.progressbar(length=total, label=label, file=sys.stderr) if show else None

    def __enter__(self) -> "Progress":
        if self.bar is not None:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)


def _duplicates(rows: list[tuple[int, dict]], key: str, column: str, label: str) -> list[RowError]:
    first: dict[Any, int] = {}
    errors = []
    for line, values in rows:
        value = values.get(key)
        if value is None:
            continue
        if value in first:
            errors.append(RowError(line, column, f"同じ{label}「{value}」が{first[value]}行目にもあります。"))
        else:
            first[value] = line
    return errors


# --- customers ----------------------------------------------------------------------------------------------

CUSTOMER_FIELDS = [c.name for c in SPECS["customers"] if c.name not in ("customer_number", "devices")]


async def _check_customers(tenant: str, rows: list[tuple[int, dict]]) -> tuple[list[RowError], dict]:
    errors = _duplicates(rows, "customer_number", "customer_number", "お客様番号")
    numbers = [values["customer_number"] for _, values in rows]
    existing = await _by_key(Customer, Customer.number, numbers, tenant)
    context: dict[str, Any] = {"existing": existing}
    if rows and "devices" in rows[0][1]:
        in_file = set(numbers)
        device_ids = [d for _, values in rows for _, d in values.get("devices", [])]
        owners = await _by_key(Device, Device.device_id, device_ids, tenant, Device.device_id, Device.customer)
        owner_numbers = {}
        owner_ids = {row["customer"] for row in owners.values()}
        for chunk in _chunks(list(owner_ids)):
            for row in await Customer.select(Customer.id, Customer.number).where(Customer.tenant == tenant).where(
                Customer.id.is_in(chunk)
            ):
                owner_numbers[row["id"]] = row["number"]
        first: dict[str, int] = {}
        for line, values in rows:
            for _, device_id in values.get("devices", []):
                if device_id in first:
                    errors.append(RowError(line, "devices", f"機器ID「{device_id}」が{first[device_id]}行目にもあります。"))
                    continue
                first[device_id] = line
                owner = owners.get(device_id)
                if owner is not None:
                    number = owner_numbers.get(owner["customer"])
                    if number != values["customer_number"] and number not in in_file:
                        errors.append(
                            RowError(line, "devices", f"機器ID「{device_id}」は別のお客様({number})の機器として登録されています。")
                        )
    return errors, context


async def _write_customers(tenant: str, rows, context, result: ImportResult, progress: Progress) -> None:
    existing: dict = context["existing"]
    new_rows, ids, touched = [], {}, set()
    for _, values in rows:
        fields = {k: v for k, v in values.items() if k in CUSTOMER_FIELDS}
        number = values["customer_number"]
        current = existing.get(number)
        if current is None:
            new_rows.append({"tenant": tenant, "number": number, **fields})
        else:
            ids[number] = current["id"]
            changes = _changes(current, fields)
            if changes:
                await _update(Customer, tenant, current["id"], changes)
                touched.add(number)
        progress.advance(1)
    for row in await _insert(Customer, new_rows, Customer.id, Customer.number):
        ids[row["number"]] = row["id"]
        result.created += 1
        result.note_added(row["id"], "customer")
    if rows and "devices" in rows[0][1]:
        touched |= await _replace_devices(tenant, rows, existing, ids)
    result.updated += len(touched)
    result.unchanged += len(existing) - len(touched)


async def _replace_devices(tenant: str, rows, existing: dict, ids: dict) -> set[str]:
    """Makes each customer's devices those of the file; returns the numbers of existing customers changed."""
    current: dict[int, list[tuple[str, str]]] = {}
    for chunk in _chunks([ids[n] for n in existing]):
        for row in await Device.select().where(Device.tenant == tenant).where(Device.customer.is_in(chunk)):
            current.setdefault(row["customer"], []).append((row["kind"], row["device_id"]))
    replace, inserts, touched = [], [], set()
    for _, values in rows:
        number = values["customer_number"]
        customer_id = ids[number]
        if sorted(current.get(customer_id, [])) == sorted(values["devices"]):
            continue
        replace.append(customer_id)
        if number in existing:
            touched.add(number)
        inserts.extend(
            {"tenant": tenant, "customer": customer_id, "kind": k, "device_id": d} for k, d in values["devices"]
        )
    for chunk in _chunks(replace):
        await Device.delete().where(Device.tenant == tenant).where(Device.customer.is_in(chunk))
    # A device moving from one customer of the file to another (checked before) is removed from the first.
    for chunk in _chunks([row["device_id"] for row in inserts]):
        await Device.delete().where(Device.tenant == tenant).where(Device.device_id.is_in(chunk))
    await _insert(Device, inserts)
    return touched


# --- contracts ----------------------------------------------------------------------------------------------

CONTRACT_FIELDS = [
    "category", "service", "service_name", "plan_name", "status", "started_on", "ended_on", "access_key",
    "holder_name", "holder_kana", "postal_code", "address1", "address2", "building", "monthly_fee",
    "call_details_from",
]


async def _check_contracts(tenant: str, rows) -> tuple[list[RowError], dict]:
    errors = _duplicates(rows, "contract_number", "contract_number", "契約番号")
    customers = await _by_key(
        Customer, Customer.number, [v["customer_number"] for _, v in rows], tenant, Customer.id, Customer.number
    )
    groups = await _by_key(BillingGroup, BillingGroup.code, [v.get("billing_group") for _, v in rows], tenant)
    existing = await _by_key(Contract, Contract.number, [v["contract_number"] for _, v in rows], tenant)
    new_groups: dict[str, tuple[str, int]] = {}
    for line, values in rows:
        customer = customers.get(values["customer_number"])
        if customer is None:
            errors.append(RowError(line, "customer_number", f"お客様番号「{values['customer_number']}」のお客様が登録されていません(先に customers を取り込んでください)。"))
            continue
        code = values.get("billing_group")
        if code:
            group = groups.get(code)
            if group is not None and group["customer"] != customer["id"]:
                errors.append(RowError(line, "billing_group", f"請求グループ「{code}」は別のお客様のものです。"))
            elif group is None:
                other = new_groups.get(code)
                if other is not None and other[0] != values["customer_number"]:
                    errors.append(RowError(line, "billing_group", f"請求グループ「{code}」は{other[1]}行目で別のお客様に使われています。"))
                else:
                    new_groups.setdefault(code, (values["customer_number"], line))
    errors.extend(await _check_phone_numbers(tenant, rows, existing))
    return errors, {"customers": customers, "groups": groups, "existing": existing}


async def _check_phone_numbers(tenant: str, rows, existing: dict) -> list[RowError]:
    if not rows or "phone_numbers" not in rows[0][1]:
        return []
    errors = []
    numbers = [n for _, values in rows for n in values["phone_numbers"]]
    owners = await _by_key(PhoneLine, PhoneLine.number, numbers, tenant, PhoneLine.number, PhoneLine.contract)
    in_file_ids = {existing[v["contract_number"]]["id"] for _, v in rows if v["contract_number"] in existing}
    first: dict[str, int] = {}
    for line, values in rows:
        for number in values["phone_numbers"]:
            if number in first:
                errors.append(RowError(line, "phone_numbers", f"電話番号「{number}」が{first[number]}行目にもあります。"))
                continue
            first[number] = line
            owner = owners.get(number)
            if owner is not None and owner["contract"] not in in_file_ids:
                errors.append(RowError(line, "phone_numbers", f"電話番号「{number}」は別の契約に登録されています。"))
    return errors


async def _write_contracts(tenant: str, rows, context, result: ImportResult, progress: Progress) -> None:
    customers, groups, existing = context["customers"], context["groups"], context["existing"]
    # Billing groups first (new ones are created; names updated where given).
    new_groups = {}
    for _, values in rows:
        code = values.get("billing_group")
        if not code:
            continue
        name = values.get("billing_group_name") or ""
        if code in groups:
            if name and groups[code]["name"] != name:
                await _update(BillingGroup, tenant, groups[code]["id"], {"name": name})
                groups[code]["name"] = name
        elif code not in new_groups:
            new_groups[code] = {
                "tenant": tenant, "customer": customers[values["customer_number"]]["id"], "code": code, "name": name or code,
            }
    for row in await _insert(BillingGroup, list(new_groups.values()), BillingGroup.id, BillingGroup.code, BillingGroup.customer):
        groups[row["code"]] = row

    ids: dict[str, int] = {}
    new_rows = []
    touched: set[str] = set()
    for _, values in rows:
        fields = {k: v for k, v in values.items() if k in CONTRACT_FIELDS}
        fields["customer"] = customers[values["customer_number"]]["id"]
        if "billing_group" in values:
            code = values["billing_group"]
            fields["billing_group"] = groups[code]["id"] if code else None
        number = values["contract_number"]
        current = existing.get(number)
        if current is None:
            new_rows.append({"tenant": tenant, "number": number, **fields})
        else:
            ids[number] = current["id"]
            changes = _changes(current, fields)
            if changes:
                await _update(Contract, tenant, current["id"], changes)
                touched.add(number)
        progress.advance(1)
    for row in await _insert(Contract, new_rows, Contract.id, Contract.number, Contract.customer):
        ids[row["number"]] = row["id"]
        result.created += 1
        result.note_added(row["customer"], "contract")

    existing_ids = [ids[n] for n in existing]
    if rows and "options" in rows[0][1]:
        current: dict[int, list[str]] = {}
        for chunk in _chunks(existing_ids):
            for row in await ContractOption.select().where(ContractOption.tenant == tenant).where(
                ContractOption.contract.is_in(chunk)
            ).order_by(ContractOption.position):
                current.setdefault(row["contract"], []).append(row["name"])
        replace, inserts = [], []
        for _, values in rows:
            contract_id = ids[values["contract_number"]]
            if current.get(contract_id, []) == values["options"]:
                continue
            replace.append(contract_id)
            if values["contract_number"] in existing:
                touched.add(values["contract_number"])
            inserts.extend(
                {"tenant": tenant, "contract": contract_id, "position": i, "name": name}
                for i, name in enumerate(values["options"], start=1)
            )
        for chunk in _chunks(replace):
            await ContractOption.delete().where(ContractOption.tenant == tenant).where(ContractOption.contract.is_in(chunk))
        await _insert(ContractOption, inserts)
    if rows and "phone_numbers" in rows[0][1]:
        current_lines: dict[int, list[tuple[str, str]]] = {}
        for chunk in _chunks(existing_ids):
            for row in await PhoneLine.select().where(PhoneLine.tenant == tenant).where(PhoneLine.contract.is_in(chunk)):
                current_lines.setdefault(row["contract"], []).append((row["number"], row["service_name"]))
        replace, inserts = [], []
        for _, values in rows:
            contract_id = ids[values["contract_number"]]
            service_name = values.get("phone_service_name") or "ひかり電話"
            wanted = sorted((n, service_name) for n in values["phone_numbers"])
            if sorted(current_lines.get(contract_id, [])) == wanted:
                continue
            replace.append(contract_id)
            if values["contract_number"] in existing:
                touched.add(values["contract_number"])
            inserts.extend({"tenant": tenant, "contract": contract_id, "number": n, "service_name": s} for n, s in wanted)
        for chunk in _chunks(replace):
            await PhoneLine.delete().where(PhoneLine.tenant == tenant).where(PhoneLine.contract.is_in(chunk))
        await _insert(PhoneLine, inserts)
    result.updated += len(touched)
    result.unchanged += len(existing) - len(touched)


# --- invoices -----------------------------------------------------------------------------------------------

INVOICE_HEADER = ("customer_number", "month", "issued_on", "due_on", "payment_method", "billing_group")
LINE_FIELDS = ("contract", "description", "amount", "tax_rate", "note")


async def _check_invoices(tenant: str, rows) -> tuple[list[RowError], dict]:
    errors: list[RowError] = []
    invoices: dict[str, dict] = {}
    for line, values in rows:
        number = values["invoice_number"]
        invoice = invoices.get(number)
        if invoice is None:
            invoices[number] = {"line": line, "header": {k: values.get(k) for k in INVOICE_HEADER if k in values}, "lines": []}
            invoice = invoices[number]
        else:
            for k in INVOICE_HEADER:
                if k in values and not _same(invoice["header"].get(k), values[k]):
                    errors.append(
                        RowError(line, k, f"ご請求番号「{number}」の{invoice['line']}行目と値が異なります(同じ請求書の行は同じ値にしてください)。")
                    )
        invoice["lines"].append((line, values))
    customers = await _by_key(
        Customer, Customer.number, [v["customer_number"] for _, v in rows], tenant, Customer.id, Customer.number
    )
    contracts = await _by_key(
        Contract, Contract.number, [v.get("contract_number") for _, v in rows], tenant,
        Contract.id, Contract.number, Contract.customer,
    )
    groups = await _by_key(
        BillingGroup, BillingGroup.code, [v.get("billing_group") for _, v in rows], tenant,
        BillingGroup.id, BillingGroup.code, BillingGroup.customer,
    )
    for line, values in rows:
        customer = customers.get(values["customer_number"])
        if customer is None:
            errors.append(RowError(line, "customer_number", f"お客様番号「{values['customer_number']}」のお客様が登録されていません。"))
            continue
        contract_number = values.get("contract_number")
        if contract_number:
            contract = contracts.get(contract_number)
            if contract is None:
                errors.append(RowError(line, "contract_number", f"契約番号「{contract_number}」の契約が登録されていません。"))
            elif contract["customer"] != customer["id"]:
                errors.append(RowError(line, "contract_number", f"契約番号「{contract_number}」は別のお客様の契約です。"))
        code = values.get("billing_group")
        if code:
            group = groups.get(code)
            if group is None:
                errors.append(RowError(line, "billing_group", f"請求グループ「{code}」が登録されていません(contracts で作られます)。"))
            elif group["customer"] != customer["id"]:
                errors.append(RowError(line, "billing_group", f"請求グループ「{code}」は別のお客様のものです。"))
    existing = await _by_key(Invoice, Invoice.number, list(invoices), tenant)
    return errors, {"invoices": invoices, "customers": customers, "contracts": contracts, "groups": groups, "existing": existing}


async def _write_invoices(tenant: str, rows, context, result: ImportResult, progress: Progress) -> None:
    invoices, customers, contracts, groups, existing = (
        context["invoices"], context["customers"], context["contracts"], context["groups"], context["existing"],
    )
    current_lines: dict[int, list[dict]] = {}
    for chunk in _chunks([row["id"] for row in existing.values()]):
        for row in await InvoiceLine.select().where(InvoiceLine.tenant == tenant).where(
            InvoiceLine.invoice.is_in(chunk)
        ).order_by(InvoiceLine.position):
            current_lines.setdefault(row["invoice"], []).append(row)

    def header_fields(invoice: dict) -> dict:
        header = invoice["header"]
        fields = {k: v for k, v in header.items() if k in ("month", "issued_on", "due_on", "payment_method")}
        fields["customer"] = customers[header["customer_number"]]["id"]
        if "billing_group" in header:
            fields["billing_group"] = groups[header["billing_group"]]["id"] if header["billing_group"] else None
        return fields

    def line_fields(values: dict) -> dict:
        contract_number = values.get("contract_number")
        return {
            "contract": contracts[contract_number]["id"] if contract_number else None,
            "description": values["description"],
            "amount": values["amount"],
            "tax_rate": values.get("tax_rate", 10),
            "note": values.get("note", ""),
        }

    ids: dict[str, int] = {}
    replace: list[int] = []
    new_rows = []
    for number, invoice in invoices.items():
        fields = header_fields(invoice)
        current = existing.get(number)
        if current is None:
            new_rows.append({"tenant": tenant, "number": number, **fields})
            continue
        ids[number] = current["id"]
        wanted = [line_fields(v) for _, v in invoice["lines"]]
        have = [{k: row[k] for k in LINE_FIELDS} for row in current_lines.get(current["id"], [])]
        changes = _changes(current, fields)
        if changes:
            await _update(Invoice, tenant, current["id"], changes)
        if have != wanted:
            replace.append(current["id"])
        if changes or have != wanted:
            result.updated += 1
        else:
            result.unchanged += 1
        progress.advance(len(invoice["lines"]))
    for row in await _insert(Invoice, new_rows, Invoice.id, Invoice.number, Invoice.customer):
        ids[row["number"]] = row["id"]
        result.created += 1
        result.note_added(row["customer"], "invoice")
        progress.advance(len(invoices[row["number"]]["lines"]))
    for chunk in _chunks(replace):
        await InvoiceLine.delete().where(InvoiceLine.tenant == tenant).where(InvoiceLine.invoice.is_in(chunk))
    replaced = set(replace)
    lines = []
    for number, invoice in invoices.items():
        invoice_id = ids[number]
        if number in existing and invoice_id not in replaced:
            continue
        lines.extend(
            {"tenant": tenant, "invoice": invoice_id, "position": i, **line_fields(values)}
            for i, (_, values) in enumerate(invoice["lines"], start=1)
        )
    await _insert(InvoiceLine, lines)


# --- calls --------------------------------------------------------------------------------------------------


def derived_record_key(contract_number: str, started_at: datetime, caller: str, callee: str, seconds: int) -> str:
    """A stable key for a call record without one: the same call always gets the same key."""
    moment = started_at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256(f"{contract_number}|{moment}|{caller}|{callee}|{seconds}".encode()).hexdigest()
    return f"h:{digest[:40]}"


async def _check_calls(tenant: str, rows) -> tuple[list[RowError], dict]:
    errors: list[RowError] = []
    for _, values in rows:
        if not values.get("record_key") and all(k in values for k in ("started_at", "caller", "callee", "duration")):
            values["record_key"] = derived_record_key(
                values["contract_number"], values["started_at"], values["caller"], values["callee"], values["duration"]
            )
    errors.extend(_duplicates(rows, "record_key", "record_key", "明細キー"))
    contracts = await _by_key(
        Contract, Contract.number, [v["contract_number"] for _, v in rows], tenant, Contract.id, Contract.number, Contract.customer
    )
    for line, values in rows:
        if values["contract_number"] not in contracts:
            errors.append(RowError(line, "contract_number", f"契約番号「{values['contract_number']}」の契約が登録されていません。"))
    existing = await _by_key(CallRecord, CallRecord.record_key, [v.get("record_key") for _, v in rows], tenant)
    return errors, {"contracts": contracts, "existing": existing}


async def _write_calls(tenant: str, rows, context, result: ImportResult, progress: Progress) -> None:
    contracts, existing = context["contracts"], context["existing"]
    new_rows = []
    for _, values in rows:
        contract = contracts[values["contract_number"]]
        started_at: datetime = values["started_at"]
        fields = {
            "contract": contract["id"],
            "month": values.get("month") or started_at.astimezone(p.JST).strftime("%Y-%m"),
            "started_at": started_at,
            "kind": values["kind"],
            "caller": values["caller"],
            "callee": values["callee"],
            "duration_seconds": values["duration"],
            "charge": values["charge"],
        }
        current = existing.get(values["record_key"])
        if current is None:
            new_rows.append({"tenant": tenant, "record_key": values["record_key"], **fields})
            result.note_added(contract["customer"], "call")
        else:
            changes = _changes(current, fields)
            if changes:
                await _update(CallRecord, tenant, current["id"], changes)
                result.updated += 1
            else:
                result.unchanged += 1
        progress.advance(1)
    await _insert(CallRecord, new_rows)
    result.created += len(new_rows)


CHECKS = {"customers": _check_customers, "contracts": _check_contracts, "invoices": _check_invoices, "calls": _check_calls}
WRITERS = {"customers": _write_customers, "contracts": _write_contracts, "invoices": _write_invoices, "calls": _write_calls}


# --- entry points -------------------------------------------------------------------------------------------


async def import_rows(tenant: str, kind: str, csv_file: p.CsvFile, *, show_progress: bool = False) -> ImportResult:
    """Validates every row, then (only if there is no problem) writes them all in one transaction."""
    from mypage.audit.log import AuditLog
    from mypage.db.transaction import atomic

    result = ImportResult(kind=kind, rows=len(csv_file.rows))
    rows, errors = parse_rows(kind, csv_file)
    if errors:
        result.errors = errors
        return result
    # Rows whose key columns failed to parse were reported; cross-row checks need the keys.
    errors_after, context = await CHECKS[kind](tenant, rows)
    if errors_after:
        result.errors = sorted(errors_after, key=lambda e: (e.line, e.column))
        return result
    with Progress(len(rows), f"{kind} を書き込み中", show_progress and len(rows) >= PROGRESS_FROM) as progress:
        async with atomic():
            await WRITERS[kind](tenant, rows, context, result, progress)
            await AuditLog(tenant).record(
                "records.import", kind=kind, rows=result.rows, created=result.created, updated=result.updated
            )
    return result


async def import_file(tenant: str, kind: str, path: str | Path, encoding: str = "auto", *, show_progress: bool = False) -> ImportResult:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return ImportResult(kind=kind, errors=[RowError(0, "", f"ファイルを読めません: {exc.strerror or exc}")])
    if not data.strip(b"\xef\xbb\xbf \r\n\t"):
        return ImportResult(kind=kind, errors=[RowError(0, "", "ファイルが空です。")])
    try:
        csv_file = p.read_csv(data, encoding)
    except FieldError as exc:
        return ImportResult(kind=kind, errors=[RowError(0, "", str(exc))])
    return await import_rows(tenant, kind, csv_file, show_progress=show_progress)


async def after_import(settings, tenant: str, result: ImportResult) -> None:
    """Called once the import's transaction has committed, with ``result.added`` = [(customer_id, kind), ...]
    of what was newly added (kinds: ``customer``, ``contract``, ``invoice``, ``call``).

    Hook for notifying members (e.g. of new invoices): add the call here.
    """
    new_invoices = [customer_id for customer_id, kind in result.added if kind == "invoice"]
    if new_invoices:
        from mypage.members.notify import notify_members
        from mypage.portal import Portal

        portal = Portal(settings)
        config = portal.tenants.get(tenant)
        for customer_id in new_invoices:
            await notify_members(portal, config, customer_id, "invoice", {})


async def run_import(settings, tenant: str, kind: str, path: str, encoding: str = "auto") -> int:
    """The CLI's ``mypage import``: 0 on success, 1 when the file has problems (nothing written), 2 for usage errors."""
    from mypage.tenancy.registry import TenantConfigError, TenantRegistry

    try:
        registry = TenantRegistry.load(settings.tenants_dir, settings.themes_dir)
    except TenantConfigError as exc:
        click.echo(f"エラー: テナント設定を読めません:\n{exc}", err=True)
        return 2
    if tenant not in registry.slugs:
        click.echo(f"エラー: テナント「{tenant}」はありません(あるのは: {', '.join(registry.slugs)})。", err=True)
        return 2
    if kind not in KINDS:
        click.echo(f"エラー: 種類「{kind}」には対応していません({', '.join(KINDS)})。", err=True)
        return 2
    result = await import_file(tenant, kind, path, encoding, show_progress=True)
    if result.errors:
        for error in result.errors[:MAX_REPORTED]:
            click.echo(f"{path}: {error}", err=True)
        if len(result.errors) > MAX_REPORTED:
            click.echo(f"ほか {len(result.errors) - MAX_REPORTED} 件のエラーがあります。", err=True)
        click.echo(f"{len(result.errors)} 件のエラーがあるため、何も取り込んでいません。", err=True)
        return 1
    await after_import(settings, tenant, result)
    click.echo(result.summary())
    return 0
