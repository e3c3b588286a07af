"""The console's menu: each sub-package's ``routes.py`` lists its entries in ``ADMIN_NAV``."""

from __future__ import annotations

from dataclasses import dataclass

from mypage.admin.roles import EVERYONE, Role


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    """A ``N_`` marked phrase (translated when the menu is drawn)."""
    order: int = 100
    roles: frozenset[Role] = EVERYONE
    """Who sees the entry (the page's own guard is what refuses the others)."""
