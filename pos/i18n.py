"""German and English for everything a customer or cashier reads: gettext catalogs plus Babel formats.

The source strings are English; `pos/locale/de/LC_MESSAGES/pos.mo` holds the German catalog (compiled from
`pos.po` and committed, so a fresh install needs no build step). Code that prints or mails for a given
language asks `language(code, ...)` for a `Language` and calls `lang._("...")`, `lang.money(cents)` and so on;
nothing here holds global state, so two languages can be used side by side (tests, mails per recipient).

To change a text: edit the source string, run `make locale` (extract, update, compile), translate the new
entries in `pos.po`, run it again and commit both `pos.po` and `pos.mo`.
"""

from __future__ import annotations

import datetime as dt
import gettext
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from pos.config import Venue

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "pos"
LANGUAGES = ("de", "en")
# Babel locales: German as in Germany, English with day-first dates and a 24-hour clock.
BABEL_LOCALES = {"de": "de_DE", "en": "en_GB"}


def N_(message: str) -> str:
    """Marks a string for the catalog where it is translated later (binding descriptions, table labels)."""
    return message


@cache
def catalog(code: str) -> gettext.NullTranslations:
    """The compiled catalog for a language; English (the source language) needs none."""
    if code not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {code!r}")
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[code], fallback=True)


@dataclass(frozen=True)
class Language:
    """One language with the venue's currency and time zone: translates and formats."""

    code: str
    currency: str = "EUR"
    zone: ZoneInfo = ZoneInfo("Europe/Berlin")

    @property
    def babel_locale(self) -> str:
        return BABEL_LOCALES[self.code]

    def _(self, message: str) -> str:
        return catalog(self.code).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return catalog(self.code).ngettext(singular, plural, n)

    def money(self, cents: int) -> str:
        """12345 -> '123,45 €' (de) or '€123.45' (en)."""
        fast = _euros(self.code, self.currency, cents)
        if fast is not None:
            return fast
        from babel.numbers import format_currency

        return format_currency(Decimal(cents) / 100, self.currency, locale=self.babel_locale)

    def amount(self, cents: int) -> str:
        """12345 -> '123,45' (de) or '123.45' (en): money without the currency sign, as typed into a field."""
        from babel.numbers import format_decimal

        return format_decimal(Decimal(cents) / 100, format="0.00", locale=self.babel_locale)

    def number(self, value: int | float) -> str:
        """7.5 -> '7,5' (de) or '7.5' (en): a percentage, a count with decimals."""
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.babel_locale)

    def datetime(self, at: dt.datetime, style: str = "short") -> str:
        """An instant in the venue's time zone: '31.12.26, 21:00' (de) or '31/12/2026, 21:00' (en)."""
        from babel.dates import format_datetime

        return format_datetime(at, style, tzinfo=self.zone, locale=self.babel_locale)

    def date(self, day: dt.date, style: str = "medium") -> str:
        from babel.dates import format_date

        return format_date(day, style, locale=self.babel_locale)

    def time(self, at: dt.datetime, style: str = "short") -> str:
        from babel.dates import format_time

        return format_time(at, style, tzinfo=self.zone, locale=self.babel_locale)

    def load_date_formats(self, at: dt.datetime) -> None:
        """Babel and its locale data load on the first date or time written (25 ms); a screen that must answer
        its first scan fast calls this while it waits."""
        self.datetime(at, "medium")


def _euros(code: str, currency: str, cents: int) -> str | None:
    """Euros exactly as Babel writes them for de_DE and en_GB ('-1.234,56\xa0€', '-€1,234.56'), without loading
    Babel and its locale data: the sale screen's first paint shows prices. None for another currency."""
    if currency != "EUR":
        return None
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    grouped = f"{units:,}"
    if code == "de":
        return f"{sign}{grouped.replace(',', '.')},{rest:02d}\xa0€"
    if code == "en":
        return f"{sign}€{grouped}.{rest:02d}"
    return None


def language(code: str, currency: str = "EUR", zone: ZoneInfo | None = None) -> Language:
    catalog(code)  # refuse an unknown code early
    return Language(code=code, currency=currency, zone=zone or ZoneInfo("Europe/Berlin"))


def venue_language(venue: Venue, code: str | None = None) -> Language:
    """The language of a `[venue]` config section (or another language with the venue's currency and zone)."""
    return language(code or venue.language, venue.currency, venue.zone)
