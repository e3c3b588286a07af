"""Step ``confirm``: the e-mail address is confirmed before the account exists.

``link``: a single-use link (``tokens.registration_link_minutes``) is mailed; ``code``: a 認証コード
(``tokens.email_code_minutes``) is mailed and typed on ``/code`` in the same browser. The address is the
contact address of a chosen ID, or the ID itself when it is an e-mail address. Issued IDs: the account is
created ``pending`` with a generated ID and 仮パスワード, mailed with a first-login link (``first_login.py``).
What the customer entered travels in the token's payload (the password only as its hash).
"""

from __future__ import annotations

from collections.abc import Callable

from litestar import Request, Response, get

from mypage.audit.log import AuditLog
from mypage.db.locks import serialised
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity.accounts import AccountRepository
from mypage.identity.issued import create_issued_account, link_validity
from mypage.identity.recovery_support import login_label
from mypage.identity.registration.plan import (
    PURPOSE,
    STATE,
    Plan,
    link_hours,
    paths,
    pipeline,
    save_state,
    tokens_of,
    validity_text,
)
from mypage.identity.tokens import TokenError
from mypage.mail.outbox import enqueue
from mypage.records.tables import Customer
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, redirect, render, session_of

SENT = "registration_sent"


def address_of(plan: Plan, values: dict) -> str:
    """Where the confirmation goes: the contact address, or the login ID when it is an address."""
    return values["email"] if plan.contact_field else values["login_id"]


async def send_confirmation(
    request: Request, tenant: Tenant, plan: Plan, state: dict, *, on_throttle: Callable[[str], Response]
) -> Response:
    values = state["values"]
    customer_id = int(state["customer_id"])
    address = address_of(plan, values)
    lifetimes = tenant.config.identity.tokens
    tokens = tokens_of(request, tenant)
    portal = portal_of(request)
    payload = {
        "customer_id": customer_id,
        "login_id": values["login_id"],
        "password_hash": state["password_hash"],
        "email": address,
        "nickname": values.get("nickname", ""),
    }
    subject = f"customer:{customer_id}"
    try:
        async with atomic():
            if plan.confirm == "code":
                code = await tokens.issue_code(PURPOSE, minutes=lifetimes.email_code_minutes, subject=subject, payload=payload)
                await enqueue(
                    portal,
                    tenant,
                    to=address,
                    template="register_code",
                    context={
                        "code": code,
                        "minutes": lifetimes.email_code_minutes,
                        "login_id": values["login_id"],
                        "label": login_label(tenant),
                    },
                )
            else:
                issued = await tokens.issue(
                    PURPOSE, minutes=lifetimes.registration_link_minutes, subject=subject, payload=payload
                )
                url = portal.base_url(tenant) + plan.link_path(issued.secret)
                amount, unit = link_validity(lifetimes.registration_link_minutes)
                await enqueue(
                    portal,
                    tenant,
                    to=address,
                    # The mail says whether the link page asks for the password again.
                    template="register_chosen_provisional" if plan.confirm_password else "register_email_link",
                    context={
                        "nickname": values.get("nickname") or "",
                        "login_id": values["login_id"],
                        "url": url,
                        "link": url,
                        "hours": link_hours(tenant),
                        "label": login_label(tenant),
                        "valid_amount": amount,
                        "valid_unit": unit,
                    },
                )
            await AuditLog(tenant.slug).record("register.provisional", address=client_address(request), customer_id=customer_id)
    except TokenError:
        return on_throttle(
            _("確認メールを送信したばかりです。{seconds}秒ほど時間をおいてからお試しください。").format(
                seconds=lifetimes.resend_interval_seconds
            )
        )
    if plan.confirm == "code":
        save_state(request, {**state, "code_for": subject, "address": address})
        return redirect(plan.path("code"))
    session_of(request).pop(STATE)
    session_of(request)[SENT] = address
    return redirect(plan.path("sent"))


async def issue_credentials(request: Request, tenant: Tenant, plan: Plan, customer: dict, email: str) -> Response:
    """Issued IDs: the pending account with a generated ID and 仮パスワード, mailed with the first-login link
    (an unfinished earlier registration of the customer is replaced)."""
    repo = AccountRepository(tenant)
    address = client_address(request)
    # One registration per customer at a time: the owner check and the new account under the customer's lock.
    async with serialised(Customer, customer["id"]):
        owners = [a for a in await repo.by_customer(customer["id"]) if a.role == "owner" and a.status == "pending"]
        for old in owners:
            await repo.delete(old)
        account, _temporary = await create_issued_account(
            portal_of(request),
            tenant,
            customer_id=customer["id"],
            email=email,
            display_name=customer.get("name") or "",
            role="owner",
        )
        await AuditLog(tenant.slug).record(
            "register.issued", account_id=account.id, address=address, customer_id=customer["id"], replaced=len(owners)
        )
    session_of(request).pop(STATE)
    session_of(request)[SENT] = email
    return redirect(plan.path("sent"))


@get(paths("sent"))
async def sent_page(request: Request) -> Response:
    tenant, plan = pipeline(request)
    address = session_of(request).get(SENT)
    if not address:
        return redirect(plan.path())
    return render(
        request,
        "identity/register_sent.html",
        plan=plan,
        email=address,
        login_id=address,
        hours=link_hours(tenant),
        validity=validity_text(tenant),
    )


ROUTES = [sent_page]
