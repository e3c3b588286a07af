"""Staff roles and what each may do (one table of rights, read by the guards and the templates)."""

from __future__ import annotations

from enum import StrEnum

from mypage.i18n import N_


class Role(StrEnum):
    ADMIN = "admin"
    """管理者: everything, including staff accounts, branding, texts and features."""
    SUPPORT = "support"
    """サポート: customers, inquiries and imports (read everything, act on those)."""
    VIEWER = "viewer"
    """閲覧: reads; changes nothing."""


LABELS = {Role.ADMIN: N_("管理者"), Role.SUPPORT: N_("サポート"), Role.VIEWER: N_("閲覧")}

EVERYONE = frozenset(Role)
SUPPORT_WORK = frozenset({Role.ADMIN, Role.SUPPORT})
"""Acting on customers, inquiries and imports."""
ADMIN_ONLY = frozenset({Role.ADMIN})
"""Staff accounts, branding, texts, features."""


def parse(value: str) -> Role | None:
    try:
        return Role(value)
    except ValueError:
        return None
