"""The console's staff member as the feature services' :class:`~mypage.audit.actor.Actor` (who, from where,
named in the audit log as ``record_staff_action`` names them)."""

from __future__ import annotations

from litestar.connection import ASGIConnection

from mypage.admin.audit.log import actor_label
from mypage.admin.tables import StaffMember
from mypage.audit.actor import Actor
from mypage.web.render import client_address


def actor_of(request: ASGIConnection, staff: StaffMember) -> Actor:
    return Actor(name=staff.name, staff_id=staff.id, address=client_address(request), label=actor_label(staff))
