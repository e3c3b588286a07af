"""The registration pipeline: one journey built from configured steps (see ``plan.py``).

``/register`` (linked from the login page) redirects to the pipeline's first page, whose path follows the
login-ID kind (``/register/chosen-id``, ``/register/email-id``, ``/register/issued-id``). The steps:
``verify.py`` (本人確認 and 追加認証), ``credentials.py`` (login ID and password, 確認), ``confirm.py``
(the mailed link or code; issued credentials), ``complete.py`` (the account, 登録完了) and
``first_login.py`` (the first login of issued credentials).
"""

from __future__ import annotations

from litestar import Request, Response, get

from mypage.identity.registration.plan import plan_of
from mypage.web.render import redirect, tenant_of


@get("/register")
async def register_entry(request: Request) -> Response:
    query = "?" + request.url.query if request.url.query else ""
    return redirect(plan_of(tenant_of(request)).prefix + query)


def all_routes() -> list:
    from mypage.identity.registration import complete, confirm, credentials, first_login, verify

    return [register_entry, *verify.ROUTES, *credentials.ROUTES, *confirm.ROUTES, *complete.ROUTES, *first_login.ROUTES]
