from __future__ import annotations

from litestar import Request, Response, get

from mypage.identity.session_auth import load_account
from mypage.records.tables import Notice
from mypage.web.render import redirect, render, tenant_of
from mypage.web.routes import dev_index


@get("/")
async def home(request: Request) -> Response:
    if request.scope["state"].get("tenant") is None:
        return dev_index(request)
    tenant = tenant_of(request)
    account = await load_account(request)
    if account is None:
        return redirect("/login")
    notices = await (
        Notice.select().where(Notice.tenant == tenant.slug).order_by(Notice.published_on, ascending=False).limit(5)
    )
    return render(request, "home.html", notices=notices)


ROUTES = [home]
