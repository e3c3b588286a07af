"""The only code that queries accounts; always within one tenant."""

from __future__ import annotations

from datetime import UTC, datetime

from mypage.db.errors import is_unique_violation
from mypage.db.prepared import PreparedSelect, PreparedSQL, stored_object
from mypage.identity import normalize
from mypage.identity.tables import Account
from mypage.records.tables import Customer
from mypage.tenancy.registry import Tenant
from mypage.web.tables import SessionRecord

_ACCOUNT_WITH_CUSTOMER = PreparedSelect(
    Account,
    lambda slug, account_id: (
        Account.select(*Account.all_columns(exclude=[Account.customer]), *Account.customer.all_columns())
        .where(Account.tenant == slug)
        .where(Account.id == account_id)
        .limit(1)
        .output(nested=True)
    ),
    arity=2,
)


def _nested_columns(alias: str, table, prefix: str) -> str:
    return ", ".join(f'{alias}."{c._meta.db_column_name}" AS "{prefix}.{c._meta.name}"' for c in table._meta.columns)


SESSION_WITH_ACCOUNT = PreparedSQL(
    SessionRecord,
    f'SELECT s."value", s."expires_at", {_nested_columns("a", Account, "account")}, {_nested_columns("c", Customer, "customer")} '
    'FROM "web_sessions" AS s '
    'LEFT JOIN "accounts" AS a ON a."id" = s."account" AND a."tenant" = $2 '
    'LEFT JOIN "customers" AS c ON c."id" = a."customer" '
    'WHERE s."key" = $1 LIMIT 1',
)
"""A customer session with its account and the account's customer, by session key and tenant: the database
session store's ``with_account`` read (``web/sessions.py``)."""


class LoginIdTaken(Exception):
    """Another account took the login ID between the check and the write (the unique index decided)."""


CREDENTIALS = frozenset({"password_hash", "login_id", "totp_secret"})
"""Account fields whose change ends the account's other sessions."""


class AccountRepository:
    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.slug = tenant.slug

    def key(self, login_id: str) -> str:
        return normalize.login_id(login_id, self.tenant.config.identity.login_id.case_insensitive)

    def _select(self):
        return Account.objects().where(Account.tenant == self.slug)

    async def by_id(self, account_id: int | None) -> Account | None:
        if account_id is None:
            return None
        return await self._select().where(Account.id == account_id).first()

    async def by_id_with_customer(self, account_id: int | None) -> tuple[Account | None, Customer | None]:
        """The account and its customer in one query (every logged-in page needs both)."""
        if account_id is None:
            return None, None
        row = await _ACCOUNT_WITH_CUSTOMER.first(self.slug, account_id)
        if row is None:
            return None, None
        customer_row = row.pop("customer")
        row["customer"] = customer_row.get("id") if customer_row else None
        return self.account_with_customer(row, customer_row)

    def account_with_customer(self, account_row: dict, customer_row: dict | None) -> tuple[Account, Customer | None]:
        """The account and its customer from rows read together (the customer only if it is this tenant's)."""
        customer = None
        if customer_row and customer_row.get("id") is not None and customer_row.get("tenant") == self.slug:
            customer = stored_object(Customer, customer_row)
        return stored_object(Account, account_row), customer

    async def by_login_id(self, login_id: str) -> Account | None:
        return await self._select().where(Account.login_id == self.key(login_id)).first()

    async def by_customer(self, customer_id: int) -> list[Account]:
        return await self._select().where(Account.customer == customer_id).order_by(Account.id)

    async def by_email(self, email: str) -> list[Account]:
        """Accounts whose contact address is ``email``, ignoring letter case (phones capitalise the first letter)."""
        wanted = normalize.email(email).lower()
        # LIKE's wildcards only widen the match; the exact comparison below decides.
        pattern = wanted.replace("%", "_")
        found = await self._select().where(Account.email.ilike(pattern)).order_by(Account.id)
        return [account for account in found if account.email.lower() == wanted]

    async def login_id_taken(self, login_id: str, *, except_id: int | None = None) -> bool:
        query = Account.count().where(Account.tenant == self.slug).where(Account.login_id == self.key(login_id))
        if except_id is not None:
            query = query.where(Account.id != except_id)
        return await query > 0

    async def create(self, **fields) -> Account:
        login_id = fields.pop("login_id")
        account = Account(tenant=self.slug, login_id=self.key(login_id), login_id_display=login_id, **fields)
        try:
            await account.save()
        except Exception as exc:
            if is_unique_violation(exc):
                raise LoginIdTaken(login_id) from exc
            raise
        return account

    async def update(self, account: Account, *, keep_sessions: bool = False, **fields) -> None:
        """Writes ``fields``; a change of credentials (:data:`CREDENTIALS`) also raises the account's
        ``credentials_version``, which logs out every session opened under the old credentials
        (``keep_sessions`` for a new hash of the same password)."""
        if account.tenant != self.slug:
            raise PermissionError("account of another tenant")
        if "login_id" in fields:
            fields["login_id_display"] = fields["login_id"]
            fields["login_id"] = self.key(fields["login_id"])
        for name, value in fields.items():
            setattr(account, name, value)
        values = {getattr(Account, k): v for k, v in fields.items()}
        if CREDENTIALS & fields.keys() and not keep_sessions:
            values[Account.credentials_version] = Account.credentials_version + 1
        try:
            updated = await (
                Account.update(values)
                .where(Account.tenant == self.slug)
                .where(Account.id == account.id)
                .returning(Account.credentials_version)
            )
        except Exception as exc:
            if is_unique_violation(exc):
                raise LoginIdTaken(fields.get("login_id_display", "")) from exc
            raise
        if updated:
            account.credentials_version = updated[0]["credentials_version"]

    async def end_sessions(self, account: Account) -> None:
        """Logs out every session of the account (its ``credentials_version`` goes up; nothing else changes)."""
        updated = await (
            Account.update({Account.credentials_version: Account.credentials_version + 1})
            .where(Account.tenant == self.slug)
            .where(Account.id == account.id)
            .returning(Account.credentials_version)
        )
        if updated:
            account.credentials_version = updated[0]["credentials_version"]

    async def delete(self, account: Account) -> None:
        await Account.delete().where(Account.tenant == self.slug).where(Account.id == account.id)

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)
