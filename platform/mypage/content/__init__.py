"""Tenant content pages: documents an operator publishes in its folder (利用規約, 契約約款 …)."""
