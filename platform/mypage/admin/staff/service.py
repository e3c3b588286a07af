"""Staff accounts: invitation, acceptance (password + authenticator app), login with lockout, roles.

The console's pages and the ``mypage staff invite`` / ``create-admin`` commands call these functions:
one rule in one place. Every change is written to the audit log with the acting staff member.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mypage.admin.audit.log import actor_label
from mypage.admin.roles import ADMIN_ONLY, Role, parse
from mypage.admin.staff.repository import EmailTaken, StaffRepository
from mypage.admin.tables import StaffMember
from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import N_
from mypage.identity.passwords import hash_password_async
from mypage.identity.policy import EMAIL_RE
from mypage.identity.staff_login import (
    Lockout,
    LoginOutcome,
    StaffEvent,
    StaffLogin,
    email_key,
)
from mypage.identity.tables import OneTimeToken
from mypage.identity.tokens import TokenError, Tokens
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
    repo = StaffRepository(tenant.slug)
    async with atomic():
        payload = await _tokens(tenant, secret_key).consume(INVITE_PURPOSE, token)
        staff = await repo.by_id(payload.get("staff_id"))
        if staff is None or staff.status != "invited":
            raise TokenError("invalid")
        await repo.update(staff, password_hash=password_hash, totp_secret=totp_secret, status="active", locked_until=None)
        codes = await staff_login(tenant, secret_key).store_recovery_codes(staff.id)
        await AuditLog(tenant.slug).record(
            "admin.staff.activated", address=address, staff_id=staff.id, actor=actor_label(staff), after={"status": "active"}
        )
    return staff, codes


# ---------------------------------------------------------------- login (mechanics: identity/staff_login.py)

EVENTS = {
    StaffEvent.ADDRESS_LIMITED: "admin.login.address_limited",
    StaffEvent.REFUSED_LOCKED: "admin.login.locked",
    StaffEvent.FAILURE: "admin.login.failure",
    StaffEvent.PASSWORD_OK: "admin.login.password_ok",
    StaffEvent.LOCKED: "admin.staff.locked",
    StaffEvent.TOTP_BLOCKED: "admin.login.totp_blocked",
    StaffEvent.TOTP_FAILURE: "admin.login.totp_failure",
    StaffEvent.RECOVERY_CODE_USED: "admin.login.recovery_code_used",
    StaffEvent.SUCCESS: "admin.login.success",
    StaffEvent.RECOVERY_CODES_RENEWED: "admin.staff.recovery_codes_renewed",
}


class _LoginStore(StaffRepository):
    """The tenant's staff for the shared login; a used time step is a one-time token of the tenant."""

    def __init__(self, tenant: Tenant, secret_key: str):
        super().__init__(tenant.slug)
        self.tokens = _tokens(tenant, secret_key)

    async def take_step(self, staff: StaffMember, step: int) -> bool:
        marker = f"staff:{staff.id}:{step}"
        seen = await (
            OneTimeToken.count()
            .where(OneTimeToken.tenant == self.tenant)
            .where(OneTimeToken.token_hash == self.tokens.digest(marker))
        )
        if seen:
            return False
        try:
            await self.tokens.issue(STEP_PURPOSE, minutes=5, secret=marker, subject=marker, throttle=False)
        except Exception:  # a parallel request stored the same step first (unique token hash)
            return False
        return True


def staff_login(tenant: Tenant, secret_key: str) -> StaffLogin:
    lockout = tenant.config.identity.lockout
    audit = AuditLog(tenant.slug)

    async def record(event: StaffEvent, staff: StaffMember | None, address: str, **detail) -> None:
        who = {"staff_id": staff.id, "actor": actor_label(staff)} if staff is not None else {}
        await audit.record(EVENTS[event], address=address, **who, **detail)

    return StaffLogin(
        store=_LoginStore(tenant, secret_key),
        lockout=Lockout(
            scope=tenant.slug,
            prefix="staff",
            max_failures=lockout.max_failures,
            per_address_max=lockout.per_address_max_failures,
            lock_minutes=lockout.lock_minutes,
        ),
        record=record,
        secret_key=secret_key,
    )


async def check_password(tenant: Tenant, secret_key: str, email: str, password: str, address: str) -> LoginOutcome:
    return await staff_login(tenant, secret_key).check_password(email, password, address)


async def check_second_factor(tenant: Tenant, secret_key: str, staff: StaffMember, raw_code: str, address: str) -> LoginOutcome:
    return await staff_login(tenant, secret_key).check_second_factor(staff, raw_code, address)


async def new_recovery_codes_for(tenant: Tenant, secret_key: str, staff: StaffMember, address: str) -> list[str]:
    return await staff_login(tenant, secret_key).renew_recovery_codes(staff, address)


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
