"""Accounts and pending flows for the attack tests, written straight to the database the live server uses."""

from __future__ import annotations

import asyncio

import pyotp

from mypage.audit.tables import AuditEvent
from mypage.identity import normalize
from mypage.identity.passwords import hash_password
from mypage.identity.tables import Account, OneTimeToken
from mypage.mail.tables import OutboxMail
from mypage.records.tables import Customer

PASSWORD = "Secret2024x"
_HASH = hash_password(PASSWORD)


def run(coro):
    return asyncio.run(coro)


def make_customer(tenant: str, **fields) -> int:
    async def go():
        customer = Customer(
            tenant=tenant, number=fields.pop("number", "0000001"), name=fields.pop("name", "日本　太郎"), **fields
        )
        await customer.save()
        return customer.id

    return run(go())


def make_account(tenant: str, login_id: str, *, customer: int | None = None, **fields) -> int:
    async def go():
        account = Account(
            tenant=tenant,
            customer=customer,
            login_id=login_id.lower() if "@" in login_id else login_id,
            login_id_display=login_id,
            password_hash=fields.pop("password_hash", _HASH),
            email=fields.pop("email", "owner@example.jp"),
            status=fields.pop("status", "active"),
            **fields,
        )
        await account.save()
        return account.id

    return run(go())


def answer_hash(answer: str) -> str:
    return hash_password(normalize.name_key(answer))


def account_row(account_id: int) -> dict:
    async def go():
        return await Account.select().where(Account.id == account_id).first()

    return run(go())


def audit_count(event: str, **where) -> int:
    async def go():
        query = AuditEvent.count().where(AuditEvent.event == event)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return await query

    return run(go())


def last_mail_to(address: str) -> str:
    async def go():
        row = await OutboxMail.select().where(OutboxMail.recipient == address).order_by(OutboxMail.id, ascending=False).first()
        assert row is not None, f"no mail to {address}"
        return row["text_body"]

    return run(go())


def token_attempts(purpose: str) -> list[int]:
    async def go():
        rows = await OneTimeToken.select(OneTimeToken.attempts).where(OneTimeToken.purpose == purpose)
        return [r["attempts"] for r in rows]

    return run(go())


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()
