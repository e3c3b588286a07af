"""Optional services a customer applies for in the portal (インターネットセキュリティサービス)."""

from __future__ import annotations

from piccolo.columns import Date, ForeignKey, Integer, Varchar

from mypage.db.base import TenantOwned
from mypage.records.tables import Customer


class AddonSubscription(TenantOwned, tablename="addon_subscriptions"):
    """One application; ``cancelled_on`` set when cancelled. At most one open row per customer and product."""

    customer = ForeignKey(Customer, index=True)
    product = Varchar(length=40)
    """The feature key, e.g. ``security_addon``."""
    product_name = Varchar(length=200)
    price_yen = Integer(default=0)
    started_on = Date()
    cancelled_on = Date(null=True, default=None)
    applied_by = Integer(null=True, default=None)
    """The account id that applied."""
