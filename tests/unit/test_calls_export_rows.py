"""The call CSV's fast row path writes exactly what the reference row formatter (``csv_row`` + ``safe_row``)
writes: JST time stamps across days, months and years, durations, formula neutralisation, numbers kept."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

from mypage.calls.export import _Clock, _page_rows, csv_row
from mypage.web.csvout import FORMULA_START, neutralise_text, safe_row


def _write(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def test_fast_rows_match_the_reference_rows():
    starts = [
        datetime(2023, 12, 31, 14, 59, 59, tzinfo=UTC),  # 23:59:59 JST
        datetime(2023, 12, 31, 15, 0, 0, tzinfo=UTC),  # 2024/01/01 00:00:00 JST
        datetime(2024, 2, 28, 20, 30, 5, 999999, tzinfo=UTC),  # leap day in JST, microseconds dropped
        datetime(1999, 6, 30, 23, 0, tzinfo=timezone(timedelta(hours=9))),
    ]
    texts = [*FORMULA_START, "=cmd|' /C calc'!A0", "ひかり電話・県内", "a,b", 'say "hi"', "", "0611115555", "-", "'x"]
    durations = [0, 1, 59, 60, 3599, 3600, 86399, 359999, 360000, None]
    reference, fast = [], []
    clock = _Clock()
    n = 0
    for start in starts:
        for text in texts:
            seconds = durations[n % len(durations)]
            charge = -300 if n % 7 == 0 else 8 * n
            row = {
                "started_at": start,
                "kind": text,
                "caller": texts[(n + 1) % len(texts)],
                "callee": texts[(n + 2) % len(texts)],
                "duration_seconds": seconds,
                "charge": charge,
            }
            reference.append(safe_row(csv_row(row)))
            unix = int(start.timestamp())
            fast.extend(_page_rows([(n, unix, row["kind"], row["caller"], row["callee"], seconds, charge)], clock))
            n += 1
    assert _write(fast) == _write(reference)


def test_neutralise_text_matches_neutralise_for_text():
    from mypage.web.csvout import neutralise

    for text in [*FORMULA_START, "=1", "x=1", "", "－1", "ひかり"]:
        assert neutralise_text(text) == neutralise(text)
    assert neutralise_text(None) == ""
