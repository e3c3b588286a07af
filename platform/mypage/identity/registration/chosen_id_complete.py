"""Registration with a chosen login ID, steps 4 and 5 (see ``chosen_id.py``): the mailed 本登録手続きURL asks
for the password chosen at step 2 and creates the account (the login ID reserved only now, checked again inside
the transaction); 登録完了 offers [そのままログイン]."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from litestar import Request, Response, get, post

from mypage.audit.log import AuditLog
from mypage.db.locks import serialised
from mypage.i18n import gettext as _
from mypage.identity import factors
from mypage.identity.accounts import AccountRepository, LoginIdTaken
from mypage.identity.passwords import verify_password_async
from mypage.identity.registration.chosen_id import PREFIX, PURPOSE, flow_tenant, flow_tokens, link_hours
from mypage.identity.tables import OneTimeToken
from mypage.identity.tokens import TokenError, Tokens
from mypage.records.tables import Customer
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, redirect, render, session_of

DONE = "reg_chosen_done"
DONE_MAX_SECONDS = 15 * 60


class _Abort(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _expired_help(tenant: Tenant) -> str:
    return _(
        "仮登録有効期限(仮登録メール送信から {hours} 時間以内)までに本登録を行わなかった場合、再度、認証及び仮登録を実施する必要があります。"
    ).format(hours=link_hours(tenant))


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


def _render_invalid(request: Request, tenant: Tenant, reason: str) -> Response:
    return render(
        request,
        "identity/register_chosen_invalid.html",
        status_code=410 if reason in ("expired", "used") else 400,
        reason=reason,
        help=_expired_help(tenant),
    )


def _render_complete(request: Request, token: str, *, errors=None, status_code=200) -> Response:
    return render(
        request,
        "identity/register_chosen_complete.html",
        status_code=status_code,
        token=token,
        errors=errors or {},
        action=f"{PREFIX}/complete",
    )


@get(f"{PREFIX}/complete")
async def complete_page(request: Request) -> Response:
    tenant = flow_tenant(request)
    token = request.query_params.get("token") or ""
    try:
        await flow_tokens(request, tenant).peek(PURPOSE, token)
    except TokenError as exc:
        return _render_invalid(request, tenant, exc.reason)
    return _render_complete(request, token)


@post(f"{PREFIX}/complete")
async def complete_submit(request: Request) -> Response:
    tenant = flow_tenant(request)
    form = await request.form()
    token = str(form.get("token") or "")
    password = str(form.get("password") or "")[:200]
    tokens = flow_tokens(request, tenant)
    audit = AuditLog(tenant.slug)
    try:
        payload = await tokens.peek(PURPOSE, token)
    except TokenError as exc:
        return _render_invalid(request, tenant, exc.reason)
    row = await _token_row(tokens, token)
    if row is None or row["attempts"] >= tokens.max_attempts:
        await tokens.revoke(PURPOSE, row["subject"] if row else "")
        return _render_invalid(request, tenant, "used")
    if not password:
        return _render_complete(request, token, errors={"password": _("入力してください。")}, status_code=400)
    try:
        attempts = await tokens.count_attempt(row)
    except TokenError:
        return _render_invalid(request, tenant, "used")
    if not await verify_password_async(payload.get("password_hash"), password):
        await audit.record("register.confirm_failed", address=client_address(request), customer_id=payload.get("customer_id"))
        if attempts >= tokens.max_attempts:
            await tokens.revoke(PURPOSE, row["subject"])
            return _render_invalid(request, tenant, "used")
        message = _("パスワードが正しくありません。仮登録時に設定したパスワードを入力してください。")
        return _render_complete(request, token, errors={"password": message}, status_code=400)
    repo = AccountRepository(tenant)
    try:
        # One registration per customer at a time: the checks and the new account under the customer's lock.
        async with serialised(Customer, payload["customer_id"]):
            customer_id = payload["customer_id"]
            exists = await Customer.count().where(Customer.tenant == tenant.slug).where(Customer.id == customer_id)
            if not exists:
                raise _Abort("invalid")
            if await repo.by_customer(customer_id):
                raise _Abort("exists")
            if await repo.login_id_taken(payload["login_id"]):
                raise _Abort("taken")
            await tokens.consume(PURPOSE, token)
            account = await repo.create(
                login_id=payload["login_id"],
                customer=customer_id,
                password_hash=payload["password_hash"],
                email=payload["email"],
                nickname=payload["nickname"],
                role="owner",
                status="active",
                password_changed_at=datetime.now(UTC),
            )
            await audit.record(
                "register.completed", account_id=account.id, address=client_address(request), customer_id=customer_id
            )
    except TokenError as exc:
        return _render_invalid(request, tenant, exc.reason)
    except LoginIdTaken:
        return render(request, "identity/register_chosen_taken.html", status_code=409)
    except _Abort as exc:
        if exc.reason == "exists":
            return render(request, "identity/register_chosen_exists.html", status_code=409)
        if exc.reason == "taken":
            return render(request, "identity/register_chosen_taken.html", status_code=409)
        return _render_invalid(request, tenant, exc.reason)
    session_of(request)[DONE] = {"account_id": account.id, "at": int(time.time())}
    return redirect(f"{PREFIX}/done")


@get(f"{PREFIX}/done")
async def done_page(request: Request) -> Response:
    flow_tenant(request)
    done = session_of(request).get(DONE)
    return render(request, "identity/register_chosen_done.html", can_login=bool(done), action=f"{PREFIX}/login")


@post(f"{PREFIX}/login")
async def login_now(request: Request) -> Response:
    tenant = flow_tenant(request)
    session = session_of(request)
    done = session.pop(DONE)
    if not done or int(time.time()) - int(done.get("at", 0)) > DONE_MAX_SECONDS:
        return redirect("/login")
    account = await AccountRepository(tenant).by_id(done.get("account_id"))
    if account is None or account.status == "disabled":
        return redirect("/login")
    return await factors.after_password(request, tenant, account, "/")


ROUTES = [complete_page, complete_submit, done_page, login_now]
