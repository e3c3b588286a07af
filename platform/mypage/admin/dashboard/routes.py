"""The console's home page (ダッシュボード): use of the portal per day, and the work waiting."""

from __future__ import annotations

from litestar import Request, Response, get

from mypage.admin.auth import CurrentStaff
from mypage.admin.dashboard.charts import bar_chart
from mypage.admin.dashboard.service import OPEN_INQUIRIES_SHOWN, dashboard
from mypage.admin.nav import NavItem
from mypage.admin.render import admin_page
from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.web.render import tenant_of


@get("/")
async def home(request: Request, staff: CurrentStaff) -> Response:
    tenant = tenant_of(request)
    board = await dashboard(tenant)
    charts = [(series, bar_chart(_(series.label), board.days, series.values)) for series in board.series]
    return admin_page(
        request,
        "admin/home.html",
        board=board,
        charts=charts,
        inquiries_on=tenant.config.features.enabled("inquiries"),
        inquiries_capped=board.open_inquiries >= OPEN_INQUIRIES_SHOWN,
    )


ADMIN_ROUTES = [home]
ADMIN_NAV = [NavItem("/admin", N_("ダッシュボード"), order=0)]
