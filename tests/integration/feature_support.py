"""Helpers for the customer-feature tests: rows created directly, and a signed-in client.

Signing in writes a server-side session for the account (as a completed login would), so feature tests
do not depend on each tenant's login factors (e-mailed codes, captcha), which their own tests cover.
"""

from __future__ import annotations

import secrets
import time

from conftest import run
from mypage.identity.passwords import hash_password
from mypage.identity.tables import Account
from mypage.records.tables import Contract, Customer, PhoneLine
from mypage.web.sessions import COOKIE_NAME, DatabaseSessionStore, _store_key

_HASH = None


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = hash_password("Passw0rd1")
    return _HASH


def make_customer(tenant: str, number: str = "0000001", *, services: str = "internet", email: str = "") -> int:
    async def go():
        customer = Customer(
            tenant=tenant, number=number, name="日本　太郎", name_kana="ニホン　タロウ", services=services, email=email
        )
        await customer.save()
        return customer.id

    return run(go())


def make_account(
    tenant: str,
    customer_id: int | None,
    login_id: str,
    *,
    email: str = "",
    role: str = "owner",
    mail_notify: bool = True,
    display_name: str = "",
    status: str = "active",
) -> int:
    async def go():
        account = Account(
            tenant=tenant,
            customer=customer_id,
            login_id=login_id,
            login_id_display=login_id,
            email=email,
            role=role,
            mail_notify=mail_notify,
            display_name=display_name,
            password_hash=password_hash(),
            status=status,
        )
        await account.save()
        return account.id

    return run(go())


def make_contract(tenant: str, customer_id: int, number: str, *, phone: str | None = None, service: str = "phone") -> int:
    async def go():
        contract = Contract(tenant=tenant, customer=customer_id, number=number, service=service, service_name="mediaひかり電話")
        await contract.save()
        if phone:
            await PhoneLine(tenant=tenant, contract=contract.id, service_name="ひかり電話", number=phone).save()
        return contract.id

    return run(go())


def sign_in(client, tenant: str, account_id: int):
    """Gives ``client`` a logged-in session for the account; returns the client."""
    session_id = secrets.token_urlsafe(32)
    now = int(time.time())
    data = {"_tenant": tenant, "account_id": account_id, "login_at": now, "_last_seen": now}
    run(DatabaseSessionStore().save(_store_key(session_id), data, 3600))
    client.cookies.set(COOKIE_NAME, session_id)
    return client
