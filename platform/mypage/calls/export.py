"""通話明細 as CSV, produced page by page (constant memory whatever the month's size).

The export is built for volume (issue 10: 100,000 rows in < 0.5 s): the repository hands over raw tuples in
keyset pages of a few thousand rows (no row objects, the start time as Unix seconds from the database),
each row becomes a tuple of strings with table lookups for the date and times, ``csv.writer.writerows``
writes a whole page into a ``StringIO`` and the page is encoded once. The text cells go through the
formula neutraliser (:func:`mypage.web.csvout.neutralise_text`); the charge stays a number.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import csv
import html
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

from markupsafe import Markup, escape

from mypage.calls.repository import CallRepository
from mypage.i18n import gettext as _
from mypage.i18n import yen
from mypage.web.csvout import neutralise_text as _text
from mypage.web.csvout import safe_row

JST = timezone(timedelta(hours=9), "JST")
ENCODINGS = {
    "utf-8-sig": "utf-8-sig",
    "utf-8": "utf-8-sig",
    "utf8": "utf-8-sig",
    "cp932": "cp932",
    "sjis": "cp932",
    "shift_jis": "cp932",
}


def local_time(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(JST)


def duration(seconds: int | None) -> str:
    """``00:01:02``."""
    seconds = int(seconds or 0)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def header() -> list[str]:
    return [_("日時"), _("利用種類"), _("通話元"), _("通話先"), _("通話時間"), _("料金(円)")]


def csv_row(row: dict) -> list:
    """One record as CSV cells, from a row dict (the reference for the export's fast path, :func:`_page_rows`)."""
    return [
        local_time(row["started_at"]).strftime("%Y/%m/%d %H:%M:%S"),
        row["kind"],
        row["caller"],
        row["callee"],
        duration(row["duration_seconds"]),
        row["charge"],
    ]


JST_OFFSET = 9 * 3600
PAGE_SIZE = 2000
"""Rows per keyset query of the export (~140 kB of CSV per chunk; about 2 MB of Python memory at most,
whatever the month's size; larger pages were no faster in bench/bench_calls_csv.py)."""

_HOURS = tuple(f"{h:02d}:" for h in range(100))
_MINUTES_SECONDS = tuple(f"{m:02d}:{s:02d}" for m in range(60) for s in range(60))


class _Clock:
    """``2023/12/01 10:19:00`` (JST) and ``00:01:02`` from integers, by table lookups: the date of a day is
    formatted once (a month has ~31), hours and minute:second pairs come from constant tables."""

    def __init__(self, date_format: str = "%Y/%m/%d ") -> None:
        self.date_format = date_format
        self.days: dict[int, str] = {}
        """The formatted date by day number (days since 1970-01-01, JST)."""

    def date(self, day: int) -> str:
        """The date of ``day``, formatted and remembered (look in :attr:`days` first)."""
        if len(self.days) > 400:
            self.days.clear()
        text = self.days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime(self.date_format)
        return text

    def stamp(self, unix_seconds: int) -> str:
        day, second = divmod(unix_seconds + JST_OFFSET, 86400)
        hour, rest = divmod(second, 3600)
        return (self.days.get(day) or self.date(day)) + _HOURS[hour] + _MINUTES_SECONDS[rest]


def _duration(seconds: int | None) -> str:
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    if 0 <= hours < 100:
        return _HOURS[hours] + _MINUTES_SECONDS[rest]
    return duration(seconds)


_HOURS_MINUTES = tuple(f"{h:02d}:{m:02d}" for h in range(24) for m in range(60))
_SCREEN_CLOCK = _Clock("%m/%d ")
"""The call list's dates (``12/01 ``): a screen's come from a few days of one month."""


def _escaped(cache: dict, value: str) -> str:
    text = cache[value] = html.escape(value)  # the same five characters as markupsafe, a third of its time
    return text


def _yen_cell(cache: dict, value: int) -> str:
    text = cache[value] = html.escape(yen(value))
    return text


_SCREEN_ROW = (
    '<tr><td data-label="{0}">{{0}}</td><td data-label="{1}">{{1}}</td><td data-label="{2}">{{2}}</td>'
    '<td data-label="{3}">{{3}}</td><td data-label="{4}" class="num">{{4}}</td><td data-label="{5}" class="num">{{5}}</td></tr>\n'
)


class ScreenRows(list):
    """A screen of :data:`~mypage.calls.repository.ExportRow` as the call list shows it (see :func:`screen_rows`);
    :meth:`html` writes its table rows."""

    def html(self, *labels: str) -> Markup:
        """The rows as ``<tr>`` elements, each cell with its column's label (``data-label``, for the stacked
        layout on phones): the six labels in the order of the cells, as the template translated them. A row reads
        ``12/01 10:19 | kind | caller | callee | 00:01:02 | 8円``.

        A month can have hundreds of calls, so the cells are made in one pass from the raw tuples: one format
        string per screen, filled once per row (a fraction of a Jinja loop's twelve outputs and six lookups per
        row); dates and times by table lookups; the texts and amounts escaped once per distinct value (a month's
        calls repeat a few kinds, callers and charges)."""
        escaped = (str(escape(label)).replace("{", "{{").replace("}", "}}") for label in labels)
        row = _SCREEN_ROW.format(*escaped).format
        days, date, minutes, texts, amounts = _SCREEN_CLOCK.days, _SCREEN_CLOCK.date, _HOURS_MINUTES, {}, {}
        # ``get(…) or make(…)``: a cell seen before costs a dictionary lookup (an escaped cell is never empty
        # unless its text is, and making an empty one again is harmless).
        cells = []
        for _id, unix_seconds, kind, caller, callee, seconds, charge in self:
            day, second = divmod(unix_seconds + JST_OFFSET, 86400)
            cells.append(
                row(
                    (days.get(day) or date(day)) + minutes[second // 60],
                    texts.get(kind) or _escaped(texts, kind),
                    texts.get(caller) or _escaped(texts, caller),
                    texts.get(callee) or _escaped(texts, callee),
                    _duration(seconds),
                    amounts.get(charge) or _yen_cell(amounts, charge),
                )
            )
        return Markup("".join(cells))


def screen_rows(rows) -> ScreenRows:
    """A screen of the call list, from the repository's raw tuples (formatted when the template writes it)."""
    return ScreenRows(rows)


def _page_rows(rows, clock: _Clock):
    stamp = clock.stamp
    for _id, unix_seconds, kind, caller, callee, seconds, charge in rows:
        # The time stamp and the duration are made here from numbers: they cannot start a formula.
        yield stamp(unix_seconds), _text(kind), _text(caller), _text(callee), _duration(seconds), charge


async def csv_chunks(
    repo: CallRepository, month: str, encoding: str = "utf-8-sig", batch_size: int = PAGE_SIZE
) -> AsyncIterator[bytes]:
    """Encoded CSV: the header, then one chunk per page of rows. UTF-8 starts with a BOM (Excel)."""
    encoder = codecs.getincrementalencoder(ENCODINGS.get(encoding, "utf-8-sig"))(errors="replace")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_row(header()))
    clock = _Clock()
    pages = repo.iter_export_pages(month, batch_size)
    # The next page is read (on a thread, or over the network) while this one is formatted: at most two
    # pages are in memory at once.
    following = asyncio.ensure_future(anext(pages, None))
    try:
        while (rows := await following) is not None:
            following = asyncio.ensure_future(anext(pages, None))
            writer.writerows(_page_rows(rows, clock))
            yield encoder.encode(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
        yield encoder.encode(buffer.getvalue(), final=True)
    finally:
        if not following.done():  # the download was abandoned: stop reading
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
        await pages.aclose()
