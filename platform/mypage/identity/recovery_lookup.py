"""「{login ID}がご不明な場合」 by e-mail (``identity.recovery.id_forgotten = "email_lookup"``).

``/forgot/id``: the customer enters an e-mail address; every login ID registered to it (as contact address,
or as the login ID itself) is mailed there. The answer page is the same whether or not the address is
registered (no enumeration). Requests are limited per address typed and per client address, counted before
anything is looked up (:mod:`mypage.identity.attempts`), so the form cannot be used to flood a mailbox.
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException

from mypage.audit.log import AuditLog
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity import normalize
from mypage.identity.accounts import AccountRepository
from mypage.identity.attempts import AttemptLimit
from mypage.identity.policy import check_email
from mypage.identity.tables import Account
from mypage.mail.outbox import enqueue
from mypage.tenancy.config import ID_LOOKUP_PATH
from mypage.tenancy.registry import Tenant
from mypage.web.render import client_address, portal_of, redirect, render, session_of, tenant_of

PREFIX = ID_LOOKUP_PATH
SENT_FLAG = "id_lookup_sent"


def _tenant(request: Request) -> Tenant:
    tenant = tenant_of(request)
    if tenant.config.identity.recovery.id_forgotten != "email_lookup":
        raise NotFoundException()
    return tenant


def per_email_limit(tenant: Tenant) -> AttemptLimit:
    """Lookups of one e-mail address (``tokens.max_attempts`` per ``lockout.lock_minutes``)."""
    return AttemptLimit.in_lock_window(tenant, "recovery.lookup.email", tenant.config.identity.tokens.max_attempts)


def per_client_limit(tenant: Tenant) -> AttemptLimit:
    """Lookups from one client address (``lockout.per_address_max_failures`` per ``lockout.lock_minutes``)."""
    return AttemptLimit.in_lock_window(tenant, "recovery.lookup.address", tenant.config.identity.lockout.per_address_max_failures)


async def accounts_at(tenant: Tenant, email: str) -> list[Account]:
    """Active accounts reached at ``email``: by contact address, or whose login ID is that address."""
    repo = AccountRepository(tenant)
    found = {a.id: a for a in await repo.by_email(email)}
    if tenant.config.identity.login_id.kind == "email":
        by_id = await repo.by_login_id(email)
        if by_id is not None and not by_id.email:
            found.setdefault(by_id.id, by_id)
    return [a for a in found.values() if a.status != "disabled"]


def _form(request: Request, *, status_code: int = 200, email: str = "", errors=None, form_error: str = "") -> Response:
    return render(
        request,
        "identity/forgot_id.html",
        status_code=status_code,
        values={"email": email},
        errors=errors or {},
        form_error=form_error,
        action=PREFIX,
    )


@get(PREFIX)
async def lookup_page(request: Request) -> Response:
    _tenant(request)
    return _form(request)


@post(PREFIX)
async def lookup_submit(request: Request) -> Response:
    tenant = _tenant(request)
    form = await request.form()
    email = normalize.email(str(form.get("email") or ""))[:254]
    problems = check_email(email)
    if problems:
        return _form(request, status_code=400, email=email, errors={"email": problems})
    address = client_address(request)
    audit = AuditLog(tenant.slug)
    for limit, subject in ((per_client_limit(tenant), address), (per_email_limit(tenant), email.lower())):
        if not (await limit.claim(subject)).allowed:
            await audit.record("recovery.id_lookup_limited", address=address, scope=limit.scope)
            message = _("短時間にお手続きが続いたため、受付を一時停止しています。{minutes}分ほど時間をおいてからお試しください。")
            return _form(
                request, status_code=429, email=email, form_error=message.format(minutes=await limit.minutes_left(subject))
            )
    accounts = await accounts_at(tenant, email)
    async with atomic():
        if accounts:
            await enqueue(
                portal_of(request),
                tenant,
                to=email,
                template="login_id_lookup",
                context={"login_ids": [a.login_id_display or a.login_id for a in accounts]},
            )
        await audit.record("recovery.id_lookup", address=address, accounts=[a.id for a in accounts], sent=bool(accounts))
    session_of(request)[SENT_FLAG] = email
    return redirect(f"{PREFIX}/sent")


@get(f"{PREFIX}/sent")
async def lookup_sent(request: Request) -> Response:
    _tenant(request)
    email = session_of(request).get(SENT_FLAG)
    if not email:
        return redirect(PREFIX)
    return render(request, "identity/forgot_id_sent.html", email=email)


ROUTES = [lookup_page, lookup_submit, lookup_sent]
