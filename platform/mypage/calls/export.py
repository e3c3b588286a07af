"""通話明細 as CSV, produced batch by batch (constant memory whatever the month's size)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

from mypage.calls.repository import CallRepository
from mypage.i18n import gettext as _
from mypage.web.csvout import safe_row

JST = timezone(timedelta(hours=9), "JST")
ENCODINGS = {"utf-8-sig": "utf-8-sig", "utf-8": "utf-8-sig", "utf8": "utf-8-sig", "cp932": "cp932", "sjis": "cp932", "shift_jis": "cp932"}


def local_time(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(JST)


def duration(seconds: int | None) -> str:
    """``00:01:02``."""
    seconds = int(seconds or 0)
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def header() -> list[str]:
    return [_("日時"), _("利用種類"), _("通話元"), _("通話先"), _("通話時間"), _("料金(円)")]


def csv_row(row: dict) -> list:
    return [
        local_time(row["started_at"]).strftime("%Y/%m/%d %H:%M:%S"),
        row["kind"],
        row["caller"],
        row["callee"],
        duration(row["duration_seconds"]),
        row["charge"],
    ]


async def csv_chunks(repo: CallRepository, month: str, encoding: str = "utf-8-sig", batch_size: int = 1000) -> AsyncIterator[bytes]:
    """Encoded CSV: the header, then one chunk per batch of rows. UTF-8 starts with a BOM (Excel)."""
    encoder = codecs.getincrementalencoder(ENCODINGS.get(encoding, "utf-8-sig"))(errors="replace")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(safe_row(header()))
    async for rows in repo.iter_batches(month, batch_size):
        for row in rows:
            writer.writerow(safe_row(csv_row(row)))  # text cells only: the charge stays a number
        yield encoder.encode(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
    yield encoder.encode(buffer.getvalue(), final=True)
