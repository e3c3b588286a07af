"""ユーザ管理: the rules for a customer's administrators managing the customer's accounts.

A new member gets a login ID by the tenant's ``identity.login_id.kind``: ``issued`` — a generated access ID and
a temporary password mailed with the first-login link (``identity/issued.py``); ``email`` — the member's e-mail
address is the ID; ``chosen`` — the administrator proposes an ID, checked against the tenant's login-ID rules
and availability. With ``email`` and ``chosen`` the member sets a password by a mailed link (``identity/invited.py``).

The customer's rules ("at most max_members accounts", "at least one active administrator", and so at least
one account) are each a count followed by a write: every change runs under the customer's lock
(:func:`mypage.db.locks.serialised`), re-reads the acting administrator and the member there, and counts there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mypage.audit.log import AuditLog
from mypage.db.locks import serialised
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import LoginIdTaken
from mypage.identity.policy import check_email, check_login_id
from mypage.identity.recovery_support import contact_address, login_label
from mypage.identity.tables import Account
from mypage.members.repository import ADMIN_ROLES, MemberRepository
from mypage.records.tables import Customer
from mypage.tenancy.registry import Tenant

NAME_MAX = 60


def is_admin(account: Account) -> bool:
    return account.role in ADMIN_ROLES


class NotAdministrator(Exception):
    """The acting account is no longer an administrator of the customer (demoted or deleted by a request that
    committed first): the change is refused as the guard would have refused it (404)."""


async def _still_admin(repo: MemberRepository, admin: Account) -> None:
    """Inside the customer's lock: the acting account still passes the guard (``admin_required``)."""
    current = await repo.get(admin.id)
    if current is None or not is_admin(current) or current.status == "disabled":
        raise NotAdministrator()


async def _leaves_no_admin(repo: MemberRepository, member: Account) -> bool:
    """Inside the customer's lock: demoting or deleting ``member`` would leave no active administrator."""
    return is_admin(member) and not [a for a in await repo.admins() if a.id != member.id]


@dataclass
class MemberInput:
    email: str = ""
    display_name: str = ""
    role: str = "general"
    """``general`` (一般) or ``admin`` (管理者)."""
    mail_notify: str = "yes"
    member_id: str = ""
    login_id: str = ""
    """``login_id.kind = "chosen"`` only: the ID the administrator proposes for a new member."""

    @classmethod
    def from_form(cls, form) -> MemberInput:
        def value(name: str, default: str = "") -> str:
            raw = form.get(name)
            return raw.strip() if isinstance(raw, str) else default

        return cls(
            email=normalize.email(value("email")),
            display_name=normalize.name(value("display_name")).replace("\u3000", " "),
            role=value("role", "general"),
            mail_notify=value("mail_notify", "yes"),
            member_id=value("id"),
            login_id=normalize.ascii_text(value("login_id"))[:254],
        )

    @classmethod
    def of(cls, account: Account) -> MemberInput:
        return cls(
            email=contact_address(account),
            display_name=account.display_name,
            role="admin" if is_admin(account) else "general",
            mail_notify="yes" if account.mail_notify else "no",
            member_id=str(account.id),
        )


@dataclass
class Outcome:
    ok: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    problem: str = ""
    account: Account | None = None


def _check(data: MemberInput, tenant: Tenant | None = None) -> dict[str, str]:
    """The form's own problems; with ``tenant``, a new member's login ID against the tenant's rules too."""
    errors: dict[str, str] = {}
    email_errors = check_email(data.email)
    if email_errors:
        errors["email"] = " ".join(email_errors)
    if tenant is not None:
        policy = tenant.config.identity.login_id
        if policy.kind == "chosen":
            id_errors = check_login_id(data.login_id, policy)
            if id_errors:
                errors["login_id"] = " ".join(id_errors)
        elif policy.kind == "email" and "email" not in errors:
            id_errors = check_login_id(data.email, policy)
            if id_errors:
                errors["email"] = " ".join(id_errors)
    if not data.display_name:
        errors["display_name"] = _("ユーザ名を入力してください。")
    elif len(data.display_name) > NAME_MAX:
        errors["display_name"] = _("ユーザ名は{n}文字以内で入力してください。").format(n=NAME_MAX)
    if data.role not in ("general", "admin"):
        errors["role"] = _("ユーザ種別を選択してください。")
    if data.mail_notify not in ("yes", "no"):
        errors["mail_notify"] = _("メール通知を選択してください。")
    return errors


def _id_taken(tenant: Tenant) -> dict[str, str]:
    """The error for a login ID (proposed, or the address as ID) that another account already has."""
    label = login_label(tenant)
    if tenant.config.identity.login_id.kind == "email":
        return {"email": _("このメールアドレスは既に{label}として使われています。").format(label=label)}
    return {"login_id": _("この{label}は既に使われています。別の{label}を入力してください。").format(label=label)}


async def register(portal, tenant: Tenant, admin: Account, data: MemberInput, *, address: str = "") -> Outcome:
    from mypage.identity.invited import create_invited_account
    from mypage.identity.issued import create_issued_account

    repo = MemberRepository(tenant, admin.customer)
    errors = _check(data, tenant)
    if errors:
        return Outcome(errors=errors)
    limit = tenant.config.features.members.max_members
    kind = tenant.config.identity.login_id.kind
    login_id = data.email if kind == "email" else data.login_id
    details = {
        "customer_id": admin.customer,
        "email": data.email,
        "display_name": data.display_name,
        "role": data.role,
        "mail_notify": data.mail_notify == "yes",
    }
    try:
        async with serialised(Customer, admin.customer):
            await _still_admin(repo, admin)
            if await repo.email_taken(data.email):
                return Outcome(errors={"email": _("このメールアドレスは既に登録されています。")})
            if kind != "issued" and await repo.accounts.login_id_taken(login_id):
                return Outcome(errors=_id_taken(tenant))
            if await repo.count() >= limit:
                return Outcome(problem=_("登録できるユーザは{n}人までです。").format(n=limit))
            if kind == "issued":
                account, _password = await create_issued_account(portal, tenant, **details)
            else:
                account = await create_invited_account(portal, tenant, login_id=login_id, **details)
            await AuditLog(tenant.slug).record(
                "member.created", account_id=admin.id, address=address, member_id=account.id, role=data.role
            )
    except LoginIdTaken:  # taken by a parallel registration after the check (the unique index decides)
        return Outcome(errors=_id_taken(tenant))
    return Outcome(ok=True, account=account)


async def update(tenant: Tenant, admin: Account, data: MemberInput, *, address: str = "") -> Outcome:
    repo = MemberRepository(tenant, admin.customer)
    errors = _check(data)
    if errors:
        return Outcome(errors=errors)
    async with serialised(Customer, admin.customer):
        await _still_admin(repo, admin)
        member = await repo.get(data.member_id)
        if member is None:
            return Outcome(problem=_("ユーザー一覧から対象のユーザを選択してください。"))
        if await repo.email_taken(data.email, except_id=member.id):
            return Outcome(errors={"email": _("このメールアドレスは既に登録されています。")})
        if tenant.config.identity.login_id.kind == "email" and data.email.lower() != contact_address(member).lower():
            message = _("メールアドレスは{label}を兼ねるため、ここでは変更できません。").format(label=login_label(tenant))
            return Outcome(errors={"email": message})
        if data.role == "admin":
            role = member.role if is_admin(member) else "admin"
        else:
            role = "general"
            if await _leaves_no_admin(repo, member):
                return Outcome(
                    problem=_("管理者ユーザが1人のため、ユーザ種別を一般に変更できません。先に他のユーザを管理者にしてください。")
                )
        changes = {
            "email": data.email,
            "display_name": data.display_name,
            "role": role,
            "mail_notify": data.mail_notify == "yes",
        }
        before = {"role": member.role, "email": member.email}
        await repo.update(member, **changes)
        await AuditLog(tenant.slug).record(
            "member.updated",
            account_id=admin.id,
            address=address,
            member_id=member.id,
            role_from=before["role"],
            role_to=role,
            email_changed=before["email"] != data.email,
        )
    return Outcome(ok=True, account=member)


async def delete(tenant: Tenant, admin: Account, member_id, *, address: str = "") -> Outcome:
    repo = MemberRepository(tenant, admin.customer)
    async with serialised(Customer, admin.customer):
        await _still_admin(repo, admin)
        member = await repo.get(member_id)
        if member is None:
            return Outcome(problem=_("ユーザー一覧から対象のユーザを選択してください。"))
        if await _leaves_no_admin(repo, member):
            return Outcome(
                problem=_("管理者ユーザが1人のため、このユーザは削除できません。先に他のユーザを管理者にしてください。")
            )
        await repo.delete(member)
        await AuditLog(tenant.slug).record("member.deleted", account_id=admin.id, address=address, member_id=member.id)
    return Outcome(ok=True, account=member)
