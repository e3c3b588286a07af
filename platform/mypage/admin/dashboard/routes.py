"""The console's home page (ダッシュボード)."""

from __future__ import annotations

from litestar import Request, Response, get

from mypage.admin.auth import CurrentStaff
from mypage.admin.nav import NavItem
from mypage.admin.render import admin_page
from mypage.i18n import N_


@get("/")
async def home(request: Request, staff: CurrentStaff) -> Response:
    return admin_page(request, "admin/home.html")


ADMIN_ROUTES = [home]
ADMIN_NAV = [NavItem("/admin", N_("ダッシュボード"), order=0)]
