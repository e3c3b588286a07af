"""Rows for the billing tests: customers, accounts, contracts, invoices and lines, and a signed-in client."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import date

from mypage.identity.tables import Account
from mypage.records.tables import BillingGroup, Contract, Customer, Invoice, InvoiceLine
from mypage.web.sessions import COOKIE_NAME, DatabaseSessionStore, _store_key


def run(coro):
    return asyncio.run(coro)


def customer(tenant: str, number: str, **fields) -> int:
    async def go():
        defaults = dict(
            name="日本　太郎",
            name_kana="ニホン　タロウ",
            postal_code="5340024",
            prefecture="大阪府",
            address1="大阪市都島区東野田町",
            email="",
        )
        row = Customer(tenant=tenant, number=number, **{**defaults, **fields})
        await row.save()
        return row.id

    return run(go())


def account(tenant: str, customer_id: int | None, login_id: str, *, email: str = "", role: str = "owner") -> int:
    async def go():
        row = Account(
            tenant=tenant,
            customer=customer_id,
            login_id=login_id,
            login_id_display=login_id,
            email=email,
            role=role,
            password_hash="x",
            nickname="テスト",
        )
        await row.save()
        return row.id

    return run(go())


def contract(tenant: str, customer_id: int, number: str, *, group: int | None = None, service_name: str = "mediaひかり") -> int:
    async def go():
        row = Contract(tenant=tenant, customer=customer_id, number=number, billing_group=group, service_name=service_name)
        await row.save()
        return row.id

    return run(go())


def group(tenant: str, customer_id: int, code: str, name: str = "一括請求") -> int:
    async def go():
        row = BillingGroup(tenant=tenant, customer=customer_id, code=code, name=name)
        await row.save()
        return row.id

    return run(go())


def invoice(tenant: str, customer_id: int, number: str, month: str, lines: list[tuple], *, group: int | None = None) -> int:
    """``lines``: (description, amount excl. tax, rate[, contract id[, note]])."""

    async def go():
        year, mon = (int(p) for p in month.split("-"))
        row = Invoice(
            tenant=tenant,
            customer=customer_id,
            billing_group=group,
            number=number,
            month=month,
            issued_on=date(year, mon, 9),
            due_on=date(year, mon, 27),
            payment_method="bank",
        )
        await row.save()
        for position, line in enumerate(lines, start=1):
            description, amount, rate, *rest = line
            await InvoiceLine(
                tenant=tenant,
                invoice=row.id,
                position=position,
                description=description,
                amount=amount,
                tax_rate=rate,
                contract=rest[0] if rest else None,
                note=rest[1] if len(rest) > 1 else "",
            ).save()
        return row.id

    return run(go())


def months_back(newest: str, count: int) -> list[str]:
    """``count`` months ending at ``newest``, newest first."""
    year, mon = (int(p) for p in newest.split("-"))
    result = []
    for _ in range(count):
        result.append(f"{year:04d}-{mon:02d}")
        mon -= 1
        if mon == 0:
            year, mon = year - 1, 12
    return result


def sign_in(client, tenant: str, account_id: int):
    session_id = secrets.token_urlsafe(32)
    now = int(time.time())
    data = {"_tenant": tenant, "account_id": account_id, "login_at": now, "_last_seen": now}
    run(DatabaseSessionStore().save(_store_key(session_id), data, 3600))
    client.cookies.set(COOKIE_NAME, session_id)
    return client
