"""Demo notices: a seasonal notice (its text names a holiday) is dated so that it announces the holiday ahead."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from mypage.demo.loader import notice_date

ROOT = Path(__file__).resolve().parents[2]


def test_days_ago_counts_back_from_today():
    assert notice_date({"days_ago": 5}, date(2026, 10, 20)) == date(2026, 10, 15)
    assert notice_date({}, date(2026, 10, 20)) == date(2026, 10, 20)


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2026, 10, 20), date(2026, 7, 25)),  # October: posted this July, before the August holidays
        (date(2026, 7, 25), date(2026, 7, 25)),
        (date(2026, 7, 24), date(2025, 7, 25)),  # never in the future
    ],
)
def test_a_seasonal_notice_is_posted_on_its_day(today, expected):
    assert notice_date({"published": "07-25"}, today) == expected


def test_february_29_outside_a_leap_year():
    assert notice_date({"published": "02-29"}, date(2026, 3, 1)) == date(2026, 2, 28)
    assert notice_date({"published": "02-29"}, date(2024, 3, 1)) == date(2024, 2, 29)


@pytest.mark.parametrize("slug", ["aicom", "itscom", "nmedia"])
def test_demo_notices_naming_a_month_are_seasonal(slug):
    """A demo notice whose body names a month and day (「8月13日から…」) carries ``published``, not ``days_ago``:
    otherwise a demo loaded in October announces August holidays."""
    import re

    profile = tomllib.loads((ROOT / "tenants" / slug / "demo.toml").read_text(encoding="utf-8"))
    for notice in profile.get("notices", []):
        if re.search(r"\d+月\d+日", notice["body"]):
            assert "published" in notice, notice["title"]
