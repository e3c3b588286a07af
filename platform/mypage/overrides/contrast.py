"""WCAG 2.x contrast of a tenant's brand colours, as the base theme uses them (``themes/base/static/css``).

- ``header_text_colour`` on ``primary_colour``: the header, menu and primary buttons carry normal-size text,
  so 4.5:1 (WCAG 1.4.3 AA).
- ``primary_colour`` on the page and card backgrounds: links and secondary buttons are body text, 4.5:1.
- ``accent_colour`` on the page and card backgrounds: the keyboard focus ring, 3:1 (WCAG 1.4.11 non-text contrast).
"""

from __future__ import annotations

from dataclasses import dataclass

from mypage.i18n import N_
from mypage.i18n import gettext as _
from mypage.tenancy.config import Branding

PAGE_BACKGROUNDS = ("#ffffff", "#f6f8fa")
"""The card and page backgrounds of the base theme (``--card``, ``--bg``)."""
TEXT_RATIO = 4.5
NON_TEXT_RATIO = 3.0


def ratio(foreground: str, background: str) -> float:
    from coloraide import Color  # only when an operator's colours are checked (~4 MB once imported)

    return float(Color(foreground).contrast(Color(background), method="wcag21"))


@dataclass(frozen=True)
class ContrastProblem:
    key: str
    """The branding key to change (``branding.accent_colour``)."""
    pair: str
    """What is shown on what, in words (an ``N_`` phrase)."""
    foreground: str
    background: str
    ratio: float
    needed: float

    def message(self) -> str:
        return _(
            "{pair}: {foreground} と {background} のコントラスト比は {ratio}:1 です(WCAG AA では {needed}:1 以上が必要です)"
        ).format(
            pair=_(self.pair),
            foreground=self.foreground,
            background=self.background,
            ratio=f"{self.ratio:.2f}",
            needed=f"{self.needed:g}",
        )


def contrast_problems(branding: Branding) -> list[ContrastProblem]:
    """Every colour pair of ``branding`` below its WCAG AA ratio (the worst background of each pair)."""
    checks = [
        (
            "branding.header_text_colour",
            N_("ヘッダー・ボタンの文字"),
            branding.header_text_colour,
            (branding.primary_colour,),
            TEXT_RATIO,
        ),
        ("branding.primary_colour", N_("リンク・ボタンの文字"), branding.primary_colour, PAGE_BACKGROUNDS, TEXT_RATIO),
        ("branding.accent_colour", N_("フォーカス枠"), branding.accent_colour, PAGE_BACKGROUNDS, NON_TEXT_RATIO),
    ]
    problems = []
    for key, pair, foreground, backgrounds, needed in checks:
        background = min(backgrounds, key=lambda b: ratio(foreground, b))
        value = ratio(foreground, background)
        if round(value, 2) < needed:
            problems.append(ContrastProblem(key, pair, foreground, background, value, needed))
    return problems
