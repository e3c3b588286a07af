"""Inquiries (お問い合わせ) sent from the portal, and the paper-sending stops approved from them."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete

from mypage.db.base import TenantOwned
from mypage.identity.tables import Account
from mypage.records.tables import Contract, Customer


class Inquiry(TenantOwned, tablename="inquiries"):
    customer = ForeignKey(Customer, null=True, index=True, on_delete=OnDelete.set_null)
    account = ForeignKey(Account, null=True, index=True, on_delete=OnDelete.set_null)
    contract = ForeignKey(Contract, null=True, on_delete=OnDelete.set_null)
    """The contract chosen in the form (通話明細記録について), if any."""
    category = Varchar(length=40)
    """The key of the tenant's inquiry category."""
    applies = Varchar(length=40, default="none")
    """What approving it does: ``none``, ``call_details``, ``paper_stop_opening_notice``, ``paper_stop_transfer_notice``."""
    subject = Varchar(length=100)
    body = Text()
    reply_to = Varchar(length=254)
    """Where the acceptance mail went."""
    status = Varchar(length=20, default="received", index=True)
    """The decision on what it applies for: ``received`` (not decided), ``approved`` or ``rejected``."""
    state = Varchar(length=20, default="new", index=True)
    """対応状況 of the thread: ``new`` (新規), ``open`` (対応中), ``answered`` (回答済み), ``closed`` (完了)."""
    assignee_id = Integer(null=True, default=None, index=True)
    """The staff member handling it (an id of the tenant's staff accounts); none: not assigned."""
    assignee_name = Varchar(length=120)
    decided_at = Timestamptz(null=True, default=None)
    decided_by = Varchar(length=120)
    effective_from = Varchar(length=7)
    """For approved applications: the first month (YYYY-MM) they take effect."""
    note = Varchar(length=500)


class InquiryMessage(TenantOwned, tablename="inquiry_messages"):
    """One message of an inquiry's thread after the first (the inquiry's own body opens the thread)."""

    inquiry = ForeignKey(Inquiry, index=True, on_delete=OnDelete.cascade)
    author = Varchar(length=20)
    """``customer`` (an answer from the portal), ``staff`` (a reply, mailed and shown to the customer) or
    ``note`` (an internal note: staff only)."""
    account = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    """The customer's account (``customer`` messages)."""
    staff_id = Integer(null=True, default=None)
    staff_name = Varchar(length=120)
    body = Text()


class PaperStop(TenantOwned, tablename="paper_stops"):
    """紙発送停止: the customer receives this document only in the portal from ``effective_from`` on."""

    customer = ForeignKey(Customer, index=True)
    kind = Varchar(length=40)
    """``opening_notice`` (開通案内) or ``transfer_notice`` (口座振替案内書)."""
    effective_from = Varchar(length=7)
    """First month (YYYY-MM) without paper."""
    inquiry_id = Integer(null=True, default=None)

    UNIQUE_TOGETHER = (("tenant", "customer", "kind"),)
