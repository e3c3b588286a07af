"""Who does a staff-side action, and how the services write it to the audit log (the console's
``record_staff_action`` writes the same columns)."""

from __future__ import annotations

from dataclasses import dataclass

from mypage.audit.log import AuditLog


@dataclass(frozen=True)
class Actor:
    """A console staff member (id and name) or a script (``staff_id`` None, e.g. ``Actor("cli")``)."""

    name: str
    staff_id: int | None = None
    address: str = ""
    label: str = ""
    """How the audit log names them (the console's ``actor_label``: name and e-mail); default: ``name``."""


async def record_action(
    tenant: str,
    actor: Actor,
    event: str,
    *,
    customer_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    **detail,
) -> None:
    """One audit entry for a staff action: who, what, which customer, before/after (call it inside the change's
    ``atomic()`` block)."""
    await AuditLog(tenant).record(
        event,
        address=actor.address,
        staff_id=actor.staff_id,
        actor=actor.label or actor.name,
        customer_id=customer_id,
        before=before,
        after=after,
        **detail,
    )
