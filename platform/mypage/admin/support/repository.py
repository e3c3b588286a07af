"""Finding customers and reading what support needs about them; always within one tenant."""

from __future__ import annotations

from piccolo.query import WhereRaw

from mypage.identity import normalize
from mypage.identity.tables import Account, RecoveryCode
from mypage.records.tables import Contract, Customer

SEARCH_LIMIT = 50


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, spaces standing for any run of characters."""
    escaped = text.replace("%", "").replace("_", "")
    parts = [p for p in escaped.replace("\u3000", " ").split(" ") if p]
    return "%" + "%".join(parts) + "%"


class SupportRepository:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def _customers(self):
        return Customer.objects().where(Customer.tenant == self.tenant)

    async def search(self, query: str) -> list[Customer]:
        """Customers by お客様番号 (leading zeros optional), phone, e-mail (the record's or an account's),
        login ID, or name (kana normalised like the portal's forms, or as written)."""
        text = (query or "").strip()[:120]
        if not text:
            return []
        found: dict[int, Customer] = {}

        def add(rows: list[Customer]) -> None:
            for row in rows:
                found.setdefault(row.id, row)

        if "@" in text:
            address = normalize.email(text).lower()
            # LIKE's wildcards only widen the match (and its case rules differ per database): the comparison decides.
            pattern = address.replace("%", "_")
            rows = await self._customers().where(Customer.email.ilike(pattern)).limit(SEARCH_LIMIT)
            add([row for row in rows if row.email.lower() == address])
            ids = await (
                Account.select(Account.customer, Account.email)
                .where(Account.tenant == self.tenant)
                .where(Account.email.ilike(pattern))
            )
            await self._add_ids(found, [r["customer"] for r in ids if r["email"].lower() == address])
        digits = normalize.digits_only(text)
        if digits.isdigit():
            stripped = normalize.strip_leading_zeros(digits)
            add(await self._customers().where(WhereRaw("ltrim(number, '0') = {}", stripped)).limit(SEARCH_LIMIT))
            add(await self._customers().where(Customer.phone == digits).limit(SEARCH_LIMIT))
        else:
            kana = normalize.katakana_name(text)
            add(await self._customers().where(Customer.name_kana.like(_like(kana))).order_by(Customer.id).limit(SEARCH_LIMIT))
            add(
                await self._customers()
                .where(Customer.name.like(_like(normalize.name(text))))
                .order_by(Customer.id)
                .limit(SEARCH_LIMIT)
            )
        login_ids = await (
            Account.select(Account.customer)
            .where(Account.tenant == self.tenant)
            .where(Account.login_id == normalize.login_id(text, True))
        )
        await self._add_ids(found, [r["customer"] for r in login_ids])
        return list(found.values())[:SEARCH_LIMIT]

    async def _add_ids(self, found: dict[int, Customer], ids: list[int | None]) -> None:
        wanted = [i for i in ids if i is not None and i not in found]
        if wanted:
            for row in await self._customers().where(Customer.id.is_in(wanted)).limit(SEARCH_LIMIT):
                found.setdefault(row.id, row)

    async def by_number(self, number: str) -> Customer | None:
        """The customer with this お客様番号 (leading zeros optional)."""
        stripped = normalize.strip_leading_zeros(normalize.digits_only(number))
        return await self._customers().where(WhereRaw("ltrim(number, '0') = {}", stripped)).first()

    async def customer(self, customer_id: int) -> Customer | None:
        return await self._customers().where(Customer.id == customer_id).first()

    async def contracts(self, customer_id: int) -> list[Contract]:
        return await (
            Contract.objects().where(Contract.tenant == self.tenant).where(Contract.customer == customer_id).order_by(Contract.id)
        )

    async def accounts(self, customer_id: int) -> list[Account]:
        return await (
            Account.objects().where(Account.tenant == self.tenant).where(Account.customer == customer_id).order_by(Account.id)
        )

    async def account(self, customer_id: int, account_id: int) -> Account | None:
        """The account, only if it belongs to this customer (an id of another customer answers None)."""
        return await (
            Account.objects()
            .where(Account.tenant == self.tenant)
            .where(Account.customer == customer_id)
            .where(Account.id == account_id)
            .first()
        )

    async def recovery_codes_left(self, account_id: int) -> int:
        return await (
            RecoveryCode.count()
            .where(RecoveryCode.tenant == self.tenant)
            .where(RecoveryCode.account == account_id)
            .where(RecoveryCode.used_at.is_null())
        )

    async def drop_recovery_codes(self, account_id: int) -> None:
        await RecoveryCode.delete().where(RecoveryCode.tenant == self.tenant).where(RecoveryCode.account == account_id)
