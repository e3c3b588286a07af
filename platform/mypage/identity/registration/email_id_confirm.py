"""Registration with the e-mail address as login ID, step 4 (see ``email_id.py``): the mailed link's page, where
the customer picks the 連絡先メールアドレス (the new ID or the address on file); a customer registering again has
the existing account's login ID and password replaced, on the same row."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Request, Response, get, post
from litestar.params import FromPath

from mypage.audit.log import AuditLog
from mypage.db.locks import serialised
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository, LoginIdTaken
from mypage.identity.issued import tokens_for
from mypage.identity.messages import link_message
from mypage.identity.recovery_support import contact_address, login_label, mail_account_changed
from mypage.identity.registration.email_id import PREFIX, PURPOSE, flow_guard
from mypage.identity.tokens import TokenError
from mypage.mail.outbox import enqueue
from mypage.records.tables import Customer
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of


async def _on_file_contact(tenant, customer_id: int) -> str:
    """The 連絡先メールアドレス already on file: the existing account's, else the customer record's."""
    for account in await AccountRepository(tenant).by_customer(customer_id):
        if account.email:
            return account.email
    row = await Customer.select(Customer.email).where(Customer.tenant == tenant.slug).where(Customer.id == customer_id).first()
    return (row or {}).get("email") or ""


def _invalid_link(request: Request, reason: str) -> Response:
    message = link_message(
        reason,
        expired=_("URLの有効期限が切れています。お手数ですが、はじめから登録をやり直してください。"),
        otherwise=_("URLが正しくないか、有効期限が切れています。お手数ですが、はじめから登録をやり直してください。"),
    )
    return render(request, "identity/register_email_invalid.html", status_code=400, message=message, prefix=PREFIX)


async def _contact_choices(tenant, payload: dict) -> list[str]:
    on_file = await _on_file_contact(tenant, int(payload["customer_id"]))
    choices = [payload["login_id"]]
    if on_file and normalize.email(on_file).lower() != normalize.email(payload["login_id"]).lower():
        choices.append(on_file)
    return choices


@get(f"{PREFIX}/confirm/{{token:str}}", guards=[flow_guard])
async def confirm_page(request: Request, token: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    try:
        payload = await tokens_for(portal_of(request), tenant).peek(PURPOSE, token)
    except TokenError as exc:
        return _invalid_link(request, exc.reason)
    choices = await _contact_choices(tenant, payload)
    return render(
        request,
        "identity/register_email_confirm.html",
        login_id=payload["login_id"],
        choices=choices,
        token=token,
        errors={},
        prefix=PREFIX,
    )


@post(f"{PREFIX}/confirm/{{token:str}}", guards=[flow_guard])
async def confirm_submit(request: Request, token: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    portal = portal_of(request)
    tokens = tokens_for(portal, tenant)
    try:
        payload = await tokens.peek(PURPOSE, token)
    except TokenError as exc:
        return _invalid_link(request, exc.reason)
    choices = await _contact_choices(tenant, payload)
    form = await request.form()
    choice = form.get("contact") or ("0" if len(choices) == 1 else "")
    if choice not in [str(i) for i in range(len(choices))]:
        return render(
            request,
            "identity/register_email_confirm.html",
            status_code=400,
            login_id=payload["login_id"],
            choices=choices,
            token=token,
            errors={"contact": _("連絡先メールアドレスを選択してください。")},
            prefix=PREFIX,
        )
    contact = choices[int(choice)]
    customer_id = int(payload["customer_id"])
    login_id = payload["login_id"]
    repo = AccountRepository(tenant)
    now = datetime.now(UTC)
    try:
        # One registration per customer at a time: the account lookups and the write under the customer's lock.
        async with serialised(Customer, customer_id):
            payload = await tokens.consume(PURPOSE, token)
            holder = await repo.by_login_id(login_id)
            if holder is not None and holder.customer != customer_id:
                raise TokenError("taken")
            existing = await repo.by_customer(customer_id)
            owners = [a for a in existing if a.role == "owner"] or existing
            target = holder or (owners[0] if owners else None)
            changes = dict(
                login_id=login_id,
                password_hash=payload["password_hash"],
                email=contact,
                status="active",
                must_change_password=False,
                locked_until=None,
                password_changed_at=now,
            )
            if target is not None:
                account = target
                replaced = True
                previous = {"to": contact_address(account), "login_id": account.login_id_display or account.login_id}
                # Replacing the credentials also ends every session of the account (credentials_version).
                await repo.update(account, **changes)
                await _tell_previous_contact(portal, tenant, account, previous, contact)
            else:
                replaced = False
                name = (
                    await Customer.select(Customer.name)
                    .where(Customer.tenant == tenant.slug)
                    .where(Customer.id == customer_id)
                    .first()
                )
                account = await repo.create(
                    customer=customer_id,
                    role="owner",
                    display_name=(name or {}).get("name") or "",
                    recovery_method="email_code",
                    **changes,
                )
            await enqueue(
                portal,
                tenant,
                to=contact,
                template="register_email_done",
                context={"login_id": login_id, "label": login_label(tenant), "replaced": replaced},
            )
            await AuditLog(tenant.slug).record(
                "registration.completed",
                account_id=account.id,
                address=client_address(request),
                customer_id=customer_id,
                replaced=replaced,
            )
    except LoginIdTaken:
        return _login_id_taken(request, tenant)
    except TokenError as exc:
        if exc.reason == "taken":
            return _login_id_taken(request, tenant)
        return _invalid_link(request, exc.reason)
    session_of(request)["register_email_done"] = login_id
    return redirect(f"{PREFIX}/done")


def _login_id_taken(request: Request, tenant) -> Response:
    return render(
        request,
        "identity/register_email_invalid.html",
        status_code=409,
        message=_("この{label}はすでに使用されています。お手数ですが、はじめから登録をやり直してください。").format(
            label=login_label(tenant)
        ),
        prefix=PREFIX,
    )


async def _tell_previous_contact(portal, tenant, account, previous: dict, new_contact: str) -> None:
    """Re-registration replaced an account's ID and password: its contact address until now hears of it,
    with what to do if it was not the customer (the completion mail tells it already when it stays the same)."""
    if not previous["to"] or previous["to"].lower() == new_contact.lower():
        return
    changes = [login_label(tenant), _("パスワード"), _("連絡先メールアドレス")]
    await mail_account_changed(portal, tenant, account, changes, [previous["to"]], login_id=previous["login_id"])


@get(f"{PREFIX}/done", guards=[flow_guard])
async def done_page(request: Request) -> Response:
    login_id = session_of(request).pop("register_email_done")
    if not login_id:
        return redirect("/login")
    return render(request, "identity/register_email_done.html", login_id=login_id)


ROUTES = [confirm_page, confirm_submit, done_page]
