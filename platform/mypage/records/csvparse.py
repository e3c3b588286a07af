"""Reading operator CSV files: decoding (UTF-8 with or without BOM, CP932), rows with line numbers,
and the field parsers the importer uses (each returns the normalised value or raises :class:`FieldError`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from mypage.identity import normalize

JST = timezone(timedelta(hours=9))
MAX_INT = 1_000_000_000
"""Largest amount accepted (PostgreSQL integer columns hold up to 2,147,483,647)."""


class FieldError(ValueError):
    """A value that cannot be accepted; the message says why (Japanese)."""


class CsvSyntaxError(FieldError):
    """The file is not well-formed CSV from ``line`` on (an unclosed quote, text after a closing quote)."""

    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line = line


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.line}行目" if self.line else "ファイル"
        column = f" 列「{self.column}」" if self.column else ""
        return f"{where}{column}: {self.reason}"


@dataclass
class CsvFile:
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    """(line number of the row's first physical line, its fields)."""
    encoding: str = ""


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Returns (text, encoding used); raises :class:`FieldError` when the bytes are not in that encoding."""
    candidates = {"auto": ["utf-8-sig", "cp932"], "utf-8": ["utf-8-sig"], "utf-8-sig": ["utf-8-sig"], "cp932": ["cp932"]}
    if encoding not in candidates:
        raise FieldError(f"文字コード {encoding} には対応していません(auto, utf-8, cp932)。")
    last: UnicodeDecodeError | None = None
    for name in candidates[encoding]:
        try:
            return data.decode(name), ("utf-8" if name == "utf-8-sig" else name)
        except UnicodeDecodeError as exc:
            last = exc
    assert last is not None
    line = data[: last.start].count(b"\n") + 1
    names = "UTF-8 / CP932(Shift_JIS)" if encoding == "auto" else encoding
    raise FieldError(f"{line}行目: 文字コードを {names} として読めません。")


def read_csv(data: bytes, encoding: str = "auto") -> CsvFile:
    """Parses the file; the first non-empty row is the header. Raises :class:`FieldError` for unreadable files."""
    text, used = decode(data, encoding)
    if "\x00" in text:
        raise FieldError(NUL_FOUND)
    result = CsvFile(encoding=used)
    for line, row in _rows(io.StringIO(text, newline="")):
        if not result.header:
            result.header = [cell.strip() for cell in row]
        else:
            result.rows.append((line, row))
    return result


def _rows(stream) -> Iterator[tuple[int, list[str]]]:
    """The non-empty rows of a text stream with the line number each starts on; CsvSyntaxError at a broken one."""
    # strict: text after a closing quote is an error instead of being glued to the field.
    reader = csv.reader(stream, strict=True)
    start = 1
    try:
        for row in reader:
            line = start
            start = reader.line_num + 1
            joined = "".join(row)  # one string to look into, not one per cell (millions of rows)
            if "\n" in joined or "\r" in joined:
                # No column holds line breaks: a cell spanning lines is a quote left open, which would
                # silently merge this row with the next ones.
                raise CsvSyntaxError(line, UNCLOSED_QUOTE)
            if joined.strip():
                yield line, row
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise CsvSyntaxError(start, UNCLOSED_QUOTE) from exc
        raise CsvSyntaxError(start, f"CSVとして読めません({exc})。") from exc


def file_encoding(path: str | Path, encoding: str = "auto") -> str:
    """The encoding :func:`decode` would choose for the file, found by reading it in pieces (any size)."""
    candidates = {"auto": ["utf-8-sig", "cp932"], "utf-8": ["utf-8-sig"], "utf-8-sig": ["utf-8-sig"], "cp932": ["cp932"]}
    if encoding not in candidates:
        raise FieldError(f"文字コード {encoding} には対応していません(auto, utf-8, cp932)。")
    line = 0
    for name in candidates[encoding]:
        decoder = codecs.getincrementaldecoder(name)()
        line, chunk = 1, b""
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                    line += chunk.count(b"\n")
                decoder.decode(b"", final=True)
            return "utf-8" if name == "utf-8-sig" else name
        except UnicodeDecodeError as exc:
            line += chunk[: exc.start].count(b"\n")
    names = "UTF-8 / CP932(Shift_JIS)" if encoding == "auto" else encoding
    raise FieldError(f"{line}行目: 文字コードを {names} として読めません。")


def stream_csv(path: str | Path, encoding: str = "auto") -> tuple[str, list[str], Iterator[tuple[int, list[str]]]]:
    """Like :func:`read_csv` for a file of any size, reading one row at a time: (encoding, header, the data rows
    as ``(line, cells)``). The rows raise :class:`CsvSyntaxError` or :class:`FieldError` (NUL) where they meet one;
    the header is empty for a file without rows. The file stays open until the rows are read to the end."""
    used = file_encoding(path, encoding)
    handle = open(path, encoding="utf-8-sig" if used == "utf-8" else used, newline="")  # noqa: SIM115 - closed by rows()
    rows = _rows(_no_nul(handle))
    first = next(rows, None)

    def data() -> Iterator[tuple[int, list[str]]]:
        try:
            yield from rows
        finally:
            handle.close()

    if first is None:
        handle.close()
        return used, [], iter(())
    return used, [cell.strip() for cell in first[1]], data()


def _no_nul(lines: Iterable[str]) -> Iterator[str]:
    for text in lines:
        if "\x00" in text:
            raise FieldError(NUL_FOUND)
        yield text


NUL_FOUND = "ファイルにNUL文字が含まれています(CSVファイルではないようです)。"
UNCLOSED_QUOTE = '引用符(")が閉じられていません。この行から後の行が1つの値として読み込まれるため、取り込めません。'


# --- field parsers ---------------------------------------------------------------------------------------


# A spreadsheet evaluates a cell starting with one of these as a formula (CSV injection): ``=cmd|' /C calc'!A0``.
_FORMULA_START = ("=", "+", "@", "\t", "\r")
# "-" alone (no value), "--", or a plain negative number stay acceptable text.
_HARMLESS_DASH = re.compile(r"-[-\s]*|-\d+(?:[.,]\d+)*")


def no_formula(value: str) -> str:
    """Free text that a spreadsheet would run as a formula is refused, checked after normalisation
    (NFKC makes the full-width ``＝1+1`` a live ``=1+1``). Exports neutralise such cells too (web/csvout.py)."""
    if value.startswith(_FORMULA_START) or (value.startswith("-") and not _HARMLESS_DASH.fullmatch(value)):
        raise FieldError("先頭が = + - @ の値は表計算ソフトで数式として扱われるため、取り込めません。")
    return value


def text(value: str, max_length: int) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    if len(value) > max_length:
        raise FieldError(f"{max_length}文字以内にしてください({len(value)}文字あります)。")
    return no_formula(value)


def name(value: str, max_length: int) -> str:
    value = normalize.name(value)
    if len(value) > max_length:
        raise FieldError(f"{max_length}文字以内にしてください({len(value)}文字あります)。")
    return no_formula(value)


_KANA = re.compile(r"^[\u30a0-\u30ff\u3000A-Za-z0-9().,&'/ー・]+$")


def kana(value: str, max_length: int = 120) -> str:
    value = normalize.katakana_name(value)
    if not _KANA.match(value):
        raise FieldError("全角カナで入力してください。")
    if len(value) > max_length:
        raise FieldError(f"{max_length}文字以内にしてください。")
    return value


def code(value: str, max_length: int) -> str:
    """Customer/contract/invoice numbers, device IDs: half-width, hyphen-free, upper case."""
    value = normalize.upper_code(value)
    if not re.fullmatch(r"[0-9A-Z_.]+", value):
        raise FieldError("半角英数字で入力してください。")
    if len(value) > max_length:
        raise FieldError(f"{max_length}文字以内にしてください。")
    return value


def key(value: str, max_length: int) -> str:
    """Opaque keys (record_key): any printable half-width text, kept as written."""
    value = normalize.ascii_text(value)
    if not value or len(value) > max_length or not value.isprintable():
        raise FieldError(f"{max_length}文字以内の半角文字で入力してください。")
    return value


def phone(value: str) -> str:
    value = normalize.digits_only(value)
    if not value.isdigit() or not 10 <= len(value) <= 11:
        raise FieldError("電話番号は10桁または11桁の数字で入力してください。")
    return value


def dialled(value: str) -> str:
    """A number in a call record: digits (also short numbers such as 117), or ``非通知``."""
    if value.isascii() and value.isdigit() and len(value) <= 20:
        return value
    digits = normalize.digits_only(value)
    if digits.isdigit() and len(digits) <= 20:
        return digits
    cleaned = text(value, 20)
    if cleaned in ("非通知", "通知不可", "公衆電話"):
        return cleaned
    raise FieldError("電話番号は20桁以内の数字で入力してください。")


def postal_code(value: str) -> str:
    value = normalize.postal_code(value)
    if not re.fullmatch(r"\d{7}", value):
        raise FieldError("郵便番号は7桁の数字で入力してください。")
    return value


def last4(value: str) -> str:
    value = normalize.digits_only(value)
    if not re.fullmatch(r"\d{4}", value):
        raise FieldError("4桁の数字で入力してください。")
    return value


def email(value: str) -> str:
    value = normalize.email(value)
    if len(value) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise FieldError("メールアドレスの形式が正しくありません。")
    return value


def integer(value: str, minimum: int = -MAX_INT, maximum: int = MAX_INT) -> int:
    if value.isascii() and value.isdigit() and len(value) <= 15 and minimum <= int(value) <= maximum:
        return int(value)  # the common case, without normalising (a large import parses millions of these)
    cleaned = unicodedata.normalize("NFKC", value).strip()
    cleaned = cleaned.replace(",", "").replace("円", "").replace("¥", "").replace("\\", "").strip()
    cleaned = cleaned.replace("−", "-").replace("▲", "-").replace("△", "-")
    if not re.fullmatch(r"-?\d+", cleaned):
        raise FieldError("整数(半角数字)で入力してください。")
    if len(cleaned) > 15:
        raise FieldError(f"{minimum:,}から{maximum:,}の範囲で入力してください。")
    number = int(cleaned)
    if not minimum <= number <= maximum:
        raise FieldError(f"{minimum:,}から{maximum:,}の範囲で入力してください。")
    return number


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日$"),
)
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})年\s*(\d{1,2})月$"),
)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def a_date(value: str) -> date:
    cleaned = unicodedata.normalize("NFKC", value).strip()
    for pattern in _DATE_PATTERNS:
        found = pattern.match(cleaned)
        if found:
            try:
                return date(int(found[1]), int(found[2]), int(found[3]))
            except ValueError:
                break
    raise FieldError("日付は YYYY-MM-DD の形式で、存在する日付を入力してください。")


def month(value: str) -> str:
    cleaned = unicodedata.normalize("NFKC", value).strip()
    for pattern in _MONTH_PATTERNS:
        found = pattern.match(cleaned)
        if found and 1900 <= int(found[1]) <= 2999 and 1 <= int(found[2]) <= 12:
            return f"{int(found[1]):04d}-{int(found[2]):02d}"
    raise FieldError("年月は YYYY-MM の形式で入力してください。")


_PLAIN_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?", re.ASCII)


def a_datetime(value: str) -> datetime:
    """``2024-12-01 10:19[:34]`` in Japan time (or with an explicit offset, ISO 8601)."""
    plain = _PLAIN_DATETIME.fullmatch(value)
    if plain:  # the common case, without normalising; anything odd takes the full path below
        try:
            y, mo, d, h, mi, s = (int(x) for x in plain.groups("0"))
            return datetime(y, mo, d, h, mi, s, tzinfo=JST)
        except ValueError:
            pass
    cleaned = unicodedata.normalize("NFKC", value).strip()
    parts = re.split(r"[ T]+", cleaned, maxsplit=1)
    if len(parts) == 2 and not _TIME.match(parts[1]):
        try:
            parsed = datetime.fromisoformat(cleaned)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=JST)
    if len(parts) == 2:
        day = a_date(parts[0])
        found = _TIME.match(parts[1])
        if found:
            hour, minute, second = int(found[1]), int(found[2]), int(found[3] or 0)
            if hour < 24 and minute < 60 and second < 60:
                return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=JST)
    raise FieldError("日時は YYYY-MM-DD HH:MM:SS の形式で入力してください。")


_DURATION = re.compile(r"(?:(\d{1,4}):)?(\d{1,2}):(\d{2})")


def duration(value: str) -> int:
    """``00:01:02``, ``1:02`` or ``62`` (seconds) → 62."""
    if value.isascii() and value.isdigit() and len(value) <= 7:
        return int(value)
    cleaned = unicodedata.normalize("NFKC", value).strip()
    found = _DURATION.fullmatch(cleaned)
    if found:
        hours, minutes, seconds = int(found[1] or 0), int(found[2]), int(found[3])
        if minutes < 60 and seconds < 60:
            return hours * 3600 + minutes * 60 + seconds
    elif re.fullmatch(r"\d{1,7}", cleaned.removesuffix("秒")):
        return int(cleaned.removesuffix("秒"))
    raise FieldError("通話時間は HH:MM:SS または秒数で入力してください。")


def choice(value: str, options: dict[str, str]) -> str:
    cleaned = unicodedata.normalize("NFKC", value).strip()
    found = options.get(cleaned) or options.get(cleaned.lower())
    if found is None:
        allowed = "、".join(dict.fromkeys(options.values()))
        raise FieldError(f"次のいずれかを入力してください: {allowed}")
    return found


def split_list(value: str) -> list[str]:
    """``a;b`` (also ``|`` and full-width ``；``) → ``["a", "b"]``."""
    cleaned = unicodedata.normalize("NFKC", value)
    return [part.strip() for part in re.split(r"[;|]", cleaned) if part.strip()]
