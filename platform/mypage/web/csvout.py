"""Cells of every CSV the portal produces, made safe to open in a spreadsheet (CSV/formula injection).

A text cell starting with ``=``, ``+``, ``-``, ``@``, TAB or CR is run as a formula by Excel and its kin
(``=cmd|' /C calc'!A0``, ``@SUM(1)``); OWASP's advice is to prefix such a cell with a single quote, which
makes it plain text. The check runs on the value as written, i.e. after any normalisation (NFKC turns a
full-width ``＝1+1`` into ``=1+1``); the full-width forms are neutralised too, since some spreadsheet
applications normalise input themselves.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
FORMULA_FIRST = frozenset(FORMULA_START)
"""The same characters, for a one-character lookup (all of them are single characters)."""


def neutralise(value: Any) -> Any:
    """The cell as it should be written: text that would start a formula gets a leading ``'``.

    Numbers are returned unchanged: a negative amount (a discount, ``-300``) must stay a number the
    spreadsheet can add up, and a number cell cannot carry a formula. Only text cells are neutralised.
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def safe_row(row: list[Any]) -> list[Any]:
    return [neutralise(cell) for cell in row]


def neutralise_text(text: str | None) -> str:
    """:func:`neutralise` for a cell known to be text (or None): one set lookup on its first character,
    for exports that write many rows (the call details' CSV)."""
    if not text:
        return ""
    return "'" + text if text[0] in FORMULA_FIRST else text
