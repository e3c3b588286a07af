"""Registration where the portal issues the login ID (``identity.registration.flow = "issued_id"``).

Pages, all under ``/register/issued-id``:

1. 初回登録 (新規作成): e-mail address, the tenant's ``verify_fields`` (e.g. 契約番号, 郵便番号, お客様名)
   and 利用規約に同意 → [送信]. A match creates a ``pending`` account with a generated login ID and
   仮パスワード (:func:`mypage.identity.issued.create_issued_account`) and mails them with a first-login
   URL; no match answers 「指定の顧客は存在しません。」. Failed matches are limited per client address.
2. ``/register/issued-id/login/<token>`` (the mailed URL, valid ``registration_link_minutes``):
   初回登録 — the issued login ID and 仮パスワード (wrong tries are counted on the link, at most
   ``max_attempts``), then パスワード設定 (new password twice) → 「ここまでで初回登録は完了です。」.

The same first-login URL serves accounts created by member management (ユーザ管理), so those pages do
not depend on the tenant's registration flow; the registration form itself answers 404 elsewhere.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from mypage.audit.log import AuditLog
from mypage.db.locks import serialised
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.issued import FIRST_LOGIN_PREFIX, FIRST_LOGIN_PURPOSE, create_issued_account, link_validity, tokens_for
from mypage.identity.passwords import hash_password_async, verify_password_async
from mypage.identity.policy import check_email, check_password
from mypage.identity.recovery_support import login_label
from mypage.identity.tables import OneTimeToken
from mypage.identity.tokens import TokenError
from mypage.identity.verification import LABELS, VerificationGate, clean
from mypage.records.tables import Customer
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of, text

PREFIX = "/register/issued-id"
FIRST_LOGIN_STATE = "issued_first_login"
FIRST_LOGIN_MAX_SECONDS = 30 * 60
SENT_FLAG = "issued_register_sent"
INPUT_MODES = {
    "customer_number": "numeric",
    "phone": "tel",
    "postal_code": "numeric",
    "bank_last4": "numeric",
    "card_last4": "numeric",
}
AUTOCOMPLETE = {"postal_code": "postal-code", "name": "name", "phone": "tel"}


def _tenant(request: Request) -> Tenant:
    tenant = tenant_of(request)
    if tenant.config.identity.registration.flow != "issued_id":
        raise NotFoundException()
    return tenant


def field_label(field: str) -> str:
    return _(LABELS[field])


def field_rule(tenant: Tenant, field: str) -> str:
    """The hint under a field: the tenant's ``texts."register.rule.<field>"`` or a generic one."""
    own = tenant.config.text(f"register.rule.{field}", _locale())
    if own:
        return own
    defaults = {
        "contract_number": _("ご契約時の書面に記載の契約番号を入力してください。"),
        "postal_code": _("ご契約住所の郵便番号を入力してください（ハイフンは不要です）。"),
        "name": _("ご契約のお客様名を入力してください。"),
    }
    if field == "name" and tenant.config.identity.registration.corporate_forms:
        return defaults["name"] + _("※一部法人格を除く")
    return defaults.get(field, "")


def _validity_text(tenant: Tenant) -> str:
    amount, unit = link_validity(tenant.config.identity.tokens.registration_link_minutes)
    if unit == "days":
        return _("{n}日").format(n=amount)
    if unit == "hours":
        return _("{n}時間").format(n=amount)
    return _("{n}分").format(n=amount)


# ---------------------------------------------------------------- 初回登録 (新規作成)


def _form(request: Request, tenant: Tenant, *, values=None, errors=None, form_error=None, status_code=200) -> Response:
    rules = tenant.config.identity.registration
    fields = [
        {
            "name": f,
            "label": field_label(f),
            "rule": field_rule(tenant, f),
            "inputmode": INPUT_MODES.get(f, ""),
            "autocomplete": AUTOCOMPLETE.get(f, ""),
        }
        for f in rules.verify_fields
        if f != "email"
    ]
    return render(
        request,
        "identity/register_issued_form.html",
        status_code=status_code,
        fields=fields,
        values=values or {},
        errors=errors or {},
        form_error=form_error,
        action=PREFIX,
    )


@get(PREFIX)
async def register_page(request: Request) -> Response:
    tenant = _tenant(request)
    return _form(request, tenant)


@post(PREFIX)
async def register_submit(request: Request) -> Response:
    tenant = _tenant(request)
    rules = tenant.config.identity.registration
    form = await request.form()
    address = client_address(request)
    audit = AuditLog(tenant.slug)
    values = {k: (form.get(k) or "")[:200] for k in ("email", *rules.verify_fields)}
    values["terms"] = form.get("terms") == "1"
    errors: dict[str, str] = {}
    email = normalize.email(values["email"])
    if rules.collect_email or "email" in rules.verify_fields:
        problems = check_email(email)
        if problems:
            errors["email"] = problems[0]
    answers: dict[str, str] = {}
    for name in rules.verify_fields:
        answer = clean(name, form.get(name) or "", rules)
        if answer.error:
            errors[name] = answer.error
        else:
            answers[name] = answer.value
    if rules.require_terms and not values["terms"]:
        errors["terms"] = _("利用規約に同意してください。")
    if errors:
        return _form(request, tenant, values=values, errors=errors, status_code=400)

    verification = await VerificationGate(tenant, address).match(answers)
    if verification.blocked:
        await audit.record("register.address_limited", address=address)
        return _form(
            request,
            tenant,
            values=values,
            status_code=429,
            form_error=_("短時間に多くの登録失敗がありました。{minutes}分ほど時間をおいてからお試しください。").format(
                minutes=verification.minutes
            ),
        )
    matches = verification.found
    if len(matches) != 1:
        await audit.record("register.no_match", address=address, matches=len(matches))
        return _form(request, tenant, values=values, status_code=400, form_error=_("指定の顧客は存在しません。"))
    customer = matches[0]
    repo = AccountRepository(tenant)
    # One registration per customer at a time: the owner check and the new account under the customer's lock.
    async with serialised(Customer, customer["id"]):
        owners = [a for a in await repo.by_customer(customer["id"]) if a.role == "owner"]
        if any(a.status != "pending" for a in owners):
            await audit.record("register.already_registered", address=address, customer_id=customer["id"])
            return _form(
                request,
                tenant,
                values=values,
                status_code=409,
                form_error=_(
                    "このご契約は既に登録されています。{label}またはパスワードをお忘れの場合は、ログイン画面の「{link}」からお手続きください。"
                ).format(label=login_label(tenant), link=text(tenant, "link.forgot", "IDまたはパスワードをお忘れの方")),
            )
        for old in owners:  # an unfinished registration is replaced by the new one
            await repo.delete(old)
        account, _temporary = await create_issued_account(
            portal_of(request),
            tenant,
            customer_id=customer["id"],
            email=email,
            display_name=customer.get("name") or "",
            role="owner",
        )
        await audit.record(
            "register.issued", account_id=account.id, address=address, customer_id=customer["id"], replaced=len(owners)
        )
    session_of(request)[SENT_FLAG] = int(time.time())
    return redirect(f"{PREFIX}/sent")


@get(f"{PREFIX}/sent")
async def register_sent(request: Request) -> Response:
    tenant = _tenant(request)
    if not session_of(request).get(SENT_FLAG):
        return redirect(PREFIX)
    return render(request, "identity/register_issued_sent.html", validity=_validity_text(tenant))


# ---------------------------------------------------------------- 初回ログイン (mailed URL)


async def _link(request: Request, token: str) -> tuple[dict | None, str]:
    """The token row of a usable first-login link, or ``(None, reason)``."""
    tenant = tenant_of(request)
    tokens = tokens_for(portal_of(request), tenant)
    try:
        payload = await tokens.peek(FIRST_LOGIN_PURPOSE, token)
    except TokenError as exc:
        return None, exc.reason
    row = await (
        OneTimeToken.select()
        .where(OneTimeToken.tenant == tenant.slug)
        .where(OneTimeToken.purpose == FIRST_LOGIN_PURPOSE)
        .where(OneTimeToken.token_hash == tokens.digest(token))
        .first()
    )
    if row is None:
        return None, "invalid"
    if row["attempts"] >= tenant.config.identity.tokens.max_attempts:
        return None, "too_many_attempts"
    account = await AccountRepository(tenant).by_id(payload.get("account_id") or row["account"])
    if account is None or account.status == "disabled":
        return None, "invalid"
    if account.status != "pending":
        return None, "used"
    return {"row": row, "account": account, "digest": tokens.digest(token)}, ""


def _invalid(request: Request, reason: str) -> Response:
    tenant = tenant_of(request)
    status = 410 if reason in ("expired", "used", "too_many_attempts") else 404
    return render(
        request,
        "identity/first_login_invalid.html",
        status_code=status,
        reason=reason,
        validity=_validity_text(tenant),
        register_path="/register" if tenant.config.identity.registration.flow == "issued_id" else "",
    )


def _credentials_page(request: Request, token: str, *, values=None, errors=None, form_error=None, status_code=200) -> Response:
    return render(
        request,
        "identity/first_login_credentials.html",
        status_code=status_code,
        action=f"{FIRST_LOGIN_PREFIX}/{token}",
        values=values or {},
        errors=errors or {},
        form_error=form_error,
    )


def _password_page(request: Request, token: str, *, errors=None, status_code=200) -> Response:
    return render(
        request,
        "identity/first_login_password.html",
        status_code=status_code,
        action=f"{FIRST_LOGIN_PREFIX}/{token}",
        errors=errors or {},
    )


@get(f"{FIRST_LOGIN_PREFIX}/{{token:str}}")
async def first_login_page(request: Request, token: FromPath[str]) -> Response:
    link, reason = await _link(request, token)
    if link is None:
        return _invalid(request, reason)
    state = session_of(request).get(FIRST_LOGIN_STATE)
    if _state_matches(state, link):
        return _password_page(request, token)
    return _credentials_page(request, token)


def _state_matches(state: dict | None, link: dict) -> bool:
    return bool(
        state
        and state.get("digest") == link["digest"]
        and state.get("account_id") == link["account"].id
        and int(time.time()) - int(state.get("at", 0)) <= FIRST_LOGIN_MAX_SECONDS
    )


@post(f"{FIRST_LOGIN_PREFIX}/{{token:str}}")
async def first_login_submit(request: Request, token: FromPath[str]) -> Response:
    tenant = tenant_of(request)
    link, reason = await _link(request, token)
    if link is None:
        return _invalid(request, reason)
    form = await request.form()
    if form.get("step") == "password":
        return await _set_password(request, tenant, token, link, form)
    return await _check_credentials(request, tenant, token, link, form)


async def _check_credentials(request: Request, tenant: Tenant, token: str, link: dict, form) -> Response:
    account = link["account"]
    audit = AuditLog(tenant.slug)
    address = client_address(request)
    login_id = (form.get("login_id") or "").strip()[:100]
    temporary = (form.get("temporary_password") or "").strip()[:100]
    errors = {}
    if not login_id:
        errors["login_id"] = _("入力してください。")
    if not temporary:
        errors["temporary_password"] = _("入力してください。")
    if errors:
        return _credentials_page(request, token, values={"login_id": login_id}, errors=errors, status_code=400)
    repo = AccountRepository(tenant)
    tokens = tokens_for(portal_of(request), tenant)
    try:
        attempts = await tokens.count_attempt(link["row"])
    except TokenError as exc:
        return _invalid(request, exc.reason)
    id_ok = repo.key(login_id) == account.login_id
    password_ok = await verify_password_async(account.password_hash, temporary)
    if not (id_ok and password_ok):
        await audit.record("register.first_login_failed", account_id=account.id, address=address, attempts=attempts)
        if attempts >= tenant.config.identity.tokens.max_attempts:
            await (
                OneTimeToken.update({OneTimeToken.used_at: datetime.now(UTC)})
                .where(OneTimeToken.tenant == tenant.slug)
                .where(OneTimeToken.id == link["row"]["id"])
            )
            await audit.record("register.first_login_locked", account_id=account.id, address=address)
            return _invalid(request, "too_many_attempts")
        label = tenant.config.identity.login_id.label.get(_locale())
        return _credentials_page(
            request,
            token,
            values={"login_id": login_id},
            status_code=400,
            form_error=_("{label}または仮パスワードが正しくありません。").format(label=label),
        )
    session = session_of(request)
    session.rotate()
    session[FIRST_LOGIN_STATE] = {"digest": link["digest"], "account_id": account.id, "at": int(time.time())}
    await audit.record("register.first_login_verified", account_id=account.id, address=address)
    return _password_page(request, token)


async def _set_password(request: Request, tenant: Tenant, token: str, link: dict, form) -> Response:
    session = session_of(request)
    if not _state_matches(session.get(FIRST_LOGIN_STATE), link):
        return _credentials_page(
            request,
            token,
            status_code=400,
            form_error=_("もう一度{label}と仮パスワードを入力してください。").format(label=login_label(tenant)),
        )
    account = link["account"]
    password = form.get("password") or ""
    confirm = form.get("password_confirm") or ""
    errors = {}
    problems = check_password(password, tenant.config.identity.password)
    if problems:
        errors["password"] = problems
    elif await verify_password_async(account.password_hash, password):
        errors["password"] = _("仮パスワードとは異なるパスワードを設定してください。")
    elif AccountRepository(tenant).key(password) == account.login_id:
        errors["password"] = _("{label}と同じ文字列はパスワードに使用できません。").format(label=login_label(tenant))
    if not confirm:
        errors["password_confirm"] = _("入力してください。")
    elif password != confirm:
        errors["password_confirm"] = _("パスワードが一致しません。")
    if errors:
        return _password_page(request, token, errors=errors, status_code=400)
    tokens = tokens_for(portal_of(request), tenant)
    new_hash = await hash_password_async(password)
    try:
        async with atomic():
            await tokens.consume(FIRST_LOGIN_PURPOSE, token)
            await AccountRepository(tenant).update(
                account,
                password_hash=new_hash,
                status="active",
                must_change_password=False,
                password_changed_at=datetime.now(UTC),
                locked_until=None,
            )
            await AuditLog(tenant.slug).record("register.completed", account_id=account.id, address=client_address(request))
    except TokenError as exc:
        return _invalid(request, exc.reason)
    session.pop(FIRST_LOGIN_STATE)
    return render(request, "identity/first_login_done.html", access_id=account.login_id_display or account.login_id)


def _locale() -> str:
    from mypage.i18n import current_locale

    return current_locale()


ROUTES = [register_page, register_submit, register_sent, first_login_page, first_login_submit]
