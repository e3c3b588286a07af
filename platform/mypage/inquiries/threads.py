"""お問い合わせ as threads: the customer's answers, staff replies (mailed and shown in the portal), internal
notes, 対応状況 and assignment. The console and the portal both call these; approval of what an inquiry
applies for stays in :mod:`mypage.inquiries.staff` (one rule in one place).

対応状況 moves by itself: a staff reply makes it 回答済み, a customer's answer 対応中 again; staff may set
any state (完了 closes the thread: the customer then sends a new inquiry instead of answering).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from mypage.audit.actor import Actor, record_action
from mypage.audit.log import AuditLog
from mypage.db.base import utcnow
from mypage.db.locks import serialised
from mypage.i18n import gettext as _
from mypage.identity.tables import Account
from mypage.inquiries.repository import InboxFilter, InquiryRepository
from mypage.inquiries.service import BODY_MAX, category, reference
from mypage.inquiries.tables import Inquiry, InquiryMessage
from mypage.mail.outbox import enqueue
from mypage.records.tables import Customer
from mypage.tenancy.registry import Tenant


class State(StrEnum):
    NEW = "new"
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


def state_label(state: str) -> str:
    """新規 / 対応中 / 回答済み / 完了 in the current locale."""
    labels = {State.NEW: _("新規"), State.OPEN: _("対応中"), State.ANSWERED: _("回答済み"), State.CLOSED: _("完了")}
    return labels.get(state, state)  # type: ignore[call-overload]


class ThreadError(Exception):
    """A thread action that cannot be done; the message is for the person who tried."""


@dataclass
class Thread:
    inquiry: Inquiry
    messages: list[InquiryMessage]
    customer: Customer | None = None


def _clean(body: str) -> str:
    return body.replace("\r\n", "\n").strip()


def check_body(body: str) -> str:
    """The error message for a reply body, or ``""``."""
    if not body:
        return _("内容を入力してください。")
    if len(body) > BODY_MAX:
        return _("内容は{n}文字以内で入力してください。(現在{count}文字)").format(n=BODY_MAX, count=len(body))
    return ""


# --- the customer's side -------------------------------------------------------------------------------------


async def customer_threads(tenant: Tenant, account: Account) -> list[Inquiry]:
    return await InquiryRepository(tenant.slug).account_threads(account.id)


async def customer_thread(tenant: Tenant, account: Account, inquiry_id: int) -> Thread | None:
    """The account's own inquiry with the messages it may see (no internal notes); ``None`` for any other."""
    repo = InquiryRepository(tenant.slug)
    inquiry = await repo.of_account(account.id, inquiry_id)
    if inquiry is None:
        return None
    return Thread(inquiry, await repo.messages(inquiry.id, with_notes=False))


async def customer_answer(tenant: Tenant, account: Account, inquiry_id: int, body: str, *, address: str = "") -> str:
    """Adds the customer's answer and reopens the thread (対応中); returns an error message or ``""``.

    Answers count against the same hourly limit as new inquiries. Raises :class:`LookupError` when the inquiry
    is not the account's.
    """
    body = _clean(body)
    problem = check_body(body)
    if problem:
        return problem
    repo = InquiryRepository(tenant.slug)
    feature = tenant.config.features.inquiries
    async with serialised(Account, account.id):
        inquiry = await repo.of_account(account.id, inquiry_id)
        if inquiry is None:
            raise LookupError(inquiry_id)
        if inquiry.state == State.CLOSED:
            return _("このお問い合わせは完了しています。新しいお問い合わせをお送りください。")
        if feature is not None and await repo.sent_since(account.id, utcnow() - timedelta(hours=1)) >= feature.max_per_hour:
            await AuditLog(tenant.slug).record("inquiry.rate_limited", account_id=account.id, address=address)
            return _(
                "短時間に多くのお問い合わせをいただいたため、受付を一時的に停止しています。しばらく時間をおいてから再度お試しください。"
            )
        await repo.add_message(inquiry.id, author="customer", account=account.id, body=body)
        before = inquiry.state
        await repo.decide(inquiry, state=State.OPEN)
        await AuditLog(tenant.slug).record(
            "inquiry.customer_answer",
            account_id=account.id,
            address=address,
            customer_id=inquiry.customer,
            inquiry_id=inquiry.id,
            before={"state": before},
            after={"state": State.OPEN},
        )
    return ""


# --- the staff's side ---------------------------------------------------------------------------------------


async def inbox(tenant: Tenant, wanted: InboxFilter) -> list[Inquiry]:
    return await InquiryRepository(tenant.slug).inbox(wanted)


async def customers_of(tenant: Tenant, inquiries: list[Inquiry]) -> dict[int, Customer]:
    """The customers of the listed inquiries, by id (the inbox shows their numbers and names)."""
    return await InquiryRepository(tenant.slug).customers_by_id([i.customer for i in inquiries if i.customer is not None])


async def staff_thread(tenant: Tenant, inquiry_id: int) -> Thread | None:
    repo = InquiryRepository(tenant.slug)
    inquiry = await repo.by_id(inquiry_id)
    if inquiry is None:
        return None
    customers = await repo.customers_by_id([inquiry.customer] if inquiry.customer else [])
    return Thread(inquiry, await repo.messages(inquiry.id, with_notes=True), customers.get(inquiry.customer))


async def _audit(
    tenant: Tenant, event: str, actor: Actor, inquiry: Inquiry, *, before: dict | None = None, after: dict | None = None, **detail
) -> None:
    await record_action(
        tenant.slug, actor, event, customer_id=inquiry.customer, before=before, after=after, inquiry_id=inquiry.id, **detail
    )


async def _locked(tenant: Tenant, inquiry_id: int) -> Inquiry:
    inquiry = await InquiryRepository(tenant.slug).by_id(inquiry_id)
    if inquiry is None:
        raise ThreadError(_("お問い合わせが見つかりません。"))
    return inquiry


async def staff_reply(portal, tenant: Tenant, inquiry_id: int, body: str, actor: Actor) -> InquiryMessage:
    """A reply to the customer: stored in the thread, mailed to the inquiry's address, state 回答済み."""
    body = _clean(body)
    problem = check_body(body)
    if problem:
        raise ThreadError(problem)
    repo = InquiryRepository(tenant.slug)
    async with serialised(Inquiry, inquiry_id):
        inquiry = await _locked(tenant, inquiry_id)
        message = await repo.add_message(inquiry.id, author="staff", staff_id=actor.staff_id, staff_name=actor.name, body=body)
        before = inquiry.state
        await repo.decide(inquiry, state=State.ANSWERED)
        if inquiry.reply_to:
            chosen = category(tenant, inquiry.category)
            await enqueue(
                portal,
                tenant,
                to=inquiry.reply_to,
                template="inquiry_reply",
                context={
                    "reference": reference(inquiry),
                    "category_label": chosen.label if chosen else None,
                    "subject": inquiry.subject,
                    "body": body,
                    "url": f"{portal.base_url(tenant)}/inquiries/{inquiry.id}",
                },
            )
        await _audit(
            tenant,
            "admin.inquiry.replied",
            actor,
            inquiry,
            before={"state": before},
            after={"state": State.ANSWERED},
            mailed=bool(inquiry.reply_to),
        )
    return message


async def add_note(tenant: Tenant, inquiry_id: int, body: str, actor: Actor) -> InquiryMessage:
    """An internal note: staff only, no mail, the state unchanged."""
    body = _clean(body)
    problem = check_body(body)
    if problem:
        raise ThreadError(problem)
    repo = InquiryRepository(tenant.slug)
    async with serialised(Inquiry, inquiry_id):
        inquiry = await _locked(tenant, inquiry_id)
        message = await repo.add_message(inquiry.id, author="note", staff_id=actor.staff_id, staff_name=actor.name, body=body)
        await _audit(tenant, "admin.inquiry.noted", actor, inquiry)
    return message


async def set_state(tenant: Tenant, inquiry_id: int, state: str, actor: Actor) -> Inquiry:
    if state not in State.__members__.values():
        raise ThreadError(_("対応状況を一覧から選択してください。"))
    repo = InquiryRepository(tenant.slug)
    async with serialised(Inquiry, inquiry_id):
        inquiry = await _locked(tenant, inquiry_id)
        before = inquiry.state
        if before != state:
            await repo.decide(inquiry, state=state)
            await _audit(tenant, "admin.inquiry.state_changed", actor, inquiry, before={"state": before}, after={"state": state})
    return inquiry


async def assign(tenant: Tenant, inquiry_id: int, assignee_id: int | None, assignee_name: str, actor: Actor) -> Inquiry:
    """Assigns the inquiry (``assignee_id`` None: to nobody). The caller checks that the id is its tenant's staff."""
    repo = InquiryRepository(tenant.slug)
    async with serialised(Inquiry, inquiry_id):
        inquiry = await _locked(tenant, inquiry_id)
        before = {"id": inquiry.assignee_id, "name": inquiry.assignee_name}
        after = {"id": assignee_id, "name": assignee_name if assignee_id is not None else ""}
        if before != after:
            await repo.decide(inquiry, assignee_id=after["id"], assignee_name=after["name"])
            await _audit(tenant, "admin.inquiry.assigned", actor, inquiry, before=before, after=after)
    return inquiry


__all__ = [
    "Actor",
    "InboxFilter",
    "State",
    "Thread",
    "ThreadError",
    "add_note",
    "assign",
    "customer_answer",
    "customer_thread",
    "customer_threads",
    "customers_of",
    "inbox",
    "set_state",
    "staff_reply",
    "staff_thread",
    "state_label",
]
