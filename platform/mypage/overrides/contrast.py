"""WCAG 2.x contrast of a tenant's brand colours, as the base theme uses them (``themes/base/static/css``).

- ``header_text_colour`` on ``primary_colour``: the header, menu and primary buttons carry normal-size text,
  so 4.5:1 (WCAG 1.4.3 AA).
- ``primary_colour`` on the page and card backgrounds: links and secondary buttons are body text, 4.5:1.
- ``accent_colour`` on the page and card backgrounds: the keyboard focus ring, 3:1 (WCAG 1.4.11 non-text contrast).
"""

from __future__ import annotations

from dataclasses import dataclass

from coloraide import Color

from mypage.tenancy.config import Branding

PAGE_BACKGROUNDS = ("#ffffff", "#f6f8fa")
"""The card and page backgrounds of the base theme (``--card``, ``--bg``)."""
TEXT_RATIO = 4.5
NON_TEXT_RATIO = 3.0


def ratio(foreground: str, background: str) -> float:
    return float(Color(foreground).contrast(Color(background), method="wcag21"))


@dataclass(frozen=True)
class ContrastProblem:
    key: str
    """The branding key to change (``branding.accent_colour``)."""
    pair: str
    """What is shown on what, in words."""
    foreground: str
    background: str
    ratio: float
    needed: float

    def message(self) -> str:
        return (
            f"{self.pair}: {self.foreground} on {self.background} has a contrast ratio of {self.ratio:.2f}:1; "
            f"WCAG AA needs at least {self.needed:g}:1"
        )


def contrast_problems(branding: Branding) -> list[ContrastProblem]:
    """Every colour pair of ``branding`` below its WCAG AA ratio (the worst background of each pair)."""
    checks = [
        (
            "branding.header_text_colour",
            "header and button text",
            branding.header_text_colour,
            (branding.primary_colour,),
            TEXT_RATIO,
        ),
        ("branding.primary_colour", "links and secondary button text", branding.primary_colour, PAGE_BACKGROUNDS, TEXT_RATIO),
        ("branding.accent_colour", "focus ring", branding.accent_colour, PAGE_BACKGROUNDS, NON_TEXT_RATIO),
    ]
    problems = []
    for key, pair, foreground, backgrounds, needed in checks:
        background = min(backgrounds, key=lambda b: ratio(foreground, b))
        value = ratio(foreground, background)
        if round(value, 2) < needed:
            problems.append(ContrastProblem(key, pair, foreground, background, value, needed))
    return problems
