"""Every table of the portal, in creation order. A feature that adds tables lists them here."""

from __future__ import annotations

from piccolo.table import Table


def all_tables() -> list[type[Table]]:
    from mypage.audit.tables import AuditEvent
    from mypage.identity.tables import Account, LoginFailure, OneTimeToken, RecoveryCode
    from mypage.mail.tables import OutboxMail
    from mypage.records.tables import (
        BillingGroup,
        CallRecord,
        Contract,
        ContractOption,
        Customer,
        Device,
        Document,
        Invoice,
        InvoiceLine,
        Notice,
        PhoneLine,
        ServiceHistory,
    )
    from mypage.web.tables import SessionRecord

    return [
        Customer,
        Device,
        BillingGroup,
        Contract,
        ContractOption,
        PhoneLine,
        Invoice,
        InvoiceLine,
        CallRecord,
        Document,
        ServiceHistory,
        Notice,
        Account,
        OneTimeToken,
        LoginFailure,
        RecoveryCode,
        AuditEvent,
        OutboxMail,
        SessionRecord,
        *feature_tables(),
    ]


def feature_tables() -> list[type[Table]]:
    """Tables of optional features (inquiries, mailboxes, add-ons, payment methods)."""
    return []
