"""Who is logged in to the console: the staff session, the guards and the ``staff`` dependency.

The staff session is its own cookie (``mypage_staff``, path ``/admin``) loaded by the portal middleware into
``request.state.staff_session``; a customer's session never grants the console, and a staff session is not
a customer login. It ends after :data:`IDLE_MINUTES` without a request, :data:`ABSOLUTE_HOURS` after the
login, and when the member's credentials or role change (``credentials_version``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TypeAlias
from urllib.parse import quote

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler

from mypage.admin.roles import Role
from mypage.admin.staff.repository import StaffRepository
from mypage.admin.tables import StaffMember
from mypage.i18n import N_
from mypage.web.errors import Refused
from mypage.web.render import tenant_of
from mypage.web.sessions import Session, refresh_idle_clock

IDLE_MINUTES = 30
ABSOLUTE_HOURS = 10
LOGIN_KEYS = ("staff_id", "login_at", "credentials_version")
PENDING_KEY = "staff_pending"
"""The staff member whose password was right, until the authenticator code is given."""
PUBLIC = "staff_public"
"""``opt={PUBLIC: True}`` on a console handler: reachable without a staff login (login, invitation)."""
VIEWER_MAY_POST = "viewer_may_post"
"""``opt={VIEWER_MAY_POST: True}``: a POST a 閲覧 member may make (logging out); every other POST is refused to them."""
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class StaffLoginRequired(Exception):
    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


def staff_session(connection: ASGIConnection) -> Session:
    session = connection.scope["state"].get("staff_session")
    if session is None:  # only paths under /admin carry the staff session
        raise NotFoundException()
    return session


def start_staff_session(request: Request, staff: StaffMember) -> None:
    """Binds the staff member to a fresh session id (the old id stops working)."""
    bind_fresh_session(staff_session(request), staff.id, staff.credentials_version)


def bind_fresh_session(session: Session, staff_id: int, credentials_version: int) -> None:
    """Binds a staff member (tenant console or platform console) to a fresh session id: the old id stops working."""
    session.clear()
    session.rotate()
    now = int(time.time())
    session["staff_id"] = staff_id
    session["login_at"] = now
    session["_last_seen"] = now
    session["credentials_version"] = credentials_version


def end_staff_session(request: Request) -> None:
    staff_session(request).destroy()


def _expired(session: Session, now: int) -> str | None:
    if now - int(session.get("_last_seen", now)) > IDLE_MINUTES * 60:
        return "idle"
    if now - int(session.get("login_at", now)) > ABSOLUTE_HOURS * 3600:
        return "absolute"
    return None


async def load_staff(connection: ASGIConnection) -> StaffMember | None:
    state = connection.scope["state"]
    if "staff" in state:
        return state["staff"]
    session = state.get("staff_session")
    staff = None
    if session is not None and session.get("staff_id") is not None:
        now = int(time.time())
        reason = _expired(session, now)
        if reason is None:
            staff = await StaffRepository(tenant_of(connection).slug).by_id(session.get("staff_id"))
            if staff is None or staff.status != "active":
                reason, staff = "disabled", None
            elif staff.credentials_version != session.get("credentials_version"):
                reason, staff = "credentials", None
        if reason is not None:
            session.clear()
            session["forced_logout"] = reason
            session.rotate()
        else:
            refresh_idle_clock(session, now)
    state["staff"] = staff
    return staff


async def staff_required(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The console router's guard: a logged-in staff member of this tenant, and no POST from 閲覧 members
    unless the handler allows it. Handlers marked ``opt={PUBLIC: True}`` are open (login, invitation)."""
    tenant_of(connection)
    if handler.opt.get(PUBLIC):
        return
    staff = await load_staff(connection)
    if staff is None:
        path = connection.url.path
        if connection.url.query and connection.scope.get("method", "GET") in SAFE_METHODS:
            path += "?" + connection.url.query
        raise StaffLoginRequired(path if connection.scope.get("method", "GET") in SAFE_METHODS else "/admin")
    if (
        connection.scope.get("method", "GET") not in SAFE_METHODS
        and staff.role == Role.VIEWER
        and not handler.opt.get(VIEWER_MAY_POST)
    ):
        raise Refused(N_("閲覧権限のスタッフはこの操作を行えません。"))


def roles_allowed(roles: Iterable[Role]):
    """A guard for one page or action: only these roles (others get the themed 403 page)."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        staff = await load_staff(connection)
        if staff is None:
            raise StaffLoginRequired("/admin")
        if staff.role not in allowed:
            raise Refused(N_("この操作を行う権限がありません。"))

    return guard


async def current_staff(request: Request) -> StaffMember:
    """The ``staff`` dependency of every console handler (the router's guard already required the login)."""
    staff = await load_staff(request)
    if staff is None:
        raise StaffLoginRequired(request.url.path)
    return staff


CurrentStaff: TypeAlias = NamedDependency[StaffMember]
"""``staff: CurrentStaff`` in a console handler: the logged-in staff member (provided by the router)."""


def login_target(exc: StaffLoginRequired) -> str:
    return "/admin/login?next=" + quote(exc.next_path, safe="/")
