"""メールアドレスの登録: rules for the local part, sub-domain candidates, registration and settings.

An address is ``<local>@<subdomain>.<domain>``: the local part is chosen (3–20 half-width letters,
digits, ``-`` and ``_``; ``-``/``_`` neither first nor last), the sub-domain is picked from candidates
(a lower-case letter and two digits 00–09, e.g. ``a03``) among those still free in the tenant.
"""

from __future__ import annotations

import re
import secrets
import string
import unicodedata
from dataclasses import dataclass

from mypage.audit.log import AuditLog
from mypage.db.errors import is_unique_violation
from mypage.db.locks import serialised
from mypage.db.transaction import atomic
from mypage.i18n import gettext as _
from mypage.identity.passwords import hash_password_async
from mypage.identity.policy import check_password, refused_chars_error
from mypage.identity.tables import Account
from mypage.mailboxes.repository import MailboxRepository
from mypage.mailboxes.tables import Mailbox
from mypage.records.tables import Customer
from mypage.tenancy.registry import Tenant

LOCAL_MIN = 3
LOCAL_MAX = 20
LOCAL_CHARS = re.compile(r"[^A-Za-z0-9_-]")
SUBDOMAIN_RE = re.compile(r"^[a-z]0[0-9]$")
ALL_SUBDOMAINS = [f"{letter}{n:02d}" for letter in string.ascii_lowercase for n in range(10)]
PASSWORD_LENGTH = 10
# Letters and digits without look-alikes (0/O/o, 1/l/I): the password is copied from the screen or paper.
PASSWORD_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
PASSWORD_LOWER = "abcdefghijkmnpqrstuvwxyz"
PASSWORD_DIGITS = "23456789"


def normalize_local(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().lower()


def check_local(value: str) -> list[str]:
    """The errors of a local part (already normalised), worded as the tenant's guide words the rule."""
    if not value:
        return [_("メールアドレスを入力してください。")]
    errors = []
    if not LOCAL_MIN <= len(value) <= LOCAL_MAX:
        errors.append(_("{low}～{high}文字で入力してください。").format(low=LOCAL_MIN, high=LOCAL_MAX))
    refused = refused_chars_error("".join(LOCAL_CHARS.findall(value)))
    if refused:
        errors.append(refused)
    if value[0] in "-_" or value[-1] in "-_":
        errors.append(_("「-」「_」は先頭、末尾には使用できません。"))
    return errors


def is_eligible(tenant: Tenant, customer: Customer | None) -> bool:
    feature = tenant.config.features.mailboxes
    if feature is None or customer is None:
        return False
    services = {s.strip() for s in (customer.services or "").split(",")}
    return feature.requires_service in services


def address_of(tenant: Tenant, local: str, subdomain: str) -> str:
    return f"{local}@{subdomain}.{tenant.config.features.mailboxes.domain}"


def new_password() -> str:
    chars = [secrets.choice(PASSWORD_UPPER), secrets.choice(PASSWORD_LOWER), secrets.choice(PASSWORD_DIGITS)]
    pool = PASSWORD_UPPER + PASSWORD_LOWER + PASSWORD_DIGITS
    chars += [secrets.choice(pool) for _ in range(PASSWORD_LENGTH - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


async def candidates(tenant: Tenant, local: str, exclude: set[str] | list[str] = ()) -> list[str]:
    """Up to ``candidates_per_page`` free sub-domains for ``local``, none of ``exclude`` (already shown)."""
    count = tenant.config.features.mailboxes.candidates_per_page
    taken = await MailboxRepository(tenant.slug).taken_subdomains(local)
    pool = [s for s in ALL_SUBDOMAINS if s not in taken and s not in set(exclude)]
    rng = secrets.SystemRandom()
    return sorted(rng.sample(pool, min(count, len(pool))))


@dataclass
class Context:
    """The logged-in customer as the mailbox pages see it."""

    customer: Customer | None
    eligible: bool
    mailboxes: list[Mailbox]
    max_addresses: int

    @property
    def full(self) -> bool:
        return len(self.mailboxes) >= self.max_addresses


async def context_for(tenant: Tenant, account: Account) -> Context:
    repo = MailboxRepository(tenant.slug)
    customer = await repo.customer(account.customer)
    eligible = is_eligible(tenant, customer)
    mailboxes = await repo.of_customer(customer.id) if eligible else []
    return Context(customer, eligible, mailboxes, tenant.config.features.mailboxes.max_addresses)


class RegistrationError(Exception):
    pass


async def register(
    tenant: Tenant, account: Account, local: str, subdomain: str, virus_check: bool, *, address: str = ""
) -> tuple[Mailbox, str]:
    """Creates the mailbox; returns it with its initial password (shown once, stored only as a hash)."""
    if check_local(local) or not SUBDOMAIN_RE.match(subdomain):
        raise RegistrationError(_("入力内容に誤りがあります。最初からやり直してください。"))
    repo = MailboxRepository(tenant.slug)
    full_address = address_of(tenant, local, subdomain)
    password = new_password()
    password_hash = await hash_password_async(password)
    not_eligible = _("メールアドレスはインターネットサービスご契約のお客さまのみご利用いただけます。")
    if account.customer is None:
        raise RegistrationError(not_eligible)
    try:
        # "At most max_addresses per customer": the count and the insert under the customer's lock (db/locks.py).
        async with serialised(Customer, account.customer):
            customer = await repo.customer(account.customer)
            if not is_eligible(tenant, customer):
                raise RegistrationError(not_eligible)
            limit = tenant.config.features.mailboxes.max_addresses
            if await repo.count(customer.id) >= limit:
                raise RegistrationError(_("メールアドレスは{n}つまで登録できます。").format(n=limit))
            if await repo.address_taken(full_address):
                raise RegistrationError(_("このメールアドレスは既に使用されています。別のサブドメインを選択してください。"))
            mailbox = await repo.create(
                customer=customer.id,
                local_part=local,
                subdomain=subdomain,
                address=full_address,
                password_hash=password_hash,
                virus_check=virus_check,
            )
            await AuditLog(tenant.slug).record(
                "mailbox.created", account_id=account.id, address=address, mailbox=full_address, virus_check=virus_check
            )
    except RegistrationError:
        raise
    except Exception as exc:  # a concurrent registration of the same address
        if is_unique_violation(exc):
            raise RegistrationError(_("このメールアドレスは既に使用されています。別のサブドメインを選択してください。")) from exc
        raise
    return mailbox, password


async def set_virus_check(tenant: Tenant, account: Account, mailbox: Mailbox, on: bool, *, address: str = "") -> None:
    async with atomic():
        await MailboxRepository(tenant.slug).set_virus_check(mailbox, on)
        await AuditLog(tenant.slug).record(
            "mailbox.virus_check", account_id=account.id, address=address, mailbox=mailbox.address, on=on
        )


def password_errors(tenant: Tenant, password: str, again: str) -> dict[str, list[str]]:
    """The errors of a new mailbox password (the tenant's ``features.mailboxes.password`` rule), by field."""
    policy = tenant.config.features.mailboxes.password
    if policy is None:
        return {"password": [_("このメールアドレスのパスワードは変更できません。")]}
    errors = check_password(password, policy)
    if errors:
        return {"password": errors}
    if password != again:
        return {"password_confirm": [_("パスワードが一致しません。同じパスワードを入力してください。")]}
    return {}


async def change_password(tenant: Tenant, account: Account, mailbox: Mailbox, password: str, *, address: str = "") -> None:
    password_hash = await hash_password_async(password)
    async with atomic():
        await MailboxRepository(tenant.slug).set_password_hash(mailbox, password_hash)
        await AuditLog(tenant.slug).record(
            "mailbox.password_changed", account_id=account.id, address=address, mailbox=mailbox.address
        )


async def delete(tenant: Tenant, account: Account, mailbox: Mailbox, *, address: str = "") -> None:
    async with atomic():
        await MailboxRepository(tenant.slug).delete(mailbox)
        await AuditLog(tenant.slug).record("mailbox.deleted", account_id=account.id, address=address, mailbox=mailbox.address)
