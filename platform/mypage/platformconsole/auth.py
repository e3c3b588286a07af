"""Who is logged in to the platform console: the platform session (only on the platform host) and its guard."""

from __future__ import annotations

import time
from typing import TypeAlias

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler

from mypage.admin.auth import bind_fresh_session
from mypage.platformconsole.repository import PlatformStaffRepository
from mypage.platformconsole.tables import PlatformStaff
from mypage.web.sessions import Session

IDLE_MINUTES = 30
ABSOLUTE_HOURS = 10
PUBLIC = "platform_public"
"""``opt={PUBLIC: True}``: reachable without a platform login (login, invitation)."""


class PlatformLoginRequired(Exception):
    pass


def platform_session(connection: ASGIConnection) -> Session:
    """The platform session; absent on every other host, where the console does not exist (404)."""
    session = connection.scope["state"].get("platform_session")
    if session is None:
        raise NotFoundException()
    return session


def start_platform_session(request: Request, staff: PlatformStaff) -> None:
    bind_fresh_session(platform_session(request), staff.id, staff.credentials_version)


async def load_platform_staff(connection: ASGIConnection) -> PlatformStaff | None:
    state = connection.scope["state"]
    if "platform_staff" in state:
        return state["platform_staff"]
    session = platform_session(connection)
    staff = None
    if session.get("staff_id") is not None:
        now = int(time.time())
        fresh = (
            now - int(session.get("_last_seen", now)) <= IDLE_MINUTES * 60
            and now - int(session.get("login_at", now)) <= ABSOLUTE_HOURS * 3600
        )
        if fresh:
            staff = await PlatformStaffRepository().by_id(session.get("staff_id"))
            if staff is not None and (
                staff.status != "active" or staff.credentials_version != session.get("credentials_version")
            ):
                staff = None
        if staff is None:
            session.clear()
            session.rotate()
        elif now - int(session.get("_last_seen", 0)) >= 60:
            session["_last_seen"] = now
    state["platform_staff"] = staff
    return staff


async def platform_required(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    platform_session(connection)
    if handler.opt.get(PUBLIC):
        return
    if await load_platform_staff(connection) is None:
        raise PlatformLoginRequired()


async def current_platform_staff(request: Request) -> PlatformStaff:
    staff = await load_platform_staff(request)
    if staff is None:
        raise PlatformLoginRequired()
    return staff


CurrentPlatformStaff: TypeAlias = NamedDependency[PlatformStaff]
"""``platform_staff: CurrentPlatformStaff`` in a console handler: the logged-in platform staff member."""
