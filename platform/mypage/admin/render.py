"""Rendering a console page: the tenant's theme and language, the admin layout, the staff member and the menu."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from mypage.admin.roles import ADMIN_ONLY, LABELS, SUPPORT_WORK, Role
from mypage.admin.tables import StaffMember
from mypage.web.render import render


def admin_page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Response:
    """``admin_page(request, "admin/….html", …)``: the template extends ``admin/layout.html``."""
    from mypage.admin.routes import nav_items

    staff: StaffMember | None = request.scope["state"].get("staff")
    session = request.scope["state"].get("staff_session")
    role = Role(staff.role) if staff is not None else None
    return render(
        request,
        template,
        status_code=status_code,
        staff=staff,
        staff_role_label=LABELS[role] if role else "",
        nav=[item for item in nav_items() if role in item.roles] if role else [],
        may_act=role in SUPPORT_WORK,
        is_admin=role in ADMIN_ONLY,
        role_labels=LABELS,
        flashes=session.take_flashes() if session is not None else [],
        **context,
    )
