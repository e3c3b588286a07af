"""``mypage demo``: realistic demo records for every tenant that has a ``tenants/<slug>/demo.toml``.

The tenant's ``demo.toml`` describes what its operator sells (plans, options, call kinds), where its
customers live, how its numbers look, its notices, and the fixed identities people use to try the
portal (docs/demo.md). Everything else is generated deterministically (``random.Random`` seeded per
tenant), relative to today: ``months`` months of invoices ending last month. Rows are written with bulk
inserts inside one transaction per tenant.
"""

from __future__ import annotations

import asyncio
import random
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import click
from piccolo.table import Table

from mypage.demo import names
from mypage.records.bulk import bulk_insert
from mypage.records.tables import (
    BillingGroup,
    CallRecord,
    Contract,
    ContractOption,
    Customer,
    Device,
    Document,
    Invoice,
    InvoiceLine,
    Notice,
    PhoneLine,
    ServiceHistory,
)

CHUNK = 500
JST = timezone(timedelta(hours=9))
SPACE = "\u3000"


async def database_is_empty() -> bool:
    """True when there is no customer at all (of any tenant)."""
    return await Customer.count() == 0


# --- the profile (tenants/<slug>/demo.toml) ------------------------------------------------------------------


@dataclass
class Profile:
    seed: int = 1
    customers: int = 300
    months: int = 18
    email_domain: str = "example.jp"
    email_ratio: float = 0.7
    card_ratio: float = 0.3
    business_ratio: float = 0.05
    renewal_window: bool = False
    service_history: bool = False
    access_keys: bool = False
    billing_groups: bool = False
    multi_line_ratio: float = 0.0
    other_contract_ratio: float = 0.0
    call_details_ratio: float = 0.0
    reduced_rate_ratio: float = 0.05
    issue_day: int = 9
    due_day: int = 27
    numbers: dict = field(default_factory=dict)
    service_sets: list[dict] = field(default_factory=list)
    service_labels: dict = field(default_factory=dict)
    plans: list[dict] = field(default_factory=list)
    options: list[dict] = field(default_factory=list)
    reduced_items: list[dict] = field(default_factory=list)
    call_kinds: list[dict] = field(default_factory=list)
    areas: list[dict] = field(default_factory=list)
    notices: list[dict] = field(default_factory=list)
    documents: dict = field(default_factory=dict)
    fixed: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path) -> Profile:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise click.ClickException(f"{path}: unknown keys {sorted(unknown)}")
        return cls(**data)

    def number(self, kind: str, n: int, **extra) -> str:
        fmt = self.numbers.get(kind, "{n:010d}")
        return fmt.format(n=n, **extra)


def _months_back(today: date, count: int) -> list[str]:
    """The ``count`` months ending last month, oldest first (``YYYY-MM``)."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(f"{year:04d}-{month:02d}")
    return out[::-1]


def _month_start(month: str) -> date:
    return date(int(month[:4]), int(month[5:]), 1)


def _month_end(month: str) -> date:
    start = _month_start(month)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _next_month(month: str) -> date:
    return _month_end(month) + timedelta(days=1)


def _add_months(month: str, delta: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _weighted(rng: random.Random, items: list[dict]) -> dict:
    return rng.choices(items, weights=[item.get("weight", 1) for item in items])[0]


# --- generation ---------------------------------------------------------------------------------------------


@dataclass
class Plan:
    customers: list[dict] = field(default_factory=list)
    devices: list[tuple[str, str, str]] = field(default_factory=list)
    """(customer number, kind, device id)."""
    groups: list[dict] = field(default_factory=list)
    contracts: list[dict] = field(default_factory=list)
    """Contract rows plus private keys (``_customer``, ``_group``, ``_options``, ``_phones``)."""
    calls: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    history: list[tuple[str, date, str]] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)


class Generator:
    def __init__(self, slug: str, profile: Profile, today: date):
        self.slug = slug
        self.p = profile
        self.today = today
        self.rng = random.Random(f"{profile.seed}-{slug}")
        self.months = _months_back(today, profile.months)
        self.counters: dict[str, int] = {}
        self.used_phones: set[str] = set()
        fixed = profile.fixed.get("customers", [])
        self.reserved = {
            "phone": {c["phone"] for c in fixed if c.get("phone")},
            "number": {c["number"] for c in fixed},
            "contract": {k.get("number") for c in fixed for k in c.get("contracts", []) if k.get("number")},
            "device": {d.split(":")[-1] for c in fixed for d in c.get("devices", [])},
        }

    def next_number(self, kind: str, reserved: str | None = None, **extra) -> str:
        while True:
            n = self.counters.get(kind, self.p.numbers.get(f"{kind}_start", 1))
            self.counters[kind] = n + 1
            value = self.p.number(kind, n, **extra)
            if not reserved or value not in self.reserved[reserved]:
                return value

    def phone(self, prefix: str) -> str:
        while True:
            value = prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(10 - len(prefix)))
            if prefix.startswith("0") and value not in self.used_phones and value not in self.reserved["phone"]:
                self.used_phones.add(value)
                return value

    def mobile(self) -> str:
        return self.rng.choice(["090", "080", "070"]) + "".join(str(self.rng.randint(0, 9)) for _ in range(8))

    # customers --------------------------------------------------------------------------------------------

    def person(self) -> tuple[str, str, bool]:
        family, family_kana = self.rng.choice(names.FAMILY)
        if self.rng.random() < self.p.business_ratio:
            company, kana = self.rng.choice(names.COMPANY_WORDS)
            return f"株式会社{SPACE}{company}", f"カブシキガイシャ{SPACE}{kana}", True
        given, given_kana = self.rng.choice(names.GIVEN_MALE if self.rng.random() < 0.5 else names.GIVEN_FEMALE)
        return f"{family}{SPACE}{given}", f"{family_kana}{SPACE}{given_kana}", False

    def customer(self, index: int, overrides: dict | None = None) -> dict:
        rng, p = self.rng, self.p
        overrides = dict(overrides or {})
        name, kana, business = self.person()
        area = rng.choice(p.areas)
        town, postal = rng.choice(area["towns"])
        since = date(rng.randint(2008, self.today.year - 2), rng.randint(1, 12), rng.randint(1, 28))
        services = _weighted(rng, p.service_sets)["services"] if p.service_sets else "internet"
        number = overrides.get("number") or self.next_number("customer", "number")
        card = rng.random() < p.card_ratio
        building = ""
        if rng.random() < 0.35:
            building = f"{rng.choice(names.BUILDINGS)}{town[:2]} {rng.randint(1, 8)}0{rng.randint(1, 9)}"
        row = {
            "tenant": self.slug,
            "number": number,
            "name": name,
            "name_kana": kana,
            "phone": self.phone(area["phone_prefix"]) if rng.random() < 0.8 else self.mobile(),
            "postal_code": postal,
            "prefecture": area["prefecture"],
            "address1": f"{area['city']}{town}",
            "address2": f"{rng.randint(1, 5)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}",
            "building": building,
            "email": f"user{index:04d}@{p.email_domain}" if rng.random() < p.email_ratio else "",
            "payment_method": "card" if card else "bank",
            "bank_name": "" if card else rng.choice(names.BANKS),
            "bank_last4": "" if card else f"{rng.randint(0, 9999):04d}",
            "card_last4": f"{rng.randint(0, 9999):04d}" if card else "",
            "customer_since": since,
            "services": services,
            "plan_name": "",
            "renewal_window": "",
        }
        row["_business"] = business
        for key in list(overrides):
            if key in row:
                row[key] = overrides.pop(key)
        if isinstance(row["customer_since"], str):
            row["customer_since"] = date.fromisoformat(row["customer_since"])
        if p.renewal_window:
            start_month = row["customer_since"].month
            year = self.today.year if (self.today.month <= start_month) else self.today.year + 1
            end_month = start_month + 2
            end_year = year + (end_month - 1) // 12
            end_month = (end_month - 1) % 12 + 1
            row["renewal_window"] = f"{year}年{start_month}月~{end_year}年{end_month}月"
        row["_rest"] = overrides
        return row

    def plans_for(self, service: str, category: str = "main") -> list[dict]:
        return [x for x in self.p.plans if x["service"] == service and x.get("category", "main") == category]

    def contract(self, customer: dict, spec: dict, group: str | None) -> dict:
        rng, p = self.rng, self.p
        category = spec.get("category", "main")
        choices = self.plans_for(spec.get("service", "internet"), category)
        if spec.get("plan_name"):
            choices = [x for x in choices if x["plan_name"] == spec["plan_name"]] or choices
        if "phone_line" in spec:  # a fixed contract with (or without) a phone line: the plan variant that has one
            choices = [x for x in choices if bool(x.get("phone_line")) == bool(spec["phone_line"])] or choices
        plan = _weighted(rng, choices)
        since: date = customer["customer_since"]
        started = spec.get("started_on")
        if started:
            started = date.fromisoformat(started) if isinstance(started, str) else started
        else:
            started = since + timedelta(days=rng.randint(0, 90) if spec.get("extra") else 0)
            started = min(started, self.today - timedelta(days=30))
        number = spec.get("number") or self.next_number("other_contract" if category == "other" else "contract", "contract")
        phones = []
        if plan.get("phone_line"):
            landline = (
                customer["phone"]
                if customer["phone"] not in self.used_line_numbers and not customer["phone"].startswith(("090", "080", "070"))
                else ""
            )
            phones.append(landline or self.phone(self.area_prefix(customer)))
            self.used_line_numbers.add(phones[0])
            if customer["_business"] and rng.random() < 0.5:
                phones.append(self.phone(self.area_prefix(customer)))
        options = []
        pool = [o for o in p.options if o.get("service", plan["service"]) == plan["service"]]
        if pool and category == "main":
            options = rng.sample(pool, k=min(len(pool), rng.choice([0, 0, 1, 1, 2])))
        if spec.get("options") is not None:
            options = [o for o in p.options if o["name"] in spec["options"]]
        call_from = None
        if phones:
            months_ago = spec.get("call_details_months")
            if months_ago is None and rng.random() < p.call_details_ratio:
                months_ago = rng.randint(3, 12)
            if months_ago:
                call_from = max(_add_months(self.months[-1], -(months_ago - 1)), started.strftime("%Y-%m"))
        key = ""
        if p.access_keys:
            key = "".join(rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
        return {
            "tenant": self.slug,
            "number": number,
            "category": category,
            "service": plan["service"],
            "service_name": plan["service_name"],
            "plan_name": plan["plan_name"],
            "status": spec.get("status") or plan.get("status", "ご利用中"),
            "started_on": started,
            "access_key": key,
            "holder_name": customer["name"],
            "holder_kana": customer["name_kana"],
            "postal_code": spec.get("postal_code") or customer["postal_code"],
            "address1": spec.get("address1") or f"{customer['prefecture']}{customer['address1']}",
            "address2": customer["address2"],
            "building": customer["building"],
            "monthly_fee": plan["fee"],
            "call_details_from": call_from,
            "_customer": customer["number"],
            "_group": group,
            "_options": options,
            "_phones": phones,
            "_device": plan.get("device_kind"),
        }

    def area_prefix(self, customer: dict) -> str:
        for area in self.p.areas:
            if area["prefecture"] == customer["prefecture"] and customer["address1"].startswith(area["city"]):
                return area["phone_prefix"]
        return self.p.areas[0]["phone_prefix"]

    def build(self) -> Plan:
        p, rng = self.p, self.rng
        plan = Plan()
        self.used_line_numbers: set[str] = set()
        fixed = {c["number"]: c for c in p.fixed.get("customers", [])}
        count = max(p.customers, len(fixed))
        specs: list[dict | None] = list(fixed.values()) + [None] * (count - len(fixed))
        for index, spec in enumerate(specs):
            customer = self.customer(index, spec)
            rest = customer.pop("_rest")
            plan.customers.append(customer)
            group = None
            if p.billing_groups:
                group = self.next_number("billing_group")
                plan.groups.append(
                    {"tenant": self.slug, "code": group, "name": f"{customer['name']} 様", "_customer": customer["number"]}
                )
            contract_specs = rest.get("contracts")
            if contract_specs is None:
                contract_specs = [{"service": s} for s in customer["services"].split(",") if self.plans_for(s)]
                if "internet" in customer["services"] and rng.random() < p.multi_line_ratio:
                    contract_specs += [{"service": "internet", "extra": True} for _ in range(rng.randint(1, 2))]
                if rng.random() < p.other_contract_ratio and self.plans_for("cloud", "other"):
                    contract_specs.append({"service": "cloud", "category": "other", "extra": True})
            contracts = [self.contract(customer, s, group) for s in contract_specs]
            plan.contracts.extend(contracts)
            customer["plan_name"] = customer["plan_name"] or " / ".join(
                dict.fromkeys(f"{c['service_name']} {c['plan_name']}" for c in contracts if c["category"] == "main")
            )
            device_ids = rest.get("devices")
            if device_ids is None:
                device_ids = [f"{c['_device']}:{self.next_number('device', 'device')}" for c in contracts if c["_device"]]
            for item in device_ids:
                kind, _, device_id = item.rpartition(":")
                plan.devices.append((customer["number"], kind or "STB", device_id))
            for contract in contracts:
                self.calls_for(contract, plan)
            self.invoices_for(customer, contracts, plan)
            if p.service_history:
                self.history_for(customer, contracts, plan)
            if p.documents:
                self.documents_for(customer, contracts, plan)
        return plan

    def calls_for(self, contract: dict, plan: Plan) -> None:
        if not contract["call_details_from"] or not self.p.call_kinds:
            contract["_calls"] = {}
            return
        rng = self.rng
        totals: dict[str, int] = {}
        for month in self.months:
            if month < contract["call_details_from"]:
                continue
            start = _month_start(month)
            days = (_month_end(month) - start).days + 1
            for k in range(rng.randint(12, 40)):
                kind = _weighted(rng, self.p.call_kinds)
                seconds = int(min(rng.expovariate(1 / kind.get("mean_seconds", 120)), 3 * 3600)) + 1
                units = -(-seconds // kind["seconds_per_unit"])
                charge = units * kind["yen_per_unit"]
                prefix = kind.get("callee_prefix", "")
                callee = (
                    self.mobile()
                    if prefix == "mobile"
                    else prefix + "".join(str(rng.randint(0, 9)) for _ in range(10 - len(prefix)))
                )
                moment = datetime(
                    start.year,
                    start.month,
                    rng.randint(1, days),
                    rng.randint(7, 22),
                    rng.randint(0, 59),
                    rng.randint(0, 59),
                    tzinfo=JST,
                )
                plan.calls.append(
                    {
                        "tenant": self.slug,
                        "_contract": contract["number"],
                        "month": month,
                        "started_at": moment,
                        "kind": kind["kind"],
                        "caller": rng.choice(contract["_phones"]),
                        "callee": callee,
                        "duration_seconds": seconds,
                        "charge": charge,
                        "record_key": f"demo-{contract['number']}-{month}-{k:03d}",
                    }
                )
                totals[month] = totals.get(month, 0) + charge
        contract["_calls"] = totals

    def invoices_for(self, customer: dict, contracts: list[dict], plan: Plan) -> None:
        rng, p = self.rng, self.p
        reduced = p.reduced_items and rng.random() < p.reduced_rate_ratio
        reduced_item = rng.choice(p.reduced_items) if reduced else None
        for month in self.months:
            end = _month_end(month)
            active = [c for c in contracts if c["started_on"] <= end]
            if not active:
                continue
            lines = []
            for contract in active:
                lines.append(
                    (contract["number"], f"{contract['service_name']} {contract['plan_name']}", contract["monthly_fee"], 10, "")
                )
                for option in contract["_options"]:
                    lines.append((contract["number"], option["name"], option["fee"], 10, ""))
                if contract["_phones"]:
                    charge = contract["_calls"].get(month)
                    if charge is None:
                        charge = rng.choice([0, 0, 40, 88, 120, 264, 512, 830])
                    if charge:
                        lines.append((contract["number"], "通話料", charge, 10, f"{int(month[5:])}月ご利用分"))
            if reduced_item:
                lines.append((None, reduced_item["name"], reduced_item["fee"], 8, "軽減税率対象"))
            following = _next_month(month)
            issued = min(following.replace(day=min(p.issue_day, 28)), self.today)
            due = following.replace(day=min(p.due_day, 28))
            plan.invoices.append(
                {
                    "tenant": self.slug,
                    "number": self.next_number("invoice", month=month.replace("-", "")),
                    "month": month,
                    "issued_on": issued,
                    "due_on": due,
                    "payment_method": customer["payment_method"],
                    "_customer": customer["number"],
                    "_group": contracts[0]["_group"],
                    "_lines": lines,
                }
            )

    def history_for(self, customer: dict, contracts: list[dict], plan: Plan) -> None:
        rng, labels = self.rng, self.p.service_labels
        for contract in contracts:
            label = labels.get(contract["service"], contract["service"])
            plan.history.append(
                (customer["number"], contract["started_on"], f"{label} 加入: {contract['service_name']} {contract['plan_name']}")
            )
            for option in contract["_options"]:
                when = contract["started_on"] + timedelta(days=rng.randint(0, 400))
                plan.history.append((customer["number"], min(when, self.today), f"オプション追加: {option['name']}"))
            others = [x for x in self.plans_for(contract["service"]) if x["plan_name"] != contract["plan_name"]]
            if others and rng.random() < 0.3:
                old = rng.choice(others)
                when = contract["started_on"] + timedelta(days=rng.randint(60, 900))
                if when < self.today:
                    plan.history.append((customer["number"], when, f"{label} 変更: {old['plan_name']} → {contract['plan_name']}"))

    def documents_for(self, customer: dict, contracts: list[dict], plan: Plan) -> None:
        spec = self.p.documents
        address = f"{customer['prefecture']}{customer['address1']}{customer['address2']} {customer['building']}".strip()
        if spec.get("per") == "contract":
            for contract in contracts:
                if contract["category"] != "main":
                    continue
                issued = contract["started_on"] - timedelta(days=7)
                dates = [issued]
                if contract["_options"] and self.rng.random() < 0.4:
                    later = contract["started_on"] + timedelta(days=self.rng.randint(30, 300))
                    if later < self.today:
                        dates.append(later)
                for when in dates:
                    plan.documents.append(
                        {
                            "tenant": self.slug,
                            "kind": spec["kind"],
                            "issued_on": when,
                            "title": spec["title"],
                            "_customer": customer["number"],
                            "_contract": contract["number"],
                            "data": {
                                "contract_number": contract["number"],
                                "holder_name": contract["holder_name"],
                                "holder_kana": contract["holder_kana"],
                                "postal_code": contract["postal_code"],
                                "address": contract["address1"] + contract["address2"],
                                "building": contract["building"],
                                "access_key": contract["access_key"],
                                "service_name": contract["service_name"],
                                "plan_name": contract["plan_name"],
                                "monthly_fee": contract["monthly_fee"],
                                "started_on": contract["started_on"].isoformat(),
                                "phone_numbers": contract["_phones"],
                                "options": [o["name"] for o in contract["_options"]],
                            },
                        }
                    )
        else:
            issued = customer["customer_since"]
            plan.documents.append(
                {
                    "tenant": self.slug,
                    "kind": spec["kind"],
                    "issued_on": issued,
                    "title": spec["title"],
                    "_customer": customer["number"],
                    "_contract": contracts[0]["number"] if contracts else None,
                    "data": {
                        "customer_number": customer["number"],
                        "name": customer["name"],
                        "name_kana": customer["name_kana"],
                        "postal_code": customer["postal_code"],
                        "address": address,
                        "phone": customer["phone"],
                        "payment_method": customer["payment_method"],
                        "renewal_window": customer["renewal_window"],
                        "contracts": [
                            {
                                "contract_number": c["number"],
                                "service": c["service"],
                                "service_name": c["service_name"],
                                "plan_name": c["plan_name"],
                                "monthly_fee": c["monthly_fee"],
                                "started_on": c["started_on"].isoformat(),
                                "options": [o["name"] for o in c["_options"]],
                            }
                            for c in contracts
                        ],
                    },
                }
            )


# --- writing ------------------------------------------------------------------------------------------------


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


async def _insert(table: type[Table], rows: list[dict], *returning) -> list[dict]:
    return await bulk_insert(table, rows, tuple(c._meta.name for c in returning))


async def _write(slug: str, plan: Plan) -> dict[str, int]:
    customers = {r["number"]: r["id"] for r in await _insert(Customer, plan.customers, Customer.id, Customer.number)}
    groups = {}
    if plan.groups:
        for row in plan.groups:
            row["customer"] = customers[row["_customer"]]
        groups = {r["code"]: r["id"] for r in await _insert(BillingGroup, plan.groups, BillingGroup.id, BillingGroup.code)}
    await _insert(Device, [{"tenant": slug, "customer": customers[c], "kind": k, "device_id": d} for c, k, d in plan.devices])
    for row in plan.contracts:
        row["customer"] = customers[row["_customer"]]
        row["billing_group"] = groups.get(row["_group"]) if row["_group"] else None
    contracts = {r["number"]: r["id"] for r in await _insert(Contract, plan.contracts, Contract.id, Contract.number)}
    options, phones = [], []
    for row in plan.contracts:
        contract_id = contracts[row["number"]]
        options += [
            {"tenant": slug, "contract": contract_id, "position": i, "name": o["name"]} for i, o in enumerate(row["_options"], 1)
        ]
        phones += [{"tenant": slug, "contract": contract_id, "service_name": "ひかり電話", "number": n} for n in row["_phones"]]
    await _insert(ContractOption, options)
    await _insert(PhoneLine, phones)
    for row in plan.calls:
        row["contract"] = contracts[row["_contract"]]
    await _insert(CallRecord, plan.calls)
    for row in plan.invoices:
        row["customer"] = customers[row["_customer"]]
        row["billing_group"] = groups.get(row["_group"]) if row["_group"] else None
    invoices = {r["number"]: r["id"] for r in await _insert(Invoice, plan.invoices, Invoice.id, Invoice.number)}
    lines = []
    for row in plan.invoices:
        invoice_id = invoices[row["number"]]
        for position, (contract, description, amount, rate, note) in enumerate(row["_lines"], 1):
            lines.append(
                {
                    "tenant": slug,
                    "invoice": invoice_id,
                    "contract": contracts.get(contract) if contract else None,
                    "position": position,
                    "description": description,
                    "amount": amount,
                    "tax_rate": rate,
                    "note": note,
                }
            )
    await _insert(InvoiceLine, lines)
    await _insert(
        ServiceHistory,
        [{"tenant": slug, "customer": customers[c], "happened_on": when, "description": text} for c, when, text in plan.history],
    )
    for row in plan.documents:
        row["customer"] = customers[row["_customer"]]
        row["contract"] = contracts.get(row["_contract"]) if row["_contract"] else None
    await _insert(Document, plan.documents)
    return {
        "customers": len(customers),
        "devices": len(plan.devices),
        "contracts": len(contracts),
        "phone lines": len(phones),
        "invoices": len(invoices),
        "invoice lines": len(lines),
        "calls": len(plan.calls),
        "documents": len(plan.documents),
    }


def notice_date(notice: dict, today: date) -> date:
    """When a demo notice was posted: ``days_ago`` before today, or, for a seasonal notice whose text names a
    date (a holiday), on ``published = "MM-DD"`` — its latest occurrence on or before today, so the notice
    never announces a holiday that lies months in the past when it was posted."""
    published = notice.get("published")
    if not published:
        return today - timedelta(days=notice.get("days_ago", 0))
    month, day = (int(part) for part in str(published).split("-"))
    for year in (today.year, today.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 02-29 outside a leap year
            candidate = date(year, month, 28)
        if candidate <= today:
            return candidate
    return candidate


async def _notices(slug: str, profile: Profile, today: date) -> int:
    rows = [
        {
            "tenant": slug,
            "title": n["title"],
            "body": n["body"],
            "published_on": notice_date(n, today),
            "important": n.get("important", False),
        }
        for n in profile.notices
    ]
    await _insert(Notice, rows)
    return len(rows)


async def _hash_all(profiles: list[Profile]) -> dict[str, str]:
    """argon2 hashes of every fixed password and secret answer, each computed once, in worker threads
    (argon2 releases the GIL, so this overlaps with generating and writing the records)."""
    from mypage.identity import normalize
    from mypage.identity.passwords import hash_password

    secrets = set()
    for profile in profiles:
        for spec in profile.fixed.get("accounts", []):
            secrets.add(spec["password"])
            if "secret_answer" in spec:
                secrets.add(normalize.name_key(spec["secret_answer"]))
    secrets = sorted(secrets)
    hashes = await asyncio.gather(*[asyncio.to_thread(hash_password, secret) for secret in secrets])
    return dict(zip(secrets, hashes, strict=False))


async def _accounts(tenant, profile: Profile, hashes: dict[str, str]) -> int:
    from mypage.identity import normalize
    from mypage.identity.accounts import AccountRepository

    repo = AccountRepository(tenant)
    count = 0
    for spec in profile.fixed.get("accounts", []):
        customer = (
            await Customer.select(Customer.id)
            .where(Customer.tenant == tenant.slug)
            .where(Customer.number == spec["customer"])
            .first()
        )
        password = spec["password"]
        fields: dict[str, Any] = {
            "customer": customer["id"] if customer else None,
            "password_hash": hashes[password],
            "email": normalize.email(spec.get("email", "")),
            "nickname": spec.get("nickname", ""),
            "display_name": spec.get("display_name", ""),
            "role": spec.get("role", "owner"),
            "recovery_method": spec.get("recovery_method", ""),
            "password_changed_at": datetime.now(UTC),
        }
        if "secret_answer" in spec:
            # Stored like the recovery flow compares: argon2 of the answer's name_key (width/kana/space-insensitive).
            fields["secret_question"] = spec.get("secret_question", 0)
            fields["secret_answer_hash"] = hashes[normalize.name_key(spec["secret_answer"])]
        await repo.create(login_id=spec["login_id"], **fields)
        count += 1
    return count


async def load_demo(settings, today: date | None = None) -> dict[str, dict[str, int]]:
    """Loads demo data for every tenant with a ``demo.toml`` that has no customers yet; prints a summary."""
    from mypage.db.engine import refresh_statistics
    from mypage.db.registry import all_tables
    from mypage.db.transaction import atomic
    from mypage.tenancy.registry import TenantRegistry

    today = today or date.today()
    registry = TenantRegistry.load(settings.tenants_dir, settings.themes_dir)
    todo = []
    for slug in registry.slugs:
        tenant = registry.get(slug)
        path = tenant.folder / "demo.toml"
        if not path.is_file():
            continue
        if await Customer.count().where(Customer.tenant == slug) > 0:
            click.echo(f"{slug}: already has customers; skipped")
            continue
        todo.append((tenant, Profile.load(path)))
    hashing = asyncio.ensure_future(_hash_all([profile for _, profile in todo]))  # noqa: RUF006 - awaited below
    summary: dict[str, dict[str, int]] = {}
    try:
        for tenant, profile in todo:
            started = time.monotonic()
            plan = Generator(tenant.slug, profile, today).build()
            hashes = await hashing
            async with atomic():
                counts = await _write(tenant.slug, plan)
                counts["notices"] = await _notices(tenant.slug, profile, today)
                counts["accounts"] = await _accounts(tenant, profile, hashes)
            summary[tenant.slug] = counts
            details = ", ".join(f"{v} {k}" for k, v in counts.items())
            click.echo(f"{tenant.slug}: {details} ({time.monotonic() - started:.1f} s)")
        if summary:
            await refresh_statistics(all_tables())
    finally:
        if not hashing.done():
            hashing.cancel()
    return summary
