"""The first login of an account with issued credentials (the ``complete`` step of the registration pipeline
for issued IDs, and of accounts created by member management, ユーザ管理): the mailed URL
``/register/issued-id/login/<token>`` (valid ``tokens.registration_link_minutes``) asks the issued login ID
and 仮パスワード (wrong tries are counted on the link, at most ``max_attempts``), then パスワード設定 (new
password twice, and the nickname when ``collect_nickname``) → 「ここまでで初回登録は完了です。」.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from litestar import Request, Response, get, post
from litestar.params import FromPath

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import current_locale
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.issued import FIRST_LOGIN_PREFIX, FIRST_LOGIN_PURPOSE, tokens_for
from mypage.identity.passwords import hash_password_async, verify_password_async
from mypage.identity.policy import check_password
from mypage.identity.recovery_support import login_label
from mypage.identity.registration.plan import plan_of, validity_text
from mypage.identity.tables import OneTimeToken
from mypage.identity.tokens import TokenError
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, render, session_of, tenant_of

FIRST_LOGIN_STATE = "issued_first_login"
FIRST_LOGIN_MAX_SECONDS = 30 * 60
NICKNAME_MAX = 30


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
        validity=validity_text(tenant),
        register_path="/register" if plan_of(tenant).confirm == "first_login" else "",
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


def _asks_nickname(request: Request) -> bool:
    return tenant_of(request).config.identity.registration.collect_nickname


def _password_page(request: Request, token: str, *, errors=None, values=None, status_code=200) -> Response:
    return render(
        request,
        "identity/first_login_password.html",
        status_code=status_code,
        action=f"{FIRST_LOGIN_PREFIX}/{token}",
        errors=errors or {},
        values=values or {},
        nickname=_asks_nickname(request),
        nickname_max=NICKNAME_MAX,
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
        label = tenant.config.identity.login_id.label.get(current_locale())
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
    errors: dict[str, str | list[str]] = {}
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
    nickname = normalize.name(str(form.get("nickname") or "")).replace("\u3000", " ")[:100]
    asks_nickname = _asks_nickname(request)
    if asks_nickname:
        if not nickname:
            errors["nickname"] = _("入力してください。")
        elif len(nickname) > NICKNAME_MAX:
            errors["nickname"] = _("{n}文字以内で入力してください。").format(n=NICKNAME_MAX)
    if errors:
        return _password_page(request, token, errors=errors, values={"nickname": nickname}, status_code=400)
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
                nickname=nickname if asks_nickname else account.nickname,
            )
            await AuditLog(tenant.slug).record("register.completed", account_id=account.id, address=client_address(request))
    except TokenError as exc:
        return _invalid(request, exc.reason)
    session.pop(FIRST_LOGIN_STATE)
    return render(request, "identity/first_login_done.html", access_id=account.login_id_display or account.login_id)


ROUTES = [first_login_page, first_login_submit]
