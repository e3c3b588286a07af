"""Piccolo tables for the operator's records (imported from the operator's systems)."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    Timestamptz,
    Varchar,
)

from mypage.db.base import TenantOwned
from mypage.notices.tables import Notice  # noqa: F401  (moved to the notices feature; imported from here by older code)


class Customer(TenantOwned, tablename="customers"):
    number = Varchar(length=20, required=True)
    """お客様番号, canonical (with its leading zeros)."""
    name = Varchar(length=120)
    name_kana = Varchar(length=120)
    """Full-width katakana with a full-width space between family and given name."""
    phone = Varchar(length=20)
    """Digits only."""
    postal_code = Varchar(length=7)
    prefecture = Varchar(length=10)
    address1 = Varchar(length=200)
    address2 = Varchar(length=200)
    building = Varchar(length=200)
    email = Varchar(length=254)
    bank_name = Varchar(length=60)
    bank_last4 = Varchar(length=4)
    card_last4 = Varchar(length=4)
    payment_method = Varchar(length=20, default="bank")
    """``bank`` (口座振替), ``card`` or ``invoice``."""
    plan_name = Varchar(length=300)
    renewal_window = Varchar(length=60)
    """更新月 as shown, e.g. ``2025年1月~2025年3月``."""
    customer_since = Date(null=True, default=None)
    services = Varchar(length=100)
    """Comma-separated service kinds: ``internet``, ``tv``, ``phone``, ``cloud``."""

    UNIQUE_TOGETHER = (("tenant", "number"),)


class Device(TenantOwned, tablename="devices"):
    customer = ForeignKey(Customer, index=True)
    kind = Varchar(length=30)
    """e.g. ``STB``, ``Hit pot``, ``ONU``."""
    device_id = Varchar(length=40)

    UNIQUE_TOGETHER = (("tenant", "device_id"),)


class BillingGroup(TenantOwned, tablename="billing_groups"):
    """一括請求/一括送付: contracts billed together, one invoice file per group."""

    customer = ForeignKey(Customer, index=True)
    code = Varchar(length=30)
    name = Varchar(length=120)

    UNIQUE_TOGETHER = (("tenant", "code"),)


class Contract(TenantOwned, tablename="contracts"):
    customer = ForeignKey(Customer, index=True)
    billing_group = ForeignKey(BillingGroup, null=True, index=True)
    number = Varchar(length=20, required=True)
    """契約番号, e.g. ``CAF0000000001``."""
    category = Varchar(length=20, default="main")
    """``main`` (e.g. mediaひかり) or ``other`` (cloud services...)."""
    service = Varchar(length=20, default="internet")
    """``internet``, ``tv``, ``phone``, ``cloud``."""
    service_name = Varchar(length=200)
    plan_name = Varchar(length=200)
    status = Varchar(length=40)
    started_on = Date(null=True, default=None)
    ended_on = Date(null=True, default=None)
    access_key = Varchar(length=40)
    holder_name = Varchar(length=120)
    holder_kana = Varchar(length=120)
    postal_code = Varchar(length=7)
    address1 = Varchar(length=200)
    address2 = Varchar(length=200)
    building = Varchar(length=200)
    monthly_fee = Integer(default=0)
    call_details_from = Varchar(length=7, null=True, default=None)
    """First month (YYYY-MM) whose call details are recorded; null: not applied for."""
    phone_detail = Varchar(length=500, default="")
    """ひかり電話の詳細 as the operator's records give it (e.g. 追加番号・オプション); shown as 「詳細」 under
    ひかり電話 in the contract detail; empty: nothing to add."""

    UNIQUE_TOGETHER = (("tenant", "number"),)
    INDEX_TOGETHER = (("tenant", "customer", "number"),)
    """A customer's contracts in number order, read by every logged-in page (without it SQLite walks the
    tenant's whole (tenant, number) index to avoid a sort)."""


class ContractOption(TenantOwned, tablename="contract_options"):
    contract = ForeignKey(Contract, index=True)
    position = Integer()
    name = Varchar(length=200)

    UNIQUE_TOGETHER = (("tenant", "contract", "position"),)


class PhoneLine(TenantOwned, tablename="phone_lines"):
    contract = ForeignKey(Contract, index=True)
    service_name = Varchar(length=200)
    number = Varchar(length=20)

    UNIQUE_TOGETHER = (("tenant", "number"),)


class Invoice(TenantOwned, tablename="invoices"):
    customer = ForeignKey(Customer, index=True)
    billing_group = ForeignKey(BillingGroup, null=True, index=True)
    number = Varchar(length=30, required=True)
    """ご請求番号."""
    month = Varchar(length=7, index=True)
    """請求年月, ``YYYY-MM``."""
    issued_on = Date()
    due_on = Date(null=True, default=None)
    payment_method = Varchar(length=20, default="bank")

    UNIQUE_TOGETHER = (("tenant", "number"),)
    INDEX_TOGETHER = (("tenant", "customer", "month"),)
    """A customer's months (the billing list) without visiting the tenant's other invoices."""


class InvoiceLine(TenantOwned, tablename="invoice_lines"):
    invoice = ForeignKey(Invoice, index=True)
    contract = ForeignKey(Contract, null=True)
    position = Integer()
    description = Varchar(length=200)
    amount = Integer()
    """Yen, excluding consumption tax."""
    tax_rate = Integer(default=10)
    """10 (standard), 8 (reduced) or 0 (not taxed)."""
    note = Varchar(length=200)

    UNIQUE_TOGETHER = (("tenant", "invoice", "position"),)


class CallRecord(TenantOwned, tablename="call_records"):
    # Only the indexes the reads and the foreign key use: every read gives tenant, contract and month (the
    # composite index below), the unique (tenant, record_key) serves tenant-wide scans, and a deleted
    # contract's calls are found by ``contract``. Each index more costs every row of a large import.
    tenant = Varchar(length=40, index=False, null=False, required=True)
    contract = ForeignKey(Contract, index=True)
    month = Varchar(length=7)
    started_at = Timestamptz()
    kind = Varchar(length=40)
    """利用種類, e.g. ``ひかり電話・県内``."""
    caller = Varchar(length=20)
    callee = Varchar(length=20)
    duration_seconds = Integer()
    charge = Integer()
    record_key = Varchar(length=80)
    """Stable key from the operator's system; makes re-imports idempotent."""

    UNIQUE_TOGETHER = (("tenant", "record_key"),)
    INDEX_TOGETHER = (("tenant", "contract", "month", "started_at", "id"),)
    """A month of a contract in time order: the call details' keyset pagination reads ranges of it."""


class Document(TenantOwned, tablename="documents"):
    """A document the operator issued (開通案内, 契約内容確認書); rendered to PDF on demand."""

    customer = ForeignKey(Customer, index=True)
    contract = ForeignKey(Contract, null=True, index=True)
    kind = Varchar(length=40)
    issued_on = Date()
    title = Varchar(length=200)
    data = JSON(default={})

    UNIQUE_TOGETHER = (("tenant", "kind", "contract", "issued_on"),)


class ServiceHistory(TenantOwned, tablename="service_history"):
    customer = ForeignKey(Customer, index=True)
    happened_on = Date()
    description = Varchar(length=300)
