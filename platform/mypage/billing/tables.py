"""The card registered for a customer's monthly charges (gateway token and display data only)."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Varchar

from mypage.db.base import TenantOwned
from mypage.records.tables import Customer


class PaymentCard(TenantOwned, tablename="payment_cards"):
    """Never the card number or security code: the gateway's token, brand, last four digits, expiry."""

    customer = ForeignKey(Customer, index=True)
    gateway = Varchar(length=30)
    token = Varchar(length=120)
    brand = Varchar(length=30)
    last4 = Varchar(length=4)
    exp_month = Integer()
    exp_year = Integer()

    UNIQUE_TOGETHER = (("tenant", "customer"),)
