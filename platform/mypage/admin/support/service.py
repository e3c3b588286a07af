"""Customer support: what staff see of a customer's portal accounts and what they may do for them.

No action shows or sets a customer's password: a pending account gets a new first-login mail (the
temporary password only in the mail), a lock is lifted, the second factor is reset (the customer sets it
up again), sessions are ended. Each action is audited with the staff member, the customer and before/after.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from litestar import Request

from mypage.admin.audit.log import record_staff_action
from mypage.admin.support.repository import SupportRepository
from mypage.admin.tables import StaffMember
from mypage.db.transaction import atomic
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.identity.accounts import AccountRepository
from mypage.identity.issued import reissue_first_login
from mypage.identity.recovery_support import mail_account_changed
from mypage.identity.tables import Account
from mypage.identity.unlock import LockState, lock_state, unlock
from mypage.records.tables import Customer
from mypage.tenancy.registry import Tenant
from mypage.web.render import portal_of, session_of

VIEW_AS_MINUTES = 15


class Action(StrEnum):
    UNLOCK = "unlock"
    RESEND = "resend"
    RESET_FACTOR = "reset-factor"
    END_SESSIONS = "end-sessions"


DONE = {
    Action.UNLOCK: N_("ロックを解除しました。"),
    Action.RESEND: N_("初回登録のメールを再送しました。"),
    Action.RESET_FACTOR: N_("2段階認証(認証アプリ)をリセットしました。"),
    Action.END_SESSIONS: N_("すべてのログイン中のセッションを終了しました。"),
}


class NotPossible(Exception):
    """The action does not apply to the account as it is (e.g. resending to an account already registered)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class AccountView:
    account: Account
    lock: LockState
    totp: bool
    recovery_codes_left: int

    @property
    def factors(self) -> list[str]:
        return ["password", *(["totp"] if self.totp else [])]


async def account_views(tenant: Tenant, accounts: list[Account]) -> list[AccountView]:
    repo = SupportRepository(tenant.slug)
    views = []
    for account in accounts:
        totp = bool(account.totp_secret)
        views.append(
            AccountView(
                account, await lock_state(tenant, account), totp, await repo.recovery_codes_left(account.id) if totp else 0
            )
        )
    return views


async def act(request: Request, tenant: Tenant, staff: StaffMember, customer: Customer, account: Account, action: Action) -> None:
    """Runs one support action on the customer's account, audited in the same transaction."""
    portal = portal_of(request)
    accounts = AccountRepository(tenant)
    event = f"admin.customer.{action.value.replace('-', '_')}"
    async with atomic():
        if action is Action.UNLOCK:
            before = await lock_state(tenant, account)
            await unlock(tenant, account)
            changes = (
                {"locked_minutes": before.minutes_left, "failures": before.failures},
                {"locked_minutes": 0, "failures": {}},
            )
        elif action is Action.RESEND:
            if account.status != "pending" or not account.email:
                raise NotPossible(_("このアカウントは初回登録済みのため、再送するメールはありません。"))
            await reissue_first_login(portal, tenant, account)
            changes = ({"status": account.status}, {"status": account.status, "mailed_to": account.email})
        elif action is Action.RESET_FACTOR:
            if not account.totp_secret:
                raise NotPossible(_("このアカウントは2段階認証(認証アプリ)を設定していません。"))
            await accounts.update(account, totp_secret="")
            await SupportRepository(tenant.slug).drop_recovery_codes(account.id)
            await mail_account_changed(portal, tenant, account, [_("2段階認証(認証アプリ)の解除")], [account.email])
            changes = ({"totp": True}, {"totp": False})
        else:
            version = account.credentials_version
            await accounts.end_sessions(account)
            changes = ({"credentials_version": version}, {"credentials_version": account.credentials_version})
        await record_staff_action(
            request, staff, event, customer_id=customer.id, account_id=account.id, before=changes[0], after=changes[1]
        )


async def start_view_as(request: Request, staff: StaffMember, customer: Customer, account: Account) -> None:
    """Opens a read-only customer session in the staff member's browser for :data:`VIEW_AS_MINUTES`.

    The portal middleware refuses every state-changing request of such a session and ends it on time;
    the customer's own sessions and records are untouched."""
    until = int(time.time()) + VIEW_AS_MINUTES * 60
    session = session_of(request)
    session.clear()
    session.rotate()
    session["account_id"] = account.id
    session["login_at"] = int(time.time())
    session["credentials_version"] = account.credentials_version
    session["view_as"] = {"staff_id": staff.id, "staff": staff.name, "customer_id": customer.id, "until": until}
    await record_staff_action(
        request, staff, "admin.customer.view_as_started", customer_id=customer.id, account_id=account.id, minutes=VIEW_AS_MINUTES
    )


async def end_view_as(request: Request, staff: StaffMember) -> int | None:
    """Ends this browser's "view as customer" session; returns the customer's id (None: there was none)."""
    session = session_of(request)
    view_as = session.get("view_as")
    if not view_as:
        return None
    account_id = session.get("account_id")
    session.destroy()
    await record_staff_action(
        request, staff, "admin.customer.view_as_ended", customer_id=view_as.get("customer_id"), account_id=account_id
    )
    return view_as.get("customer_id")
