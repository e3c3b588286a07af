"""Staff accounts: invitation, acceptance (password + authenticator app), login with lockout, roles.

The console's pages and the ``mypage staff invite`` / ``create-admin`` commands call these functions:
one rule in one place. Every change is written to the audit log with the acting staff member.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from mypage.admin.audit.log import actor_label
from mypage.admin.roles import ADMIN_ONLY, Role, parse
from mypage.admin.staff.repository import EmailTaken, StaffRepository
from mypage.admin.tables import StaffMember
from mypage.audit.log import AuditLog
from mypage.db.base import utcnow
from mypage.db.transaction import atomic
from mypage.i18n import N_
from mypage.identity import normalize
from mypage.identity.attempts import AttemptLimit
from mypage.identity.passwords import hash_password_async, verify_password_async
from mypage.identity.policy import EMAIL_RE
from mypage.identity.tables import OneTimeToken
from mypage.identity.tokens import TokenError, Tokens
from mypage.identity.totp import clean_code, matching_step, new_recovery_codes
from mypage.mail.outbox import enqueue
from mypage.tenancy.registry import Tenant

INVITE_PURPOSE = "staff_invite"
INVITE_HOURS = 72
STEP_PURPOSE = "staff_totp_step"
PASSWORD_MIN = 12
PASSWORD_MAX = 200


class StaffError(StrEnum):
    """Why a staff change was refused; the value is the message (a ``N_`` marked phrase)."""

    EMAIL_INVALID = N_("メールアドレスの形式が正しくありません。")
    EMAIL_TAKEN = N_("このメールアドレスのスタッフは既に登録されています。")
    NAME_REQUIRED = N_("氏名を入力してください(120文字まで)。")
    ROLE_INVALID = N_("権限を選択してください。")
    LAST_ADMIN = N_("最後の管理者の権限は変更・停止できません。")
    NOT_FOUND = N_("スタッフが見つかりません。")


class StaffRefused(Exception):
    def __init__(self, error: StaffError, field_name: str = ""):
        super().__init__(error.value)
        self.error = error
        self.field = field_name


def email_key(raw: str) -> str:
    return normalize.email(raw or "").lower()


def _tokens(tenant: Tenant, secret_key: str) -> Tokens:
    return Tokens(tenant.slug, secret_key)


# ---------------------------------------------------------------- invitation


@dataclass
class Invitation:
    staff: StaffMember
    link: str


async def invite(
    portal, tenant: Tenant, *, email: str, name: str, role: str, by: StaffMember | None, address: str = ""
) -> Invitation:
    """Creates (or re-invites) a staff member and mails a single-use link to set a password and an authenticator app."""
    key = email_key(email)
    name = (name or "").strip()
    chosen = parse(role)
    if not EMAIL_RE.match(key) or len(key) > 254:
        raise StaffRefused(StaffError.EMAIL_INVALID, "email")
    if not name or len(name) > 120:
        raise StaffRefused(StaffError.NAME_REQUIRED, "name")
    if chosen is None:
        raise StaffRefused(StaffError.ROLE_INVALID, "role")
    repo = StaffRepository(tenant.slug)
    tokens = _tokens(tenant, portal.settings.secret_key)
    async with atomic():
        staff = await repo.by_email(key)
        if staff is not None and staff.status != "invited":
            raise StaffRefused(StaffError.EMAIL_TAKEN, "email")
        try:
            if staff is None:
                staff = await repo.create(email=key, name=name, role=chosen.value, invited_by=by.id if by else None)
            else:
                await repo.update(staff, name=name, role=chosen.value, invited_by=by.id if by else None)
        except EmailTaken as exc:
            raise StaffRefused(StaffError.EMAIL_TAKEN, "email") from exc
        issued = await tokens.issue(
            INVITE_PURPOSE, minutes=INVITE_HOURS * 60, payload={"staff_id": staff.id}, subject=f"staff:{staff.id}", throttle=False
        )
        link = f"{portal.base_url(tenant)}/admin/invite/{issued.secret}"
        await enqueue(
            portal,
            tenant,
            to=key,
            template="staff_invitation",
            context={"name": name, "link": link, "hours": INVITE_HOURS, "role": chosen.value},
        )
        await AuditLog(tenant.slug).record(
            "admin.staff.invited",
            address=address,
            staff_id=by.id if by else None,
            actor=actor_label(by),
            after={"staff_id": staff.id, "email": key, "name": name, "role": chosen.value},
        )
    return Invitation(staff, link)


async def invited_staff(tenant: Tenant, secret_key: str, token: str) -> StaffMember | None:
    """The staff member a valid, unused invitation is for (None for an unknown, used or expired link)."""
    try:
        payload = await _tokens(tenant, secret_key).peek(INVITE_PURPOSE, token)
    except TokenError:
        return None
    staff = await StaffRepository(tenant.slug).by_id(payload.get("staff_id"))
    return staff if staff is not None and staff.status == "invited" else None


def password_problem(password: str, confirm: str, email: str) -> str | None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return N_("パスワードは12文字以上で入力してください。")
    if password != confirm:
        return N_("確認用のパスワードが一致しません。")
    local = email.split("@", 1)[0]
    if len(local) >= 4 and local.lower() in password.lower():
        return N_("メールアドレスを含むパスワードは使えません。")
    return None


async def accept_invitation(
    tenant: Tenant, secret_key: str, token: str, *, password: str, totp_secret: str, address: str = ""
) -> tuple[StaffMember, list[str]]:
    """Consumes the invitation (once), stores the password hash and the authenticator secret, activates the
    account; returns it with its recovery codes (shown once). The caller checked the password and the code."""
    password_hash = await hash_password_async(password)
    codes = new_recovery_codes()
    repo = StaffRepository(tenant.slug)
    async with atomic():
        payload = await _tokens(tenant, secret_key).consume(INVITE_PURPOSE, token)
        staff = await repo.by_id(payload.get("staff_id"))
        if staff is None or staff.status != "invited":
            raise TokenError("invalid")
        await repo.update(staff, password_hash=password_hash, totp_secret=totp_secret, status="active", locked_until=None)
        await repo.replace_recovery_codes(staff.id, [recovery_hash(secret_key, tenant.slug, staff.id, c) for c in codes])
        await AuditLog(tenant.slug).record(
            "admin.staff.activated", address=address, staff_id=staff.id, actor=actor_label(staff), after={"status": "active"}
        )
    return staff, codes


# ---------------------------------------------------------------- login


class LoginError(StrEnum):
    INVALID = "invalid"
    LOCKED = "locked"
    ADDRESS_LIMITED = "address_limited"


@dataclass
class LoginOutcome:
    staff: StaffMember | None
    error: LoginError | None = None
    minutes: int = 0
    remaining_codes: int | None = field(default=None)


def login_limit(tenant: Tenant) -> AttemptLimit:
    return AttemptLimit.in_lock_window(tenant, "staff.login")


def address_limit(tenant: Tenant) -> AttemptLimit:
    return AttemptLimit.in_lock_window(tenant, "staff.address", tenant.config.identity.lockout.per_address_max_failures)


def second_factor_limit(tenant: Tenant) -> AttemptLimit:
    return AttemptLimit.in_lock_window(tenant, "staff.second_factor")


def minutes_locked(staff: StaffMember | None) -> int:
    if staff is None or staff.locked_until is None:
        return 0
    until = staff.locked_until if staff.locked_until.tzinfo else staff.locked_until.replace(tzinfo=utcnow().tzinfo)
    left = (until - utcnow()).total_seconds()
    return max(1, int(left // 60) + 1) if left > 0 else 0


async def _lock(tenant: Tenant, staff: StaffMember, address: str, reason: str) -> None:
    until = utcnow() + timedelta(minutes=tenant.config.identity.lockout.lock_minutes)
    await StaffRepository(tenant.slug).update(staff, locked_until=until)
    await AuditLog(tenant.slug).record(
        "admin.staff.locked", address=address, staff_id=staff.id, actor=actor_label(staff), reason=reason
    )


async def check_password(tenant: Tenant, email: str, password: str, address: str) -> LoginOutcome:
    """The password step. Tries are counted before the password is compared, per address and per e-mail
    address typed (known or not: an unknown address is answered alike, and as slowly)."""
    key = email_key(email)[:254]
    audit = AuditLog(tenant.slug)
    by_address, by_login = address_limit(tenant), login_limit(tenant)
    lock_minutes = tenant.config.identity.lockout.lock_minutes
    address_claim = await by_address.claim(address)
    if not address_claim.allowed:
        await verify_password_async(None, password)
        await audit.record("admin.login.address_limited", address=address, email=key[:100])
        return LoginOutcome(None, LoginError.ADDRESS_LIMITED, lock_minutes)
    staff = await StaffRepository(tenant.slug).by_email(key)
    claim = await by_login.claim(key)
    held = minutes_locked(staff)
    if held or not claim.allowed:
        await by_login.release(claim)
        await verify_password_async(None, password)
        await audit.record("admin.login.locked", address=address, staff_id=staff.id if staff else None, email=key[:100])
        return LoginOutcome(None, LoginError.LOCKED, held or await by_login.minutes_left(key))
    usable = staff is not None and staff.status == "active"
    verified = await verify_password_async(staff.password_hash if usable and staff else None, password)
    if not (usable and verified) or staff is None:
        await audit.record("admin.login.failure", address=address, staff_id=staff.id if staff else None, email=key[:100])
        if claim.is_last(by_login.limit):
            if staff is not None:
                await _lock(tenant, staff, address, "password")
            return LoginOutcome(None, LoginError.LOCKED, lock_minutes)
        return LoginOutcome(None, LoginError.INVALID)
    async with atomic():
        await by_login.clear(key)
        await by_address.release(address_claim)
        await audit.record("admin.login.password_ok", address=address, staff_id=staff.id, actor=actor_label(staff))
    return LoginOutcome(staff)


def recovery_hash(secret_key: str, tenant: str, staff_id: int, code: str) -> str:
    message = f"{tenant}:staff:{staff_id}:{clean_code(code)}".encode()
    return hmac.new(f"{secret_key}:staff-recovery".encode(), message, hashlib.sha256).hexdigest()


async def _use_totp(tenant: Tenant, secret_key: str, staff: StaffMember, code: str) -> bool:
    """A 6-digit code of the staff member's app; each time step is accepted once (no replay)."""
    step = matching_step(staff.totp_secret, code)
    if step is None:
        return False
    tokens = _tokens(tenant, secret_key)
    marker = f"staff:{staff.id}:{step}"
    seen = await (
        OneTimeToken.count().where(OneTimeToken.tenant == tenant.slug).where(OneTimeToken.token_hash == tokens.digest(marker))
    )
    if seen:
        return False
    try:
        await tokens.issue(STEP_PURPOSE, minutes=5, secret=marker, subject=f"staff:{staff.id}:{step}", throttle=False)
    except Exception:  # a parallel request stored the same step first (unique token hash)
        return False
    return True


async def check_second_factor(tenant: Tenant, secret_key: str, staff: StaffMember, raw_code: str, address: str) -> LoginOutcome:
    """The authenticator-app step: a 6-digit code or a recovery code, counted per staff member before it is compared."""
    code = clean_code(raw_code)[:40]
    audit = AuditLog(tenant.slug)
    limit = second_factor_limit(tenant)
    claim = await limit.claim(str(staff.id))
    if not claim.allowed or minutes_locked(staff):
        await audit.record("admin.login.totp_blocked", address=address, staff_id=staff.id, actor=actor_label(staff))
        return LoginOutcome(None, LoginError.LOCKED, minutes_locked(staff) or tenant.config.identity.lockout.lock_minutes)
    repo = StaffRepository(tenant.slug)
    remaining = None
    if re.fullmatch(r"\d{6}", code):
        ok = await _use_totp(tenant, secret_key, staff, code)
    else:
        ok = 6 <= len(code) <= 20 and await repo.use_recovery_code(
            staff.id, recovery_hash(secret_key, tenant.slug, staff.id, code)
        )
        if ok:
            remaining = await repo.remaining_recovery_codes(staff.id)
            await audit.record(
                "admin.login.recovery_code_used",
                address=address,
                staff_id=staff.id,
                actor=actor_label(staff),
                remaining=remaining,
            )
    if ok:
        async with atomic():
            await limit.clear(str(staff.id))
            await repo.update(staff, last_login_at=utcnow(), locked_until=None)
            await audit.record("admin.login.success", address=address, staff_id=staff.id, actor=actor_label(staff))
        return LoginOutcome(staff, remaining_codes=remaining)
    await audit.record("admin.login.totp_failure", address=address, staff_id=staff.id, actor=actor_label(staff))
    if claim.is_last(limit.limit):
        await _lock(tenant, staff, address, "totp")
        return LoginOutcome(None, LoginError.LOCKED, tenant.config.identity.lockout.lock_minutes)
    return LoginOutcome(None, LoginError.INVALID)


async def new_recovery_codes_for(tenant: Tenant, secret_key: str, staff: StaffMember, address: str) -> list[str]:
    codes = new_recovery_codes()
    async with atomic():
        await StaffRepository(tenant.slug).replace_recovery_codes(
            staff.id, [recovery_hash(secret_key, tenant.slug, staff.id, c) for c in codes]
        )
        await AuditLog(tenant.slug).record(
            "admin.staff.recovery_codes_renewed", address=address, staff_id=staff.id, actor=actor_label(staff)
        )
    return codes


# ---------------------------------------------------------------- managing staff (管理者)


async def change_staff(
    tenant: Tenant, by: StaffMember, staff_id: int, *, role: str | None = None, disabled: bool | None = None, address: str = ""
) -> StaffMember:
    """A role change or (re-)enabling; the tenant always keeps one active 管理者. Ends the member's sessions."""
    repo = StaffRepository(tenant.slug)
    async with atomic():
        await repo.lock_active_admins()
        staff = await repo.by_id(staff_id)
        if staff is None:
            raise StaffRefused(StaffError.NOT_FOUND)
        changes: dict = {}
        if role is not None:
            chosen = parse(role)
            if chosen is None:
                raise StaffRefused(StaffError.ROLE_INVALID, "role")
            changes["role"] = chosen.value
        if disabled is not None and staff.status != "invited":
            changes["status"] = "disabled" if disabled else "active"
        changes = {k: v for k, v in changes.items() if getattr(staff, k) != v}
        if not changes:
            return staff
        loses_admin = staff.role in ADMIN_ONLY and staff.status == "active"
        loses_admin = loses_admin and (changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("status") == "disabled")
        if loses_admin and await repo.count_active_admins() <= 1:
            raise StaffRefused(StaffError.LAST_ADMIN)
        before = {k: getattr(staff, k) for k in changes}
        await repo.update(staff, **changes)
        await AuditLog(tenant.slug).record(
            "admin.staff.changed",
            address=address,
            staff_id=by.id,
            actor=actor_label(by),
            before=before,
            after=changes,
            target_staff=staff.id,
        )
    return staff
