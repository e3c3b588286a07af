"""How a console action is written to the audit log: who (the staff member), what (``admin.<area>.<verb>``),
which customer, and the changed fields before and after."""

from __future__ import annotations

from litestar.connection import ASGIConnection

from mypage.admin.tables import StaffMember
from mypage.audit.log import AuditLog
from mypage.web.render import client_address


def actor_label(staff: StaffMember | None) -> str:
    """How the log names the staff member (kept there if the account is later removed)."""
    return f"{staff.name} <{staff.email}>" if staff is not None else "mypage staff (CLI)"


async def record_staff_action(
    request: ASGIConnection,
    staff: StaffMember,
    event: str,
    *,
    customer_id: int | None = None,
    account_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    **detail,
) -> None:
    """``await record_staff_action(request, staff, "admin.branding.published", before={…}, after={…})``.

    Call it inside the same ``atomic()`` block as the change, so that the change and its entry commit together.
    Never put a secret (password, token, TOTP secret) into ``before``/``after``/``detail``.
    """
    await AuditLog(staff.tenant).record(
        event,
        address=client_address(request),
        staff_id=staff.id,
        actor=actor_label(staff),
        customer_id=customer_id,
        account_id=account_id,
        before=before,
        after=after,
        **detail,
    )
