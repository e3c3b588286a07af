"""Authenticator-app second factor (TOTP, RFC 6238) with one-time recovery codes.

Offered where ``identity.totp_optional`` is true (or ``"totp"`` is a login factor):

- ``/account/security``: status; set up (QR code as an SVG ``data:`` URI, confirmed with a code),
  show 10 recovery codes once (only their keyed hashes are stored), new recovery codes, turn off;
- ``/login/totp``: the login step after the password (see :mod:`mypage.identity.factors`); takes a
  6-digit code (each time step is accepted once) or a recovery code (single use);
- ``/login/totp_setup``: where the app is required (factor ``totp``) and the account has none yet, the
  login step sets it up (as on the security page), shows the recovery codes once, then the login goes on.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

import pyotp
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity import factors, normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.attempts import AttemptLimit
from mypage.identity.login import locked_minutes_left
from mypage.identity.reauth import Reauth, blocked_message, check_current_password
from mypage.identity.recovery_support import contact_address, mail_account_changed
from mypage.identity.session_auth import current_account, keep_session, login_required
from mypage.identity.tables import Account, OneTimeToken, RecoveryCode
from mypage.identity.tokens import Tokens
from mypage.tenancy.registry import Tenant
from mypage.web.qrcode import qr_data_uri
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of

SECURITY = "/account/security"
RECOVERY_CODES = 10
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
SETUP_KEY = "totp_setup"
CODES_KEY = "totp_codes_once"
SETUP_MAX_SECONDS = 15 * 60
STEP_PURPOSE = "totp_step"


def available(tenant: Tenant) -> bool:
    identity = tenant.config.identity
    return identity.totp_optional or "totp" in identity.factors


def _guard_available(request: Request) -> Tenant:
    tenant = tenant_of(request)
    if not available(tenant):
        raise NotFoundException()
    return tenant


def _secret_key(request: Request) -> str:
    return portal_of(request).settings.secret_key


# ---------------------------------------------------------------- codes


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    codes: list[str] = []
    while len(codes) < count:
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        if code not in codes:
            codes.append(code)
    return codes


def clean_code(raw: str) -> str:
    """``ＡＢＣＤＥ－ｆｇｈｊｋ`` / ``abcde fghjk`` → ``abcdefghjk``; ``123 456`` → ``123456``."""
    return re.sub(r"[\s\-]", "", normalize.login_id(raw or "", case_insensitive=True))


def recovery_hash(secret_key: str, tenant: str, account_id: int, code: str) -> str:
    message = f"{tenant}:{account_id}:{clean_code(code)}".encode()
    return hmac.new(f"{secret_key}:recovery".encode(), message, hashlib.sha256).hexdigest()


async def store_recovery_codes(secret_key: str, tenant: str, account_id: int, codes: list[str]) -> None:
    await RecoveryCode.delete().where(RecoveryCode.tenant == tenant).where(RecoveryCode.account == account_id)
    await RecoveryCode.insert(
        *[
            RecoveryCode(tenant=tenant, account=account_id, code_hash=recovery_hash(secret_key, tenant, account_id, c))
            for c in codes
        ]
    )


async def remaining_codes(tenant: str, account_id: int) -> int:
    return await (
        RecoveryCode.count()
        .where(RecoveryCode.tenant == tenant)
        .where(RecoveryCode.account == account_id)
        .where(RecoveryCode.used_at.is_null())
    )


async def use_recovery_code(secret_key: str, tenant: str, account_id: int, code: str) -> bool:
    if not 6 <= len(clean_code(code)) <= 20:
        return False
    updated = await (
        RecoveryCode.update({RecoveryCode.used_at: datetime.now(UTC)})
        .where(RecoveryCode.tenant == tenant)
        .where(RecoveryCode.account == account_id)
        .where(RecoveryCode.code_hash == recovery_hash(secret_key, tenant, account_id, code))
        .where(RecoveryCode.used_at.is_null())
        .returning(RecoveryCode.id)
    )
    return bool(updated)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code ``code`` is (one step of clock drift either way), or None."""
    if not re.fullmatch(r"\d{6}", code or ""):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    for offset in (0, -1, 1):
        moment = now + offset * totp.interval
        if hmac.compare_digest(totp.at(moment), code):
            return int(moment // totp.interval)
    return None


async def use_totp_code(secret_key: str, tenant: str, account: Account, code: str) -> bool:
    """Checks a 6-digit code; a time step that was already used is refused (no replay)."""
    step = matching_step(account.totp_secret, code)
    if step is None:
        return False
    tokens = Tokens(tenant, secret_key)
    marker = f"{account.id}:{step}"
    seen = await OneTimeToken.count().where(OneTimeToken.tenant == tenant).where(OneTimeToken.token_hash == tokens.digest(marker))
    if seen:
        return False
    try:
        await tokens.issue(STEP_PURPOSE, minutes=5, account_id=account.id, secret=marker, throttle=False)
    except Exception:  # a parallel request stored the same step first (unique token hash)
        return False
    return True


def grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# ---------------------------------------------------------------- /account/security


async def _render_security(request: Request, tenant: Tenant, account: Account, *, errors=None, status_code=200) -> Response:
    return render(
        request,
        "identity/totp_security.html",
        status_code=status_code,
        enabled=bool(account.totp_secret),
        required="totp" in tenant.config.identity.factors,
        remaining=await remaining_codes(tenant.slug, account.id) if account.totp_secret else 0,
        errors=errors or {},
    )


@get(SECURITY, guards=[login_required])
async def security_page(request: Request) -> Response:
    tenant = _guard_available(request)
    return await _render_security(request, tenant, await current_account(request))


def _setup_secret(request: Request) -> str:
    session = session_of(request)
    data = session.get(SETUP_KEY)
    if not data or int(time.time()) - int(data.get("at", 0)) > SETUP_MAX_SECONDS:
        data = {"secret": pyotp.random_base32(), "at": int(time.time())}
        session[SETUP_KEY] = data
    return data["secret"]


def _render_setup(
    request: Request, tenant: Tenant, account: Account, secret: str, *, errors=None, status_code=200, at_login: bool = False
) -> Response:
    label = account.login_id_display or account.login_id
    uri = pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=tenant.config.portal_title.get("ja"))
    return render(
        request,
        "identity/totp_setup.html",
        status_code=status_code,
        qr=qr_data_uri(uri),
        secret=grouped(secret),
        errors=errors or {},
        at_login=at_login,
    )


@get(f"{SECURITY}/totp", guards=[login_required])
async def setup_page(request: Request) -> Response:
    tenant = _guard_available(request)
    account = await current_account(request)
    if account.totp_secret:
        return redirect(SECURITY)
    return _render_setup(request, tenant, account, _setup_secret(request))


@post(f"{SECURITY}/totp", guards=[login_required])
async def setup_confirm(request: Request) -> Response:
    tenant = _guard_available(request)
    account = await current_account(request)
    if account.totp_secret:
        return redirect(SECURITY)
    secret = _setup_secret(request)
    form = await request.form()
    code = clean_code(str(form.get("code") or ""))[:20]
    if matching_step(secret, code) is None:
        message = _("確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。")
        return _render_setup(request, tenant, account, secret, errors={"code": message}, status_code=400)
    codes = await _enable(request, tenant, account, secret)
    keep_session(request, account)
    session = session_of(request)
    session.pop(SETUP_KEY)
    session[CODES_KEY] = codes
    return redirect(f"{SECURITY}/codes")


async def _enable(request: Request, tenant: Tenant, account: Account, secret: str, **detail) -> list[str]:
    """Stores the confirmed secret and new recovery codes (returned, to be shown once), mails a notice."""
    codes = new_recovery_codes()
    async with atomic():
        await AccountRepository(tenant).update(account, totp_secret=secret)
        await store_recovery_codes(_secret_key(request), tenant.slug, account.id, codes)
        await mail_account_changed(
            portal_of(request), tenant, account, [_("2段階認証(認証アプリ)の設定")], [contact_address(account)]
        )
        await AuditLog(tenant.slug).record("totp.enabled", account_id=account.id, address=client_address(request), **detail)
    return codes


@get(f"{SECURITY}/codes", guards=[login_required])
async def codes_page(request: Request) -> Response:
    _guard_available(request)
    codes = session_of(request).pop(CODES_KEY)
    if not codes:
        return redirect(SECURITY)
    return render(request, "identity/totp_codes.html", codes=codes)


async def _check_current_password(request: Request, tenant: Tenant, account: Account, form, name: str) -> dict:
    password = str(form.get(name) or "")[:200]
    if not password:
        return {name: _("入力してください。")}
    outcome = await check_current_password(tenant, account, password, client_address(request))
    if outcome is Reauth.BLOCKED:
        return {name: blocked_message(tenant)}
    if outcome is not Reauth.OK:
        return {name: _("現在のパスワードが正しくありません。")}
    return {}


@post(f"{SECURITY}/totp/disable", guards=[login_required])
async def disable(request: Request) -> Response:
    tenant = _guard_available(request)
    account = await current_account(request)
    if "totp" in tenant.config.identity.factors or not account.totp_secret:
        return redirect(SECURITY)
    errors = await _check_current_password(request, tenant, account, await request.form(), "disable_password")
    if errors:
        return await _render_security(request, tenant, account, errors=errors, status_code=400)
    async with atomic():
        await AccountRepository(tenant).update(account, totp_secret="")
        await RecoveryCode.delete().where(RecoveryCode.tenant == tenant.slug).where(RecoveryCode.account == account.id)
        await mail_account_changed(
            portal_of(request), tenant, account, [_("2段階認証(認証アプリ)の解除")], [contact_address(account)]
        )
        await AuditLog(tenant.slug).record("totp.disabled", account_id=account.id, address=client_address(request))
    keep_session(request, account)
    session_of(request).flash(_("2段階認証(認証アプリ)を解除しました。"), "success")
    return redirect(SECURITY)


@post(f"{SECURITY}/totp/recovery-codes", guards=[login_required])
async def regenerate_codes(request: Request) -> Response:
    tenant = _guard_available(request)
    account = await current_account(request)
    if not account.totp_secret:
        return redirect(SECURITY)
    errors = await _check_current_password(request, tenant, account, await request.form(), "codes_password")
    if errors:
        return await _render_security(request, tenant, account, errors=errors, status_code=400)
    codes = new_recovery_codes()
    async with atomic():
        await store_recovery_codes(_secret_key(request), tenant.slug, account.id, codes)
        await mail_account_changed(
            portal_of(request), tenant, account, [_("リカバリーコードの再発行")], [contact_address(account)]
        )
        await AuditLog(tenant.slug).record("totp.recovery_codes_renewed", account_id=account.id, address=client_address(request))
    session_of(request)[CODES_KEY] = codes
    return redirect(f"{SECURITY}/codes")


# ---------------------------------------------------------------- /login/totp


@get("/login/totp")
async def login_step_page(request: Request) -> Response:
    tenant_of(request)
    if factors.pending(request, "totp") is None:
        return redirect("/login")
    return render(request, "identity/totp_login.html", errors={})


@post("/login/totp")
async def login_step_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    data = factors.pending(request, "totp")
    if data is None:
        return redirect("/login")
    repo = AccountRepository(tenant)
    account = await repo.by_id(data.get("account_id"))
    if account is None or not account.totp_secret or account.status == "disabled":
        session_of(request).pop("pending_login")
        return redirect("/login")
    form = await request.form()
    code = clean_code(str(form.get("code") or ""))[:40]
    audit = AuditLog(tenant.slug)
    address = client_address(request)
    secret_key = _secret_key(request)
    if not code:
        return render(request, "identity/totp_login.html", status_code=400, errors={"code": _("入力してください。")})
    limit = second_factor_limit(tenant)
    claim = await limit.claim(str(account.id))
    if not claim.allowed or locked_minutes_left(account):
        return await _locked_out(request, tenant, account, "totp_blocked")
    if re.fullmatch(r"\d{6}", code):
        ok = await use_totp_code(secret_key, tenant.slug, account, code)
        if ok:
            await audit.record("login.totp_ok", account_id=account.id, address=address)
    else:
        ok = await use_recovery_code(secret_key, tenant.slug, account.id, code)
        if ok:
            left = await remaining_codes(tenant.slug, account.id)
            await audit.record("login.recovery_code_used", account_id=account.id, address=address, remaining=left)
            session_of(request).flash(
                _("リカバリーコードでログインしました。残りのリカバリーコードは{n}個です。").format(n=left), "warning"
            )
    if ok:
        await limit.clear(str(account.id))
        return await factors.step_passed(request, tenant, account, "totp")
    await audit.record("login.totp_failure", account_id=account.id, address=address, failures=claim.count)
    if claim.is_last(limit.limit):
        lockout = tenant.config.identity.lockout
        await AccountRepository(tenant).update(account, locked_until=datetime.now(UTC) + timedelta(minutes=lockout.lock_minutes))
        await audit.record("account.locked", account_id=account.id, address=address, reason="totp")
        return await _locked_out(request, tenant, account, None)
    message = _("確認コードまたはリカバリーコードが正しくありません。")
    return render(request, "identity/totp_login.html", status_code=400, errors={"code": message})


# ---------------------------------------------------------------- /login/totp_setup (required app, none yet)

SETUP_STEP = "totp_setup"


async def _setup_step_account(request: Request) -> tuple[dict, Account] | None:
    data = factors.pending(request, SETUP_STEP)
    if data is None:
        return None
    account = await AccountRepository(tenant_of(request)).by_id(data.get("account_id"))
    if account is None or account.status == "disabled":
        session_of(request).pop("pending_login")
        return None
    return data, account


@get("/login/totp_setup")
async def login_setup_page(request: Request) -> Response:
    tenant = tenant_of(request)
    pending_login = await _setup_step_account(request)
    if pending_login is None:
        return redirect("/login")
    data, account = pending_login
    if account.totp_secret:  # set up meanwhile (another tab, the recovery codes page left): a code is asked now
        steps = ["totp", *data["steps"][1:]]
        session_of(request)["pending_login"] = {**data, "steps": steps}
        return redirect("/login/totp")
    return _render_setup(request, tenant, account, _setup_secret(request), at_login=True)


@post("/login/totp_setup")
async def login_setup_submit(request: Request) -> Response:
    tenant = tenant_of(request)
    pending_login = await _setup_step_account(request)
    if pending_login is None:
        return redirect("/login")
    data, account = pending_login
    if account.totp_secret:
        return redirect("/login/totp_setup")
    secret = _setup_secret(request)
    form = await request.form()
    code = clean_code(str(form.get("code") or ""))[:20]
    if matching_step(secret, code) is None:
        message = _("確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。")
        return _render_setup(request, tenant, account, secret, errors={"code": message}, status_code=400, at_login=True)
    codes = await _enable(request, tenant, account, secret, at_login=True)
    session = session_of(request)
    session.pop(SETUP_KEY)
    # Setting the app raised the account's credentials version: this login stays valid.
    session["pending_login"] = {**data, "totp_enrolled": True, "credentials_version": account.credentials_version}
    return render(request, "identity/totp_codes.html", codes=codes, continue_action="/login/totp_setup/continue")


@post("/login/totp_setup/continue")
async def login_setup_continue(request: Request) -> Response:
    tenant = tenant_of(request)
    pending_login = await _setup_step_account(request)
    if pending_login is None:
        return redirect("/login")
    data, account = pending_login
    if not data.get("totp_enrolled") or not account.totp_secret:
        return redirect("/login/totp_setup")
    return await factors.step_passed(request, tenant, account, SETUP_STEP)


def second_factor_limit(tenant: Tenant) -> AttemptLimit:
    """Wrong second-factor codes per account, across logins and sessions."""
    return AttemptLimit.in_lock_window(tenant, "login.second_factor")


async def _locked_out(request: Request, tenant: Tenant, account: Account, event: str | None) -> Response:
    if event:
        await AuditLog(tenant.slug).record(f"login.{event}", account_id=account.id, address=client_address(request))
    session = session_of(request)
    session.pop("pending_login")
    session.flash(
        _("ログインに続けて失敗したため、ログインを一時的に停止しています。{minutes}分後にもう一度お試しください。").format(
            minutes=locked_minutes_left(account) or tenant.config.identity.lockout.lock_minutes
        ),
        "warning",
    )
    return redirect("/login")


ROUTES = [
    security_page,
    setup_page,
    setup_confirm,
    codes_page,
    disable,
    regenerate_codes,
    login_step_page,
    login_step_submit,
    login_setup_page,
    login_setup_submit,
    login_setup_continue,
]
