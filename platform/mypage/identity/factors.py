"""What follows a correct password, by the tenant's ``identity.factors``.

With only ``password`` the session starts at once. Further factors (an emailed one-time password,
a captcha, an authenticator app) are steps kept in the session under ``pending_login`` until all
are passed.
"""

from __future__ import annotations

from litestar import Request, Response

from mypage.identity.login import PasswordLogin
from mypage.identity.session_auth import start_session
from mypage.identity.tables import Account
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, redirect, safe_next


async def after_password(request: Request, tenant: Tenant, account: Account, next_path: str) -> Response:
    start_session(request, account)
    await PasswordLogin(tenant).complete(account, client_address(request))
    return redirect(safe_next(next_path, "/"))
