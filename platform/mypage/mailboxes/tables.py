"""Mail addresses (メールアドレス) of internet customers: ``local@<subdomain>.<domain>``."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Varchar

from mypage.db.base import TenantOwned
from mypage.records.tables import Customer


class Mailbox(TenantOwned, tablename="mailboxes"):
    customer = ForeignKey(Customer, index=True)
    local_part = Varchar(length=20, index=True)
    subdomain = Varchar(length=10)
    address = Varchar(length=254)
    """The whole address, lower-case; unique within the tenant."""
    password_hash = Varchar(length=255)
    """argon2id hash of the mailbox password (the password itself is shown once and never stored)."""
    virus_check = Boolean(default=True)

    UNIQUE_TOGETHER = (("tenant", "address"),)
