"""Matches what a customer types (お客様番号, 電話番号, カナ氏名, 契約番号 …) against the contract holder.

Which fields are asked is the tenant's ``identity.registration`` config; this module knows how each
field is normalised, checked and compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.attempts import AttemptLimit
from mypage.records.tables import Contract, Customer, Device
from mypage.tenancy.config import Registration
from mypage.tenancy.registry import Tenant

LABELS = {
    "customer_number": N_("お客様番号"),
    "phone": N_("電話番号"),
    "name_kana": N_("お名前(カナ)"),
    "name": N_("お客様名"),
    "postal_code": N_("郵便番号"),
    "contract_number": N_("契約番号"),
    "bank_last4": N_("口座番号 下4桁"),
    "card_last4": N_("クレジットカード番号 下4桁"),
    "device_id": N_("機器情報"),
    "email": N_("メールアドレス"),
}
KATAKANA_NAME = re.compile(r"^[\u30a0-\u30ff\u3000]+$")


@dataclass
class Answer:
    value: str
    error: str | None = None


def clean(field: str, raw: str, rules: Registration) -> Answer:
    """Normalises one answer and says what is wrong with it, if anything."""
    raw = raw or ""
    if not raw.strip():
        return Answer("", _("入力してください。"))
    if field == "customer_number":
        value = normalize.digits_only(raw)
        if not value.isdigit() or len(value) > 20:
            return Answer(value, _("半角数字で入力してください。"))
        return Answer(value)
    if field == "phone":
        value = normalize.digits_only(raw)
        if not value.isdigit() or not 10 <= len(value) <= 11:
            return Answer(value, _("電話番号は10桁または11桁の数字で入力してください。"))
        return Answer(value)
    if field == "name_kana":
        value = normalize.katakana_name(raw)
        if not KATAKANA_NAME.match(value):
            return Answer(value, _("全角カナで入力してください。"))
        return Answer(value)
    if field == "name":
        return Answer(normalize.name(raw))
    if field == "postal_code":
        value = normalize.postal_code(raw)
        if not re.fullmatch(r"\d{7}", value):
            return Answer(value, _("郵便番号は7桁の数字で入力してください。"))
        return Answer(value)
    if field == "contract_number":
        value = normalize.upper_code(raw)
        for prefix in rules.contract_number_strip_prefixes:
            if value.startswith(prefix.upper()) and len(value) > len(prefix):
                value = value[len(prefix) :]
        patterns = rules.contract_number_patterns
        if patterns and not any(re.fullmatch(p, value) for p in patterns):
            return Answer(value, _("契約番号の形式が正しくありません。"))
        return Answer(value)
    if field in ("bank_last4", "card_last4"):
        value = normalize.digits_only(raw)
        if not re.fullmatch(r"\d{4}", value):
            return Answer(value, _("4桁の数字で入力してください。"))
        return Answer(value)
    if field == "device_id":
        return Answer(normalize.upper_code(raw))
    if field == "email":
        return Answer(normalize.email(raw))
    raise ValueError(f"unknown verification field {field!r}")


CORPORATE_ABBREVIATIONS = {
    "(株)": "株式会社",
    "(有)": "有限会社",
    "(合)": "合同会社",
    "(名)": "合名会社",
    "(資)": "合資会社",
    "(医)": "医療法人",
    "(財)": "財団法人",
    "(社)": "社団法人",
}
"""The usual short forms of Japanese corporate forms (「㈱」 and 「（株）」 become 「(株)」 under NFKC)."""


def _strip_corporate_forms(name: str, forms: list[str]) -> str:
    key = normalize.name_key(name)
    for short, full in CORPORATE_ABBREVIATIONS.items():
        key = key.replace(short, normalize.name_key(full))
    for form in forms:
        key = key.replace(normalize.name_key(form), "")
    return key


def _is_katakana(value: str) -> bool:
    return bool(KATAKANA_NAME.match(normalize.katakana_name(value)))


MAX_CLAIMED_CANDIDATES = 20
"""Customers counted per verification (a phone number shared by more is too vague to point at one)."""


class CustomerMatcher:
    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.slug = tenant.slug
        self.rules = tenant.config.identity.registration

    async def _candidates(self, answers: dict[str, str]) -> list[dict]:
        query = Customer.select().where(Customer.tenant == self.slug)
        if "contract_number" in answers:
            rows = (
                await Contract.select(Contract.customer)
                .where(Contract.tenant == self.slug)
                .where(Contract.number == answers["contract_number"])
            )
            ids = [r["customer"] for r in rows]
            if not ids:
                return []
            query = query.where(Customer.id.is_in(ids))
        elif "phone" in answers:
            query = query.where(Customer.phone == answers["phone"])
        elif "customer_number" in answers:
            query = query.where(Customer.number.like(f"%{answers['customer_number'].lstrip('0')}"))
        elif "device_id" in answers:
            rows = (
                await Device.select(Device.customer)
                .where(Device.tenant == self.slug)
                .where(Device.device_id == answers["device_id"])
            )
            if not rows:
                return []
            query = query.where(Customer.id.is_in([r["customer"] for r in rows]))
        return await query.limit(200)

    async def _device_owner_ids(self, device_id: str) -> set[int]:
        rows = await Device.select(Device.customer).where(Device.tenant == self.slug).where(Device.device_id == device_id)
        return {r["customer"] for r in rows}

    async def _matches(self, customer: dict, field: str, value: str) -> bool:
        if field == "customer_number":
            if self.rules.strip_leading_zeros:
                return customer["number"].lstrip("0") == value.lstrip("0")
            return customer["number"] == value
        if field == "phone":
            return customer["phone"] == value
        if field == "name_kana":
            return normalize.name_key(customer["name_kana"]) == normalize.name_key(value)
        if field == "name":
            forms = self.rules.corporate_forms
            if _strip_corporate_forms(customer["name"], forms) == _strip_corporate_forms(value, forms):
                return True
            # お客様名 may be typed in katakana (the label invites it): compared with the name's reading
            kana = customer["name_kana"] or ""
            return bool(kana) and _is_katakana(value) and normalize.name_key(kana) == normalize.name_key(value)
        if field == "postal_code":
            if customer["postal_code"] == value:
                return True
            return (
                await Contract.count()
                .where(Contract.tenant == self.slug)
                .where(Contract.customer == customer["id"])
                .where(Contract.postal_code == value)
                > 0
            )
        if field == "contract_number":
            return (
                await Contract.count()
                .where(Contract.tenant == self.slug)
                .where(Contract.customer == customer["id"])
                .where(Contract.number == value)
                > 0
            )
        if field == "bank_last4":
            return customer["bank_last4"] == value
        if field == "card_last4":
            return customer["card_last4"] == value
        if field == "device_id":
            return customer["id"] in await self._device_owner_ids(value)
        if field == "email":
            return normalize.email(customer["email"]) == value
        return False

    async def match(self, answers: dict[str, str], candidates: list[dict] | None = None) -> list[dict]:
        """Customers (as rows) for whom every answer matches; usually zero or one."""
        if not answers:
            return []
        found = []
        for customer in candidates if candidates is not None else await self._candidates(answers):
            ok = True
            for field, value in answers.items():
                if not await self._matches(customer, field, value):
                    ok = False
                    break
            if ok:
                found.append(customer)
        return found


@dataclass
class Verification:
    found: list[dict]
    blocked: bool = False
    minutes: int = 0


class VerificationGate:
    """Limits guessing at the operator's records (registration, re-registration): failed matches are counted
    per client address and per customer record that the answers point at (the customers sharing the
    phone, contract or customer number typed), before the answers are compared. A customer whose record
    was guessed at too often cannot be verified for the lock window, from any address."""

    def __init__(self, tenant: Tenant, address: str):
        lockout = tenant.config.identity.lockout
        self.matcher = CustomerMatcher(tenant)
        self.address = address
        self.by_address = AttemptLimit.in_lock_window(tenant, "register.address", lockout.per_address_max_failures)
        self.by_customer = AttemptLimit.in_lock_window(tenant, "register.customer")
        self.minutes = lockout.lock_minutes

    async def match(self, answers: dict[str, str], *, among: list[int] | None = None) -> Verification:
        """The customers every answer matches (``among`` narrows them to earlier candidates)."""
        address_claim = await self.by_address.claim(self.address)
        if not address_claim.allowed:
            return Verification([], blocked=True, minutes=self.minutes)
        candidates = await self.matcher._candidates(answers) if answers else []
        if among is not None:
            candidates = [c for c in candidates if c["id"] in among]
        claims = {}
        for customer in candidates[:MAX_CLAIMED_CANDIDATES]:
            claims[customer["id"]] = await self.by_customer.claim(str(customer["id"]))
        if any(not claim.allowed for claim in claims.values()):
            for claim in claims.values():
                await self.by_customer.release(claim)
            return Verification([], blocked=True, minutes=self.minutes)
        found = await self.matcher.match(answers, candidates)
        if found:
            await self.by_address.release(address_claim)
            for customer in found:
                if customer["id"] in claims:
                    await self.by_customer.release(claims[customer["id"]])
        return Verification(found)
