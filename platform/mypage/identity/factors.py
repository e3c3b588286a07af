"""What follows a correct password, by the tenant's ``identity.factors`` and the account.

With only ``password`` (and a captcha answered on the login form) the session starts at once. Otherwise
the remaining steps are kept in the session under ``pending_login`` (not logged in yet) and each step's
page calls :func:`step_passed`.

Steps, in the order of ``identity.factors``:
- ``email_otp``: a one-time password mailed to the account's address (page ``/login/email_otp``; the
  captcha is shown and checked on that same page when ``captcha.placement`` is ``email_otp``);
- ``captcha``: its own page (``/login/captcha``) when ``captcha.placement`` is ``step``; with ``login`` it
  is checked with the password and is no step;
- ``totp``: an authenticator app (page ``/login/totp``); when the factor is required and the account has
  no app yet, the step is ``totp_setup`` (``/login/totp_setup``: the app is set up, then the login goes on);
  with ``totp_optional``, for accounts that turned it on, last.
"""

from __future__ import annotations

import time

from litestar import Request, Response

from mypage.identity.login import PasswordLogin
from mypage.identity.session_auth import start_session
from mypage.identity.tables import Account
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, redirect, safe_next, session_of

PENDING_MAX_SECONDS = 15 * 60


def required_steps(tenant: Tenant, account: Account) -> list[str]:
    identity = tenant.config.identity
    steps = []
    for factor in identity.factors:
        if factor == "email_otp":
            steps.append("email_otp")
        elif factor == "captcha" and identity.captcha_placement() == "step":
            steps.append("captcha")
        elif factor == "totp":
            steps.append("totp" if account.totp_secret else "totp_setup")
    if identity.totp_optional and account.totp_secret:
        steps.append("totp")
    return steps


async def after_password(request: Request, tenant: Tenant, account: Account, next_path: str) -> Response:
    steps = required_steps(tenant, account)
    if not steps:
        return await finish_login(request, tenant, account, next_path)
    session = session_of(request)
    session["pending_login"] = {
        "account_id": account.id,
        "steps": steps,
        "next": next_path,
        "started": int(time.time()),
        "credentials_version": account.credentials_version,
    }
    return redirect(f"/login/{steps[0]}")


def pending(request: Request, step: str) -> dict | None:
    """The pending login if ``step`` is its current step and it has not gone stale."""
    data = session_of(request).get("pending_login")
    if not data or not data.get("steps") or data["steps"][0] != step:
        return None
    if int(time.time()) - int(data.get("started", 0)) > PENDING_MAX_SECONDS:
        session_of(request).pop("pending_login")
        return None
    return data


async def step_passed(request: Request, tenant: Tenant, account: Account, step: str) -> Response:
    session = session_of(request)
    data = dict(session.get("pending_login") or {})
    steps = [s for s in data.get("steps", []) if s != step]
    if steps:
        data["steps"] = steps
        session["pending_login"] = data
        return redirect(f"/login/{steps[0]}")
    session.pop("pending_login")
    if data.get("credentials_version", 0) != account.credentials_version:
        # The password (or ID) changed while this login was half-way: it starts over.
        return redirect("/login")
    return await finish_login(request, tenant, account, data.get("next", ""))


async def finish_login(request: Request, tenant: Tenant, account: Account, next_path: str) -> Response:
    start_session(request, account)
    await PasswordLogin(tenant).complete(account, client_address(request))
    return redirect(safe_next(next_path, "/"))
