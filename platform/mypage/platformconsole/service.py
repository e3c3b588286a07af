"""Platform staff (invitation, login with lockout and a mandatory authenticator app) and the actions on
tenants (suspension, feature allowances, the first admin's invitation). Every action is audited."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from enum import StrEnum

from mypage.admin.staff import service as tenant_staff
from mypage.db.base import utcnow
from mypage.db.transaction import atomic
from mypage.i18n import N_
from mypage.identity.passwords import hash_password_async
from mypage.identity.policy import EMAIL_RE
from mypage.identity.staff_login import Lockout, StaffEvent, StaffLogin, email_key
from mypage.identity.totp import matching_step
from mypage.platformconsole.mail import enqueue_platform
from mypage.platformconsole.repository import (
    PlatformStaffRepository,
    TenantControlRepository,
    record_platform,
)
from mypage.platformconsole.tables import PlatformStaff
from mypage.settings import Settings
from mypage.tenancy.config import Features
from mypage.tenancy.registry import Tenant
from mypage.tenancy.reload import SUSPENSIONS, announce
from mypage.web.sessions import PLATFORM_SCOPE

MAX_FAILURES = 5
LOCK_MINUTES = 30
INVITE_HOURS = 72


def actor(staff: PlatformStaff | None) -> str:
    return f"{staff.name} <{staff.email}>" if staff is not None else "mypage platform (command line)"


def _invite_hash(secret_key: str, secret: str) -> str:
    return hmac.new(f"{secret_key}:platform-invite".encode(), secret.encode(), hashlib.sha256).hexdigest()


class PlatformError(StrEnum):
    """Why a platform staff invitation was refused; the value is the message (a ``N_`` marked phrase)."""

    EMAIL_INVALID = N_("メールアドレスの形式が正しくありません。")
    EMAIL_TAKEN = N_("このメールアドレスのプラットフォームスタッフは既に登録されています。")
    NOT_FOUND = N_("このプラットフォームスタッフは見つかりません。")
    SELF = N_("自分自身を停止することはできません。")
    INVITED = N_("招待中のスタッフは停止・再開できません。")
    LAST_ACTIVE = N_("有効なプラットフォームスタッフが1人もいなくなるため、停止できません。")
    ACTOR_INACTIVE = N_("このアカウントは有効ではありません。")


class PlatformRefused(Exception):
    def __init__(self, error: PlatformError):
        super().__init__(error.value)
        self.error = error


async def invite_staff(
    settings: Settings, email: str, name: str = "", *, by: PlatformStaff | None = None, address: str = ""
) -> str:
    """Creates (or re-invites) a platform staff member and mails the single-use invitation link; returns it
    (printed by ``mypage platform invite --print-link`` for the very first member)."""
    key = email_key(email)
    if not EMAIL_RE.match(key) or len(key) > 254:
        raise PlatformRefused(PlatformError.EMAIL_INVALID)
    name = (name or "").strip()[:120] or key[:120]
    secret = secrets.token_urlsafe(32)
    link = f"{settings.platform_base_url}/platform/invite/{secret}"
    repo = PlatformStaffRepository()
    expires = utcnow() + timedelta(hours=INVITE_HOURS)
    async with atomic():
        staff = await repo.by_email(key)
        # A disabled member may be invited again: the way back for one who lost both the authenticator app and
        # the recovery codes (the invitation sets a new password, app and codes; the old ones never log in again).
        if staff is not None and staff.status not in ("invited", "disabled"):
            raise PlatformRefused(PlatformError.EMAIL_TAKEN)
        values = {
            "name": name,
            "status": "invited",
            "invite_hash": _invite_hash(settings.secret_key, secret),
            "invite_expires": expires,
        }
        if staff is None:
            staff = await repo.create(email=key, **values)
        else:
            await repo.update(staff, **values)
        context = {"name": name, "link": link, "hours": INVITE_HOURS}
        await enqueue_platform(settings, to=key, template="invitation", context=context)
        await record_platform(
            "platform.staff.invited", staff_id=by.id if by else None, actor=actor(by), address=address, email=key
        )
    return link


async def staff_listing() -> list[PlatformStaff]:
    return await PlatformStaffRepository().listing()


async def set_disabled(by: PlatformStaff, staff_id: int, disabled: bool, *, address: str = "") -> PlatformStaff:
    """Disables or re-enables a member (their credentials are kept; their sessions end). The platform always
    keeps one active member, also when two members disable each other at the same moment: the active rows are
    locked and counted in the transaction that writes, and the actor must still be active then."""
    repo = PlatformStaffRepository()
    async with atomic():
        await repo.lock_active()
        current = await repo.by_id(by.id)
        if current is None or current.status != "active":
            raise PlatformRefused(PlatformError.ACTOR_INACTIVE)
        staff = await repo.by_id(staff_id)
        if staff is None:
            raise PlatformRefused(PlatformError.NOT_FOUND)
        if staff.id == by.id and disabled:
            raise PlatformRefused(PlatformError.SELF)
        if staff.status == "invited":
            raise PlatformRefused(PlatformError.INVITED)
        status = "disabled" if disabled else "active"
        if staff.status == status:
            return staff
        if disabled and await repo.count_active() <= 1:
            raise PlatformRefused(PlatformError.LAST_ACTIVE)
        await repo.set_status(staff, status)
        await record_platform(
            "platform.staff.disabled" if disabled else "platform.staff.enabled",
            staff_id=by.id,
            actor=actor(by),
            address=address,
            target_staff=staff.id,
            email=staff.email,
        )
    return staff


async def invited(secret_key: str, secret: str) -> PlatformStaff | None:
    staff = await PlatformStaffRepository().by_invite(_invite_hash(secret_key, secret or ""))
    if staff is None or staff.status != "invited" or staff.invite_expires is None:
        return None
    expires = staff.invite_expires if staff.invite_expires.tzinfo else staff.invite_expires.replace(tzinfo=utcnow().tzinfo)
    return staff if expires > utcnow() else None


async def accept(
    secret_key: str, secret: str, *, password: str, totp_secret: str, code: str, address: str
) -> tuple[PlatformStaff, list[str]] | None:
    """Activates the invited member when the authenticator code matches the new secret (None otherwise);
    returns the member and the new recovery codes (shown once). The invitation is used once, even by
    parallel submissions."""
    staff = await invited(secret_key, secret)
    step = matching_step(totp_secret, code)
    if staff is None or step is None:
        return None
    password_hash = await hash_password_async(password)
    async with atomic():
        activated = await PlatformStaffRepository().activate(
            staff, password_hash=password_hash, totp_secret=totp_secret, totp_last_step=step
        )
        if not activated:
            return None
        codes = await staff_login(secret_key).store_recovery_codes(staff.id)
        await record_platform("platform.staff.activated", staff_id=staff.id, actor=actor(staff), address=address)
    return staff, codes


async def renew_recovery_codes(secret_key: str, staff: PlatformStaff, address: str) -> list[str]:
    return await staff_login(secret_key).renew_recovery_codes(staff, address)


# ---------------------------------------------------------------- login (mechanics: identity/staff_login.py)

EVENTS = {
    StaffEvent.ADDRESS_LIMITED: "platform.login.address_limited",
    StaffEvent.REFUSED_LOCKED: "platform.login.refused_locked",
    StaffEvent.FAILURE: "platform.login.failure",
    StaffEvent.PASSWORD_OK: "platform.login.password_ok",
    StaffEvent.LOCKED: "platform.login.locked",
    StaffEvent.TOTP_BLOCKED: "platform.login.totp_blocked",
    StaffEvent.TOTP_FAILURE: "platform.login.totp_failure",
    StaffEvent.RECOVERY_CODE_USED: "platform.login.recovery_code_used",
    StaffEvent.SUCCESS: "platform.login.success",
    StaffEvent.RECOVERY_CODES_RENEWED: "platform.staff.recovery_codes_renewed",
}
LOCKOUT = Lockout(
    scope=PLATFORM_SCOPE, prefix="platform", max_failures=MAX_FAILURES, per_address_max=MAX_FAILURES, lock_minutes=LOCK_MINUTES
)


async def _record(event: StaffEvent, staff: PlatformStaff | None, address: str, **detail) -> None:
    await record_platform(
        EVENTS[event], staff_id=staff.id if staff else None, actor=actor(staff) if staff else "", address=address, **detail
    )


def staff_login(secret_key: str) -> StaffLogin:
    return StaffLogin(store=PlatformStaffRepository(), lockout=LOCKOUT, record=_record, secret_key=secret_key)


# ---------------------------------------------------------------- tenants


async def set_suspended(staff: PlatformStaff, tenant: Tenant, suspended: bool, address: str) -> None:
    """Suspends or resumes the tenant and announces it: every worker applies it within a second."""
    async with atomic():
        await TenantControlRepository(tenant.slug).upsert(suspended=suspended)
        await record_platform(
            "platform.tenant.suspended" if suspended else "platform.tenant.resumed",
            staff_id=staff.id,
            actor=actor(staff),
            tenant=tenant.slug,
            address=address,
        )
    await announce(SUSPENSIONS)


async def allowed_features(tenant: str) -> set[str] | None:
    """What the tenant's admins may switch on (None: every feature its ``tenant.toml`` configures)."""
    row = await TenantControlRepository(tenant).get()
    if row is None or row["allowed_features"] is None:
        return None
    value = row["allowed_features"]
    if isinstance(value, str):
        value = json.loads(value)
    return set(value)


async def set_allowances(staff: PlatformStaff, tenant: Tenant, features: list[str], address: str) -> list[str]:
    chosen = sorted({name for name in features if name in Features.model_fields})
    before = await allowed_features(tenant.slug)
    async with atomic():
        await TenantControlRepository(tenant.slug).upsert(allowed_features=chosen)
        await record_platform(
            "platform.tenant.allowances",
            staff_id=staff.id,
            actor=actor(staff),
            tenant=tenant.slug,
            address=address,
            before=sorted(before) if before is not None else None,
            after=chosen,
        )
    return chosen


async def invite_first_admin(portal, staff: PlatformStaff, tenant: Tenant, *, email: str, name: str, address: str):
    """The tenant console's own invitation (mail with a single-use link), as a 管理者, audited here too."""
    invitation = await tenant_staff.invite(portal, tenant, email=email, name=name, role="admin", by=None, address=address)
    await record_platform(
        "platform.tenant.admin_invited",
        staff_id=staff.id,
        actor=actor(staff),
        tenant=tenant.slug,
        address=address,
        email=invitation.staff.email,
    )
    return invitation
