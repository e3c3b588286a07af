"""Step ``complete``: the confirmation is checked and the account is created (or, when re-registration
replaces credentials, the customer's account gets the new login ID and password on the same row).

The page reached by the mailed link (``/confirm/<token>``, or ``/complete?token=`` when ``/confirm`` is the
確認 page) or the ``/code`` page asks, as configured: the 認証コード (``confirm = "code"``), the password
chosen before (``confirm_password``: wrong tries count on the token) and the 連絡先メールアドレス when the
ID is an address and another one is on file. Then 登録完了: [そのままログイン] after ``confirm_password``,
else a link to the login page. The ID is reserved only now, checked again under the customer's lock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException

from mypage.audit.log import AuditLog
from mypage.db.locks import serialised
from mypage.i18n import gettext as _
from mypage.identity import factors, normalize
from mypage.identity.accounts import AccountRepository, LoginIdTaken
from mypage.identity.messages import link_message
from mypage.identity.passwords import verify_password_async
from mypage.identity.recovery_support import contact_address, login_label, mail_account_changed
from mypage.identity.registration.plan import PURPOSE, STATE, Plan, link_hours, paths, pipeline, state_of, tokens_of
from mypage.identity.tables import OneTimeToken
from mypage.identity.tokens import TokenError, Tokens
from mypage.mail.outbox import enqueue
from mypage.records.tables import Customer
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, redirect, render, session_of

DONE = "registration_done"
DONE_MAX_SECONDS = 15 * 60


class Refused(Exception):
    """``taken`` (the ID went to another customer meanwhile), ``exists`` (the customer registered meanwhile),
    ``invalid``, or a :class:`TokenError` reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


async def _on_file_contact(tenant: Tenant, customer_id: int) -> str:
    """The 連絡先メールアドレス already on file: the existing account's, else the customer record's."""
    for account in await AccountRepository(tenant).by_customer(customer_id):
        if account.email:
            return account.email
    row = await Customer.select(Customer.email).where(Customer.tenant == tenant.slug).where(Customer.id == customer_id).first()
    return (row or {}).get("email") or ""


async def _contact_choices(tenant: Tenant, plan: Plan, payload: dict) -> list[str]:
    choices = [payload["email"]]
    if plan.contact_choice:
        on_file = await _on_file_contact(tenant, int(payload["customer_id"]))
        if on_file and normalize.email(on_file).lower() != normalize.email(payload["email"]).lower():
            choices.append(on_file)
    return choices


def _render_invalid(request: Request, tenant: Tenant, plan: Plan, reason: str) -> Response:
    message = link_message(
        reason,
        expired=_("URLの有効期限が切れています。お手数ですが、はじめから登録をやり直してください。"),
        otherwise=_("URLが正しくないか、有効期限が切れています。お手数ですが、はじめから登録をやり直してください。"),
    )
    help_text = _(
        "仮登録有効期限(仮登録メール送信から {hours} 時間以内)までに本登録を行わなかった場合、再度、認証及び仮登録を実施する必要があります。"
    ).format(hours=link_hours(tenant))
    # 410 (gone) where the link page asks for the password; the other link pages have answered 400 so far.
    status = 410 if plan.confirm_password and reason in ("expired", "used") else 400
    return render(
        request, "identity/register_invalid.html", status_code=status, plan=plan, reason=reason, message=message, help=help_text
    )


def _render_complete(
    request, plan: Plan, payload: dict, choices: list[str], action: str, *, token="", errors=None, status_code=200
):
    return render(
        request,
        "identity/register_complete.html",
        status_code=status_code,
        plan=plan,
        login_id=payload["login_id"],
        choices=choices,
        token=token,
        errors=errors or {},
        action=action,
    )


# ---------------------------------------------------------------- the mailed link


def _link_token(request: Request, form: dict | None = None) -> str:
    if "token" in request.path_params:
        return str(request.path_params["token"])
    return str((form or {}).get("token") or request.query_params.get("token") or "")


async def _landing_page(request: Request) -> Response:
    tenant, plan = pipeline(request)
    if plan.confirm != "link":
        raise NotFoundException()
    token = _link_token(request)
    try:
        payload = await tokens_of(request, tenant).peek(PURPOSE, token)
    except TokenError as exc:
        return _render_invalid(request, tenant, plan, exc.reason)
    choices = await _contact_choices(tenant, plan, payload)
    return _render_complete(request, plan, payload, choices, _landing_action(plan, token), token=token)


def _landing_action(plan: Plan, token: str) -> str:
    return plan.link_path(token).split("?", 1)[0] if plan.review else plan.link_path(token)


async def _token_row(tokens: Tokens, secret: str) -> dict | None:
    if not secret or len(secret) > 200:
        return None
    return await (
        OneTimeToken.select()
        .where(OneTimeToken.tenant == tokens.tenant)
        .where(OneTimeToken.purpose == PURPOSE)
        .where(OneTimeToken.token_hash == tokens.digest(secret))
        .first()
        .output(load_json=True)
    )


async def _landing_submit(request: Request) -> Response:
    tenant, plan = pipeline(request)
    if plan.confirm != "link":
        raise NotFoundException()
    form = dict(await request.form())
    token = _link_token(request, form)
    tokens = tokens_of(request, tenant)
    try:
        payload = await tokens.peek(PURPOSE, token)
    except TokenError as exc:
        return _render_invalid(request, tenant, plan, exc.reason)
    choices = await _contact_choices(tenant, plan, payload)
    action = _landing_action(plan, token)
    contact, errors = _contact(form, choices)
    if plan.confirm_password:
        password = str(form.get("password") or "")[:200]
        row = await _token_row(tokens, token)
        if row is None or row["attempts"] >= tokens.max_attempts:
            await tokens.revoke(PURPOSE, row["subject"] if row else "")
            return _render_invalid(request, tenant, plan, "used")
        if not password:
            errors["password"] = _("入力してください。")
        else:
            try:
                attempts = await tokens.count_attempt(row)
            except TokenError:
                return _render_invalid(request, tenant, plan, "used")
            if not await verify_password_async(payload.get("password_hash"), password):
                await AuditLog(tenant.slug).record(
                    "register.confirm_failed", address=client_address(request), customer_id=payload.get("customer_id")
                )
                if attempts >= tokens.max_attempts:
                    await tokens.revoke(PURPOSE, row["subject"])
                    return _render_invalid(request, tenant, plan, "used")
                errors["password"] = _("パスワードが正しくありません。仮登録時に設定したパスワードを入力してください。")
    if errors:
        return _render_complete(request, plan, payload, choices, action, token=token, errors=errors, status_code=400)
    return await _finish(request, tenant, plan, payload, contact, token=token)


def _contact(form: dict, choices: list[str]) -> tuple[str, dict]:
    choice = str(form.get("contact") or ("0" if len(choices) == 1 else ""))
    if choice not in [str(i) for i in range(len(choices))]:
        return "", {"contact": _("連絡先メールアドレスを選択してください。")}
    return choices[int(choice)], {}


landing_page = get(paths("complete") + [p + "/confirm/{token:str}" for p in paths()], name="register_landing_page")(_landing_page)
landing_submit = post(paths("complete") + [p + "/confirm/{token:str}" for p in paths()], name="register_landing_submit")(
    _landing_submit
)


# ---------------------------------------------------------------- the mailed code


def _code_state(request: Request, plan: Plan) -> dict | None:
    state = state_of(request)
    return state if plan.confirm == "code" and state and state.get("code_for") else None


def _state_payload(state: dict) -> dict:
    values = state["values"]
    return {
        "customer_id": state["customer_id"],
        "login_id": values["login_id"],
        "email": state["address"],
        "nickname": values.get("nickname", ""),
    }


@get(paths("code"))
async def code_page(request: Request) -> Response:
    tenant, plan = pipeline(request)
    state = _code_state(request, plan)
    if state is None:
        return redirect(plan.path())
    payload = _state_payload(state)
    choices = await _contact_choices(tenant, plan, payload)
    return _render_complete(request, plan, payload, choices, plan.path("code"))


@post(paths("code"))
async def code_submit(request: Request) -> Response:
    tenant, plan = pipeline(request)
    state = _code_state(request, plan)
    if state is None:
        return redirect(plan.path())
    form = dict(await request.form())
    payload = _state_payload(state)
    choices = await _contact_choices(tenant, plan, payload)
    contact, errors = _contact(form, choices)
    code = str(form.get("code") or "").strip()[:20]
    if not code:
        errors["code"] = _("入力してください。")
    if plan.confirm_password and not await verify_password_async(
        state.get("password_hash"), str(form.get("password") or "")[:200]
    ):
        errors["password"] = _("パスワードが正しくありません。仮登録時に設定したパスワードを入力してください。")
    if errors:
        return _render_complete(request, plan, payload, choices, plan.path("code"), errors=errors, status_code=400)
    try:
        confirmed = await tokens_of(request, tenant).verify_code(PURPOSE, state["code_for"], code)
    except TokenError as exc:
        if exc.reason == "invalid":
            errors = {"code": _("認証コードが正しくありません。")}
            return _render_complete(request, plan, payload, choices, plan.path("code"), errors=errors, status_code=400)
        session_of(request).pop(STATE)
        return _render_invalid(request, tenant, plan, exc.reason)
    session_of(request).pop(STATE)
    return await _finish(request, tenant, plan, confirmed, contact)


# ---------------------------------------------------------------- the account


async def _finish(request: Request, tenant: Tenant, plan: Plan, payload: dict, contact: str, *, token: str = "") -> Response:
    customer_id = int(payload["customer_id"])
    login_id = payload["login_id"]
    repo = AccountRepository(tenant)
    portal = portal_of(request)
    try:
        # One registration per customer at a time: the checks and the write under the customer's lock.
        async with serialised(Customer, customer_id):
            customer = (
                await Customer.select(Customer.name)
                .where(Customer.tenant == tenant.slug)
                .where(Customer.id == customer_id)
                .first()
            )
            if customer is None:
                raise Refused("invalid")
            if token:
                payload = await tokens_of(request, tenant).consume(PURPOSE, token)
            holder = await repo.by_login_id(login_id)
            if holder is not None and holder.customer != customer_id:
                raise Refused("taken")
            existing = await repo.by_customer(customer_id)
            if existing and not plan.replaces_existing:
                raise Refused("exists")
            owners = [a for a in existing if a.role == "owner"] or existing
            target = holder or (owners[0] if owners else None)
            changes = dict(
                login_id=login_id,
                password_hash=payload["password_hash"],
                email=contact,
                status="active",
                must_change_password=False,
                locked_until=None,
                password_changed_at=datetime.now(UTC),
            )
            if payload.get("nickname"):
                changes["nickname"] = payload["nickname"]
            if target is not None:
                account = target
                previous = {"to": contact_address(account), "login_id": account.login_id_display or account.login_id}
                # Replacing the credentials also ends every session of the account (credentials_version).
                await repo.update(account, **changes)
                await _tell_previous_contact(portal, tenant, account, previous, contact)
            else:
                methods = tenant.config.identity.recovery.methods
                account = await repo.create(
                    customer=customer_id,
                    role="owner",
                    display_name=customer.get("name") or "",
                    recovery_method="email_code" if "email_code" in methods else "",
                    **changes,
                )
            await enqueue(
                portal,
                tenant,
                to=contact,
                template="register_email_done",
                context={"login_id": login_id, "label": login_label(tenant), "replaced": target is not None},
            )
            await AuditLog(tenant.slug).record(
                "register.completed",
                account_id=account.id,
                address=client_address(request),
                customer_id=customer_id,
                replaced=target is not None,
            )
    except TokenError as exc:
        return _render_invalid(request, tenant, plan, exc.reason)
    except LoginIdTaken:
        return render(request, "identity/register_taken.html", status_code=409, plan=plan)
    except Refused as exc:
        if exc.reason == "taken":
            return render(request, "identity/register_taken.html", status_code=409, plan=plan)
        if exc.reason == "exists":
            return render(request, "identity/register_exists.html", status_code=409, plan=plan)
        return _render_invalid(request, tenant, plan, exc.reason)
    session_of(request)[DONE] = {"account_id": account.id, "at": int(time.time()), "login_id": login_id}
    return redirect(plan.path("done"))


async def _tell_previous_contact(portal, tenant: Tenant, account, previous: dict, new_contact: str) -> None:
    """Re-registration replaced an account's ID and password: its contact address until now hears of it
    (the completion mail tells the new one)."""
    if not previous["to"] or previous["to"].lower() == new_contact.lower():
        return
    changes = [login_label(tenant), _("パスワード"), _("連絡先メールアドレス")]
    await mail_account_changed(portal, tenant, account, changes, [previous["to"]], login_id=previous["login_id"])


@get(paths("done"))
async def done_page(request: Request) -> Response:
    _tenant, plan = pipeline(request)
    done = session_of(request).get(DONE)
    if not plan.confirm_password:
        session_of(request).pop(DONE)
        if not done:
            return redirect("/login")
    return render(
        request,
        "identity/register_done.html",
        plan=plan,
        can_login=bool(done) and plan.confirm_password,
        login_id=(done or {}).get("login_id", ""),
        action=plan.path("login"),
    )


@post(paths("login"))
async def login_now(request: Request) -> Response:
    tenant, plan = pipeline(request)
    if not plan.confirm_password:
        raise NotFoundException()
    done = session_of(request).pop(DONE)
    if not done or int(time.time()) - int(done.get("at", 0)) > DONE_MAX_SECONDS:
        return redirect("/login")
    account = await AccountRepository(tenant).by_id(done.get("account_id"))
    if account is None or account.status == "disabled":
        return redirect("/login")
    return await factors.after_password(request, tenant, account, "/")


ROUTES = [landing_page, landing_submit, code_page, code_submit, done_page, login_now]
