"""Registration where the customer chooses the login ID (``identity.registration.flow = "chosen_id"``).

Steps, all under ``/register/chosen-id``:

1. 認証情報: the ``verify_fields`` of the tenant are matched against the contract holder
   (failed attempts are limited per session and per client address);
2. 初期情報: login ID (with an ID check, with or without JavaScript), password, e-mail, nickname;
3. 確認: [入力画面に戻る] keeps the input, [仮登録する] mails a single-use 本登録手続きURL
   (``identity.tokens.registration_link_minutes``);
4. メール受信確認: the link asks for the password chosen at step 2, then creates the account
   (the login ID is reserved only now, checked again inside the transaction);
5. 登録完了: [そのままログイン] starts a session (new session id).

Steps 4 and 5 (the mailed link onwards) are in ``chosen_id_complete.py``.

The state between steps lives in the server-side session; the password is kept only as its hash.
"""

from __future__ import annotations

import time

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.attempts import AttemptLimit
from mypage.identity.passwords import hash_password_async
from mypage.identity.policy import check_email, check_login_id, check_password
from mypage.identity.tokens import TokenError, Tokens
from mypage.identity.verification import LABELS, VerificationGate, clean
from mypage.mail.outbox import enqueue
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of

PREFIX = "/register/chosen-id"
PURPOSE = "register_chosen"
STATE = "reg_chosen"
FAILS = "reg_chosen_fails"
STATE_MAX_SECONDS = 60 * 60
NICKNAME_MAX = 30
INPUT_MODES = {
    "customer_number": "numeric",
    "phone": "tel",
    "postal_code": "numeric",
    "bank_last4": "numeric",
    "card_last4": "numeric",
}


def flow_tenant(request: Request) -> Tenant:
    tenant = tenant_of(request)
    if tenant.config.identity.registration.flow != "chosen_id":
        raise NotFoundException()
    return tenant


def flow_tokens(request: Request, tenant: Tenant) -> Tokens:
    lifetimes = tenant.config.identity.tokens
    return Tokens(tenant.slug, portal_of(request).settings.secret_key, lifetimes.max_attempts, lifetimes.resend_interval_seconds)


def _state(request: Request) -> dict | None:
    data = session_of(request).get(STATE)
    if not data or int(time.time()) - int(data.get("verified_at", 0)) > STATE_MAX_SECONDS:
        return None
    return data


def link_hours(tenant: Tenant) -> str:
    minutes = tenant.config.identity.tokens.registration_link_minutes
    return str(minutes // 60) if minutes % 60 == 0 else f"{minutes / 60:.1f}"


# ---------------------------------------------------------------- 1) 認証情報


def _verify_fields(tenant: Tenant) -> list[dict]:
    from mypage.content.documents import has_document
    from mypage.web.render import text

    return [
        {
            "name": name,
            "label": text(tenant, f"register.label.{name}", LABELS[name]),
            "help": tenant.config.text(f"register.help.{name}", _locale()) or "",
            "inputmode": INPUT_MODES.get(name, ""),
            "guide": text(tenant, f"register.guide.{name}", "記載箇所の見本はこちら")
            if has_document(tenant, f"help/{name}")
            else "",
        }
        for name in tenant.config.identity.registration.verify_fields
    ]


def _locale() -> str:
    from mypage.i18n import current_locale

    return current_locale()


def _verify_blocked(request: Request, tenant: Tenant) -> bool:
    """Too many failures in this session (the limits per address and per customer are the gate's)."""
    lockout = tenant.config.identity.lockout
    since = int(time.time()) - lockout.lock_minutes * 60
    fails = [t for t in session_of(request).get(FAILS, []) if t > since]
    return len(fails) >= lockout.max_failures


def _render_verify(request: Request, tenant: Tenant, *, values=None, errors=None, form_error=None, status_code=200) -> Response:
    return render(
        request,
        "identity/register_chosen_verify.html",
        status_code=status_code,
        fields=_verify_fields(tenant),
        values=values or {},
        errors=errors or {},
        error_message=form_error,
        action=PREFIX,
    )


@get(PREFIX)
async def verify_page(request: Request) -> Response:
    tenant = flow_tenant(request)
    return _render_verify(request, tenant)


@post(PREFIX)
async def verify_submit(request: Request) -> Response:
    tenant = flow_tenant(request)
    rules = tenant.config.identity.registration
    form = await request.form()
    values, answers, errors = {}, {}, {}
    for name in rules.verify_fields:
        raw = str(form.get(name) or "")[:200]
        values[name] = raw
        answer = clean(name, raw, rules)
        if answer.error:
            errors[name] = answer.error
        else:
            answers[name] = answer.value
    minutes = tenant.config.identity.lockout.lock_minutes
    blocked_message = _("認証に続けて失敗したため、認証を一時的に停止しています。{minutes}分後にもう一度お試しください。").format(
        minutes=minutes
    )
    if _verify_blocked(request, tenant):
        await AuditLog(tenant.slug).record("register.verify_blocked", address=client_address(request))
        return _render_verify(request, tenant, values=values, form_error=blocked_message, status_code=429)
    if errors:
        return _render_verify(request, tenant, values=values, errors=errors, status_code=400)
    verification = await VerificationGate(tenant, client_address(request)).match(answers)
    if verification.blocked:
        await AuditLog(tenant.slug).record("register.verify_blocked", address=client_address(request))
        return _render_verify(request, tenant, values=values, form_error=blocked_message, status_code=429)
    matches = verification.found
    session = session_of(request)
    audit = AuditLog(tenant.slug)
    if len(matches) != 1:
        since = int(time.time()) - minutes * 60
        session[FAILS] = [t for t in session.get(FAILS, []) if t > since] + [int(time.time())]
        await audit.record("register.verify_failed", address=client_address(request), matches=len(matches))
        message = _("入力された内容が契約者情報と一致しません。もう一度お手元の登録書をご確認ください。")
        return _render_verify(request, tenant, values=values, form_error=message, status_code=400)
    customer = matches[0]
    session.pop(FAILS)
    if await AccountRepository(tenant).by_customer(customer["id"]):
        await audit.record("register.already_registered", address=client_address(request), customer_id=customer["id"])
        session.pop(STATE)
        return render(request, "identity/register_chosen_exists.html", status_code=409)
    session[STATE] = {"customer_id": customer["id"], "verified_at": int(time.time()), "values": {}}
    await audit.record("register.verified", address=client_address(request), customer_id=customer["id"])
    return redirect(f"{PREFIX}/profile")


# ---------------------------------------------------------------- 2) 初期情報


def _profile_values(form) -> dict:
    return {
        "login_id": normalize.ascii_text(str(form.get("login_id") or ""))[:100],
        "email": normalize.email(str(form.get("email") or ""))[:254],
        "nickname": normalize.name(str(form.get("nickname") or "")).replace("\u3000", " ")[:100],
    }


async def _id_status(request: Request, tenant: Tenant, login_id: str) -> tuple[str, str]:
    """(``ok`` | ``taken`` | ``invalid`` | ``limited``, message) for the ID check, limited per client address
    (the check tells which IDs exist)."""
    problems = check_login_id(login_id, tenant.config.identity.login_id)
    if problems:
        return "invalid", " ".join(problems)
    checks = AttemptLimit.in_lock_window(tenant, "register.id_check", tenant.config.identity.lockout.id_checks_per_address)
    if not (await checks.claim(client_address(request))).allowed:
        return "limited", _("IDチェックの回数が多すぎます。しばらく時間をおいてからお試しください。")
    if await AccountRepository(tenant).login_id_taken(login_id):
        return "taken", _("このIDは既に使用されています")
    return "ok", _("このIDは利用できます")


def _render_profile(
    request: Request, tenant: Tenant, state: dict, *, values=None, errors=None, id_check=None, status_code=200
) -> Response:
    return render(
        request,
        "identity/register_chosen_profile.html",
        status_code=status_code,
        values=values if values is not None else state.get("values", {}),
        errors=errors or {},
        id_check=id_check,
        password_kept=bool(state.get("password_hash")),
        nickname_max=NICKNAME_MAX,
        action=f"{PREFIX}/profile",
    )


@get(f"{PREFIX}/profile")
async def profile_page(request: Request) -> Response:
    tenant = flow_tenant(request)
    state = _state(request)
    if state is None:
        return redirect(PREFIX)
    return _render_profile(request, tenant, state)


@post(f"{PREFIX}/profile")
async def profile_submit(request: Request) -> Response:
    tenant = flow_tenant(request)
    state = _state(request)
    if state is None:
        return redirect(PREFIX)
    form = await request.form()
    values = _profile_values(form)
    password = str(form.get("password") or "")[:200]
    identity = tenant.config.identity
    session = session_of(request)
    password_errors = check_password(password, identity.password) if password else []
    if password and not password_errors:
        state["password_hash"] = await hash_password_async(password)
    state["values"] = values
    session[STATE] = state
    if form.get("action") == "check":
        status, message = await _id_status(request, tenant, values["login_id"])
        errors = {"password": password_errors} if password_errors else {}
        return _render_profile(
            request, tenant, state, values=values, errors=errors, id_check={"status": status, "message": message}
        )
    errors: dict = {}
    problems = check_login_id(values["login_id"], identity.login_id)
    if problems:
        errors["login_id"] = problems
    elif await AccountRepository(tenant).login_id_taken(values["login_id"]):
        errors["login_id"] = _("このIDは既に使用されています")
    if password_errors:
        errors["password"] = password_errors
    elif not password and not state.get("password_hash"):
        errors["password"] = _("入力してください。")
    email_problems = check_email(values["email"])
    if email_problems:
        errors["email"] = email_problems
    if not values["nickname"]:
        errors["nickname"] = _("入力してください。")
    elif len(values["nickname"]) > NICKNAME_MAX:
        errors["nickname"] = _("{n}文字以内で入力してください。").format(n=NICKNAME_MAX)
    if errors:
        if "password" in errors:
            state.pop("password_hash", None)
            session[STATE] = state
        return _render_profile(request, tenant, state, values=values, errors=errors, status_code=400)
    return redirect(f"{PREFIX}/confirm")


# ---------------------------------------------------------------- 3) 確認 → 4) 仮登録


def _ready(state: dict | None) -> bool:
    return bool(state and state.get("password_hash") and state.get("values", {}).get("login_id"))


@get(f"{PREFIX}/confirm")
async def confirm_page(request: Request) -> Response:
    flow_tenant(request)
    state = _state(request)
    if not _ready(state):
        return redirect(PREFIX if state is None else f"{PREFIX}/profile")
    return render(
        request, "identity/register_chosen_confirm.html", values=state["values"], error_message=None, action=f"{PREFIX}/confirm"
    )


@post(f"{PREFIX}/confirm")
async def confirm_submit(request: Request) -> Response:
    tenant = flow_tenant(request)
    state = _state(request)
    form = await request.form()
    if form.get("action") == "back":
        return redirect(f"{PREFIX}/profile" if state else PREFIX)
    if not _ready(state):
        return redirect(PREFIX if state is None else f"{PREFIX}/profile")
    values = state["values"]
    repo = AccountRepository(tenant)
    session = session_of(request)
    if await repo.by_customer(state["customer_id"]):
        session.pop(STATE)
        return render(request, "identity/register_chosen_exists.html", status_code=409)
    if await repo.login_id_taken(values["login_id"]):
        return _render_profile(request, tenant, state, errors={"login_id": _("このIDは既に使用されています")}, status_code=409)
    tokens = flow_tokens(request, tenant)
    minutes = tenant.config.identity.tokens.registration_link_minutes
    portal = portal_of(request)
    try:
        async with atomic():
            issued = await tokens.issue(
                PURPOSE,
                minutes=minutes,
                subject=f"customer:{state['customer_id']}",
                payload={
                    "customer_id": state["customer_id"],
                    "login_id": values["login_id"],
                    "password_hash": state["password_hash"],
                    "email": values["email"],
                    "nickname": values["nickname"],
                },
            )
            await enqueue(
                portal,
                tenant,
                to=values["email"],
                template="register_chosen_provisional",
                context={
                    "nickname": values["nickname"],
                    "login_id": values["login_id"],
                    "url": f"{portal.base_url(tenant)}{PREFIX}/complete?token={issued.secret}",
                    "hours": link_hours(tenant),
                },
            )
            await AuditLog(tenant.slug).record(
                "register.provisional", address=client_address(request), customer_id=state["customer_id"]
            )
    except TokenError:
        message = _("仮登録の受付から時間がたっていません。しばらく時間をおいてからもう一度お試しください。")
        return render(
            request,
            "identity/register_chosen_confirm.html",
            status_code=429,
            values=values,
            error_message=message,
            action=f"{PREFIX}/confirm",
        )
    session.pop(STATE)
    session["reg_chosen_sent"] = values["email"]
    return redirect(f"{PREFIX}/sent")


@get(f"{PREFIX}/sent")
async def sent_page(request: Request) -> Response:
    tenant = flow_tenant(request)
    email = session_of(request).get("reg_chosen_sent")
    if not email:
        return redirect(PREFIX)
    return render(request, "identity/register_chosen_sent.html", email=email, hours=link_hours(tenant))


# ---------------------------------------------------------------- ID check for scripts (JSON)


@post(f"{PREFIX}/check-id")
async def check_id_json(request: Request) -> dict:
    tenant = flow_tenant(request)
    if _state(request) is None:
        raise NotFoundException()
    login_id = ""
    if (request.headers.get("content-type") or "").startswith("application/json"):
        try:
            body = await request.json()
            login_id = str(body.get("login_id") or "") if isinstance(body, dict) else ""
        except Exception:
            login_id = ""
    else:
        login_id = str((await request.form()).get("login_id") or "")
    status, message = await _id_status(request, tenant, normalize.ascii_text(login_id)[:100])
    return {"status": status, "available": status == "ok", "message": message}


ROUTES = [
    verify_page,
    verify_submit,
    profile_page,
    profile_submit,
    confirm_page,
    confirm_submit,
    sent_page,
    check_id_json,
]
