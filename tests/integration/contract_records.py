"""Rows for the home, contracts and calls tests, created directly; a signed-in client without login factors."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, date, datetime, timedelta, timezone

from conftest import run
from mypage.identity.tables import Account
from mypage.records.tables import (
    BillingGroup,
    CallRecord,
    Contract,
    ContractOption,
    Customer,
    Document,
    Notice,
    PhoneLine,
    ServiceHistory,
)
from mypage.web.sessions import COOKIE_NAME, DatabaseSessionStore, _store_key


def save(row):
    async def go():
        await row.save()
        return row

    return run(go())


def customer(tenant: str, number: str, **fields) -> Customer:
    defaults = dict(
        name="顧客r",
        name_kana="コキヤク",
        postal_code="5340024",
        prefecture="大阪府",
        address1="大阪市都島区東野田町",
        email=f"{number}@example.jp",
    )
    return save(Customer(tenant=tenant, number=number, **{**defaults, **fields}))


def account(tenant: str, customer_row: Customer | None, login_id: str, **fields) -> Account:
    defaults = dict(email=f"{login_id}@example.jp", password_hash="x", display_name="", role="owner")
    return save(
        Account(
            tenant=tenant,
            customer=customer_row.id if customer_row else None,
            login_id=login_id,
            login_id_display=login_id,
            **{**defaults, **fields},
        )
    )


def contract(tenant: str, customer_row: Customer, number: str, **fields) -> Contract:
    defaults = dict(
        holder_name=customer_row.name,
        holder_kana=customer_row.name_kana,
        postal_code="5340024",
        address1="大阪府大阪市都島区東野田町",
        service_name="[100M] ファミリー",
        status="サービス提供準備中",
        started_on=date(2023, 12, 7),
        access_key="BUEdeJWm",
    )
    return save(Contract(tenant=tenant, customer=customer_row.id, number=number, **{**defaults, **fields}))


def billing_group(tenant: str, customer_row: Customer, code: str, name: str) -> BillingGroup:
    return save(BillingGroup(tenant=tenant, customer=customer_row.id, code=code, name=name))


def option(tenant: str, contract_row: Contract, position: int, name: str) -> ContractOption:
    return save(ContractOption(tenant=tenant, contract=contract_row.id, position=position, name=name))


def phone_line(tenant: str, contract_row: Contract, number: str, service_name: str = "ひかり電話") -> PhoneLine:
    return save(PhoneLine(tenant=tenant, contract=contract_row.id, number=number, service_name=service_name))


def document(
    tenant: str, customer_row: Customer, contract_row: Contract | None, kind: str, issued_on: date, **fields
) -> Document:
    return save(
        Document(
            tenant=tenant,
            customer=customer_row.id,
            contract=contract_row.id if contract_row else None,
            kind=kind,
            issued_on=issued_on,
            **fields,
        )
    )


def history(tenant: str, customer_row: Customer, happened_on: date, description: str) -> ServiceHistory:
    return save(ServiceHistory(tenant=tenant, customer=customer_row.id, happened_on=happened_on, description=description))


def notice(tenant: str, title: str, published_on: date, body: str = "", important: bool = False) -> Notice:
    return save(Notice(tenant=tenant, title=title, body=body, published_on=published_on, important=important))


JST = timezone(timedelta(hours=9))


def calls(tenant: str, contract_row: Contract, month: str, count: int, *, start: datetime | None = None, charge=8) -> None:
    """``count`` calls in ``month``, one a minute from ``start`` (JST), inserted in batches."""
    year, mon = map(int, month.split("-"))
    start = start or datetime(year, mon, 1, 10, 19, tzinfo=JST)

    async def go():
        batch = []
        for i in range(count):
            batch.append(
                CallRecord(
                    tenant=tenant,
                    contract=contract_row.id,
                    month=month,
                    started_at=(start + timedelta(minutes=i)).astimezone(UTC),
                    kind="ひかり電話・県内" if i % 2 == 0 else "PSTN・県間",
                    caller="0611115555",
                    callee=f"063884{i % 10000:04d}",
                    duration_seconds=34 + i % 60,
                    charge=charge(i) if callable(charge) else charge,
                    record_key=f"{contract_row.number}-{month}-{i}",
                )
            )
            if len(batch) == 500:
                await CallRecord.insert(*batch)
                batch = []
        if batch:
            await CallRecord.insert(*batch)

    run(go())


def sign_in(client, tenant: str, account_row: Account):
    """Gives ``client`` a logged-in session for the account (as a completed login would)."""
    session_id = secrets.token_urlsafe(32)
    now = int(time.time())
    data = {"_tenant": tenant, "account_id": account_row.id, "login_at": now, "_last_seen": now}
    run(DatabaseSessionStore().save(_store_key(session_id), data, 3600))
    client.cookies.set(COOKIE_NAME, session_id)
    return client
