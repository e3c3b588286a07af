"""お問い合わせ: the rules for sending an inquiry (validation, rate limit, acceptance mail)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from mypage.audit.log import AuditLog
from mypage.db.locks import serialised
from mypage.i18n import gettext as _
from mypage.identity.tables import Account
from mypage.inquiries.repository import InquiryRepository
from mypage.inquiries.tables import Inquiry
from mypage.mail.outbox import enqueue
from mypage.records.tables import Customer
from mypage.tenancy.config import InquiryCategory
from mypage.tenancy.registry import Tenant

SUBJECT_MAX = 100
BODY_MAX = 2000


def next_month(day: date) -> str:
    """``2024-12-15`` → ``2025-01``."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return f"{year:04d}-{month:02d}"


def reference(inquiry: Inquiry) -> str:
    """受付番号 shown to the customer and staff."""
    return f"{inquiry.id:08d}"


def category(tenant: Tenant, key: str | None) -> InquiryCategory | None:
    feature = tenant.config.features.inquiries
    if feature is None or not key:
        return None
    return next((c for c in feature.categories if c.key == key), None)


def offered(tenant: Tenant) -> list[InquiryCategory]:
    """The 種別 list: the categories that are not requests filed under another one (``filed_as``)."""
    feature = tenant.config.features.inquiries
    return [c for c in feature.categories if c.filed_as is None] if feature else []


def _plain(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def filed_request(tenant: Tenant, key: str, subject: str) -> InquiryCategory | None:
    """The request filed under category ``key`` whose 件名 is ``subject`` (width and spaces ignored)."""
    feature = tenant.config.features.inquiries
    if feature is None or not subject:
        return None
    wanted = _plain(subject)
    for c in feature.categories:
        if c.filed_as == key and c.subject and wanted in {_plain(c.subject.ja), _plain(c.subject.en)}:
            return c
    return None


def resolve(tenant: Tenant, data: InquiryInput) -> tuple[InquiryCategory | None, InquiryCategory | None]:
    """(the 種別 the inquiry is filed under, the request it makes if it is a filed one such as 紙発送停止)."""
    chosen = category(tenant, data.category)
    if chosen is None:
        return None, None
    if chosen.filed_as:  # posted by the request's own key: filed under its category
        return category(tenant, chosen.filed_as), chosen
    return chosen, filed_request(tenant, chosen.key, data.subject)


@dataclass
class InquiryInput:
    category: str = ""
    subject: str = ""
    body: str = ""
    contract: str = ""

    @classmethod
    def from_form(cls, form) -> InquiryInput:
        def value(name: str) -> str:
            raw = form.get(name)
            return raw.strip() if isinstance(raw, str) else ""

        body = form.get("body")
        body = body.replace("\r\n", "\n").strip() if isinstance(body, str) else ""
        return cls(category=value("category"), subject=value("subject"), body=body, contract=value("contract"))


@dataclass
class Outcome:
    inquiry: Inquiry | None = None
    errors: dict[str, str] = field(default_factory=dict)
    form_error: str = ""
    rate_limited: bool = False


def validate(tenant: Tenant, data: InquiryInput, phone_contract_ids: set[int]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.category:
        errors["category"] = _("種別を選択してください。")
    elif category(tenant, data.category) is None:
        errors["category"] = _("種別を一覧から選択してください。")
    if len(data.subject) > SUBJECT_MAX:
        errors["subject"] = _("件名は{n}文字以内で入力してください。").format(n=SUBJECT_MAX)
    feature = tenant.config.features.inquiries
    if not data.body and (feature is None or feature.body_required):
        errors["body"] = _("内容を入力してください。")
    elif len(data.body) > BODY_MAX:
        errors["body"] = _("内容は{n}文字以内で入力してください。(現在{count}文字)").format(n=BODY_MAX, count=len(data.body))
    if data.contract:
        if not data.contract.isdigit() or int(data.contract) not in phone_contract_ids:
            errors["contract"] = _("対象のご契約を一覧から選択してください。")
    return errors


async def customer_of(tenant: Tenant, account: Account) -> Customer | None:
    if account.customer is None:
        return None
    return await Customer.objects().where(Customer.tenant == tenant.slug).where(Customer.id == account.customer).first()


async def phone_contracts(tenant: Tenant, account: Account) -> list:
    if account.customer is None:
        return []
    return await InquiryRepository(tenant.slug).phone_contracts(account.customer)


async def submit(portal, tenant: Tenant, account: Account, data: InquiryInput, *, address: str = "") -> Outcome:
    feature = tenant.config.features.inquiries
    contracts = await phone_contracts(tenant, account)
    errors = validate(tenant, data, {c.id for c in contracts})
    if errors:
        return Outcome(errors=errors)
    chosen, request = resolve(tenant, data)
    assert chosen is not None  # validated
    applies = (request or chosen).applies
    repo = InquiryRepository(tenant.slug)
    customer = await customer_of(tenant, account)
    reply_to = account.email or (customer.email if customer else "")
    # "At most max_per_hour per account": the count and the insert under the account's lock (db/locks.py).
    async with serialised(Account, account.id):
        since = datetime.now(UTC) - timedelta(hours=1)
        if await repo.sent_since(account.id, since) >= feature.max_per_hour:
            await AuditLog(tenant.slug).record("inquiry.rate_limited", account_id=account.id, address=address)
            return Outcome(
                form_error=_(
                    "短時間に多くのお問い合わせをいただいたため、受付を一時的に停止しています。しばらく時間をおいてから再度お試しください。"
                ),
                rate_limited=True,
            )
        inquiry = await repo.create(
            customer=account.customer,
            account=account.id,
            contract=int(data.contract) if data.contract else None,
            category=chosen.key,
            applies=applies,
            subject=data.subject,
            body=data.body,
            reply_to=reply_to,
        )
        if reply_to:
            await enqueue(
                portal,
                tenant,
                to=reply_to,
                template="inquiry_received",
                context={
                    "reference": reference(inquiry),
                    "category_label": chosen.label,
                    "applies": applies,
                    "subject": data.subject,
                    "body": data.body,
                    "display_name": account.display_name or account.nickname or (customer.name if customer else ""),
                },
            )
        await AuditLog(tenant.slug).record(
            "inquiry.received", account_id=account.id, address=address, inquiry_id=inquiry.id, category=chosen.key
        )
    return Outcome(inquiry=inquiry)
