"""Registration journeys, one module per ``identity.registration.flow``.

Convention (to keep the flows from clashing on paths): the login page links ``/register``; that
route (below) redirects to the tenant's flow at ``/register/<flow with hyphens>`` —
``/register/chosen-id``, ``/register/email-id``, ``/register/issued-id``. Each flow module keeps all
its pages under its own prefix, exports ``ROUTES`` and answers 404 when the tenant runs another flow.
"""

from __future__ import annotations

from litestar import Request, Response, get

from mypage.web.render import redirect, tenant_of


def flow_path(flow: str) -> str:
    return "/register/" + flow.replace("_", "-")


@get("/register")
async def register_entry(request: Request) -> Response:
    query = "?" + request.url.query if request.url.query else ""
    return redirect(flow_path(tenant_of(request).config.identity.registration.flow) + query)


ROUTES = [register_entry]
