"""Who does a staff-side action, as the services record it in the audit log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A console staff member (id and name) or a script (``staff_id`` None, e.g. ``Actor("cli")``)."""

    name: str
    staff_id: int | None = None
    address: str = ""
