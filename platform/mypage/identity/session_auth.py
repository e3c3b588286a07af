"""Who is logged in: session binding at login, the login guard, logout."""

from __future__ import annotations

import time
from urllib.parse import quote

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from mypage.i18n import N_
from mypage.identity.accounts import AccountRepository
from mypage.identity.tables import Account
from mypage.records.tables import Customer
from mypage.web.render import requires_feature, session_of, tenant_of


class LoginRequired(Exception):
    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


def start_session(request: Request, account: Account) -> None:
    """Binds the account to a fresh session id (the old id stops working)."""
    session = session_of(request)
    for key in [k for k in session.data if not k.startswith("_")]:
        session.pop(key)
    session.rotate()
    session["account_id"] = account.id
    session["login_at"] = int(time.time())
    session["credentials_version"] = account.credentials_version


def keep_session(request: Request, account: Account) -> None:
    """After this session changed the account's credentials: it stays logged in (the others do not)."""
    session = session_of(request)
    if session.get("account_id") == account.id:
        session["credentials_version"] = account.credentials_version


def end_session(request: Request) -> None:
    session_of(request).destroy()


async def load_account(connection: ASGIConnection) -> Account | None:
    state = connection.scope["state"]
    if "account" in state:
        return state["account"]
    session = state.get("session")
    account = customer = None
    if session is not None and session.get("account_id") is not None:
        repository = AccountRepository(tenant_of(connection))
        read_with = session.read_with.get("account")
        if read_with and read_with.get("id") is not None and read_with["id"] == session.get("account_id"):
            account, customer = repository.account_with_customer(read_with, session.read_with.get("customer"))
        else:
            account, customer = await repository.by_id_with_customer(session.get("account_id"))
        if account is None or account.status == "disabled":
            session.clear()
            account = customer = None
        elif account.credentials_version != session.get("credentials_version", 0):
            session.clear()
            session["forced_logout"] = "credentials"
            account = customer = None
    state["account"] = account
    state["customer"] = customer
    return account


def customer_of(connection: ASGIConnection) -> Customer | None:
    """The logged-in account's customer, read with the account by :func:`load_account` (no second query)."""
    return connection.scope["state"].get("customer")


async def login_required(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if await load_account(connection) is None:
        path = connection.url.path
        if connection.url.query:
            path += "?" + connection.url.query
        raise LoginRequired(path)


def feature_login_required(feature: str):
    """``[requires_feature(feature), login_required]`` as one guard: Litestar copies the route handler for each
    guard it runs, on every request."""
    feature_on = requires_feature(feature)

    async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        await feature_on(connection, handler)
        await login_required(connection, handler)

    return guard


async def admin_required(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The page exists but only administrators use it: others are told so (403), not shown "not found"."""
    from mypage.web.errors import Refused

    await login_required(connection, handler)
    if connection.scope["state"]["account"].role not in ("owner", "admin"):
        raise Refused(N_("このページは管理者ユーザのみご利用いただけます。管理者ユーザにお問い合わせください。"))


async def current_account(connection: ASGIConnection) -> Account:
    """The logged-in account, in a route guarded by :func:`login_required` (else the login page is answered)."""
    account = await load_account(connection)
    if account is None:
        raise LoginRequired(connection.url.path)
    return account


def login_redirect_target(exc: LoginRequired) -> str:
    return "/login?next=" + quote(exc.next_path, safe="/")
