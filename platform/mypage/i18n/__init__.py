"""Babel catalogs, the request's locale, and locale-aware formatting of yen and dates."""

from __future__ import annotations

import contextvars
import io
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

SUPPORTED = ("ja", "en")
_current_locale: contextvars.ContextVar[str] = contextvars.ContextVar("mypage_locale", default="ja")
_current_zone: contextvars.ContextVar[ZoneInfo] = contextvars.ContextVar("mypage_zone", default=ZoneInfo("Asia/Tokyo"))  # noqa: B039 - a ZoneInfo is immutable


class Catalogs:
    """Compiled translations per locale, built in memory from ``locales/<lang>/LC_MESSAGES/messages.po``."""

    def __init__(self, locales_dir: Path):
        self._translations: dict[str, NullTranslations] = {}
        for lang in SUPPORTED:
            po_path = locales_dir / lang / "LC_MESSAGES" / "messages.po"
            if not po_path.is_file():
                self._translations[lang] = NullTranslations()
                continue
            with po_path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            self._translations[lang] = Translations(fp=buffer)

    def get(self, lang: str) -> NullTranslations:
        return self._translations.get(lang) or NullTranslations()


_catalogs: Catalogs | None = None


def install_catalogs(catalogs: Catalogs) -> None:
    global _catalogs
    _catalogs = catalogs


def set_locale(lang: str) -> contextvars.Token:
    return _current_locale.set(lang if lang in SUPPORTED else "ja")


def set_zone(name: str) -> contextvars.Token:
    """The tenant's time zone: "today" and the times shown follow it, whatever the server's clock zone."""
    return _current_zone.set(ZoneInfo(name))


def today(zone: str | None = None) -> date:
    """Today in ``zone`` (a tenant's ``timezone``), else in the current request's tenant zone."""
    return datetime.now(ZoneInfo(zone) if zone else _current_zone.get()).date()


def _local(value: datetime) -> datetime:
    return value.astimezone(_current_zone.get()) if value.tzinfo else value


def current_locale() -> str:
    return _current_locale.get()


_NO_CATALOG = NullTranslations()


def translations() -> NullTranslations:
    """The current locale's catalog."""
    return _NO_CATALOG if _catalogs is None else _catalogs.get(current_locale())


def gettext(message: str) -> str:
    if _catalogs is None:
        return message
    return _catalogs.get(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    if _catalogs is None:
        return singular if n == 1 else plural
    return _catalogs.get(current_locale()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Marks a string for extraction (``pybabel``) without translating it; translate it later with ``gettext``."""
    return message


def negotiate(accept_language: str, offered: list[str], default: str) -> str:
    """Picks the first of ``offered`` the browser asks for, else the tenant's default."""
    if not accept_language:
        return default
    preferences = []
    for part in accept_language.split(","):
        pieces = part.strip().split(";q=")
        tag = pieces[0].strip().lower()
        try:
            quality = float(pieces[1]) if len(pieces) > 1 else 1.0
        except ValueError:
            quality = 0.0
        if tag:
            preferences.append((quality, tag))
    for _quality, tag in sorted(preferences, key=lambda item: -item[0]):
        lang = tag.split("-")[0]
        if lang in offered:
            return lang
    return default


@lru_cache(maxsize=8)
def _parsed_locale(tag: str) -> Locale:
    return Locale.parse(tag)


def babel_locale(lang: str | None = None) -> Locale:
    return _parsed_locale("ja_JP" if (lang or current_locale()) == "ja" else "en_US")


# Formatting is a pure function of (value, pattern, locale) and the same dates and amounts come back on every
# page (notice dates, billing months): each is formatted by Babel once per process.
@lru_cache(maxsize=4096)
def _format_date(value: date, pattern: str, lang: str) -> str:
    return format_date(value, format=pattern, locale=babel_locale(lang))


@lru_cache(maxsize=4096)
def _format_grouped(value: int | float, lang: str) -> str:
    return format_decimal(value, format="#,##0", locale=babel_locale(lang))


@lru_cache(maxsize=1024)
def _format_month(value: date, lang: str) -> str:
    return format_skeleton("yMMM", value, locale=babel_locale(lang))


def yen(amount: int | float, lang: str | None = None) -> str:
    """``12,345円`` in Japanese, ``¥12,345`` in English."""
    lang = lang or current_locale()
    if lang == "ja":
        return f"{_format_grouped(amount, lang)}円"
    return format_currency(amount, "JPY", locale=babel_locale(lang))


def number(value: int | float, lang: str | None = None) -> str:
    return _format_grouped(value, lang or current_locale())


def month(value: str | date, lang: str | None = None) -> str:
    """``2023年10月`` / ``Oct 2023`` from ``2023-10`` or a date."""
    if isinstance(value, str):
        year, mon = value.split("-")[:2]
        value = date(int(year), int(mon), 1)
    return _format_month(value, lang or current_locale())


def long_date(value: date | datetime | None, lang: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return _format_date(value, "long", lang or current_locale())


def padded_date(value: date | datetime | None, lang: str | None = None) -> str:
    """``2023年12月01日`` (zero-padded, as the operators print document dates) / ``Dec 1, 2023``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    lang = lang or current_locale()
    pattern = "y年MM月dd日" if lang == "ja" else "medium"
    return _format_date(value, pattern, lang)


def short_date(value: date | datetime | None, lang: str | None = None) -> str:
    """``2023/12/07`` as the seeds print dates in tables."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return value.strftime("%Y/%m/%d")


def date_time(value: datetime | None, lang: str | None = None) -> str:
    if value is None:
        return ""
    return format_datetime(_local(value), format="medium", locale=babel_locale(lang))
