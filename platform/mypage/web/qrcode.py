"""QR codes for the pages that show one (an authenticator's enrolment, a referral link)."""

from __future__ import annotations


def qr_data_uri(text: str, scale: int = 5) -> str:
    """``text`` as an SVG QR code in a ``data:`` URI (error correction M, a two-module border)."""
    import segno  # only for the pages that show a code: not kept in every worker's memory

    return segno.make(text, error="m").svg_data_uri(scale=scale, border=2)
