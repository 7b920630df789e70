"""Bounded values: every number, amount, id, time and text from outside is parsed here, at the boundary.

A value from a command line, a config file, a cart link, a CSV import or a screen field becomes a plain Python
value only after it was checked against explicit bounds, so nothing the database cannot store (a 20-digit
number, the year 1, a NUL character) ever reaches it, and a wrong value is one sentence naming its field:

    --uses: '99999999999999999999' is more than 2147483647.

Digits are ASCII 0-9 only: a superscript `²` or Arabic-Indic `١٢` is refused, never read as 12. The bounds:
amounts 0.00 to 999,999.99; counts (availability, uses, repeat limits) 0 to 2^31 - 1; quantities per line
1 to 1,000; ids 1 to 2^63 - 1; dates and times in the years 1900 to 2200; durations up to 3,660 days.

Pure: no I/O; the caller passes the time zone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pos.domain import clock, money

MAX_COUNT = 2**31 - 1  # availability, uses, repeat limits: what a 32-bit column holds
MAX_ID = 2**63 - 1  # ids and order numbers: what a 64-bit column holds
MAX_QUANTITY = 1000  # units of one article in one cart line
MAX_AMOUNT_CENTS = money.MAX_AMOUNT_CENTS  # 999,999.99
EARLIEST_DAY = clock.EARLIEST_DAY  # 1900-01-01
LATEST_DAY = clock.LATEST_DAY  # 2200-12-31
MAX_DURATION = timedelta(days=3660)  # about ten years
MAX_SHOWN_CHARS = 40  # how much of a refused value a message repeats

_ASCII_DIGITS = re.compile(r"[0-9]+")
_DURATION_PART = re.compile(r"([0-9]+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class BadValue(ValueError):
    """A value refused at the boundary: `str()` is one sentence that names the field."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}.")


def shown(text: str) -> str:
    """The refused value as a message repeats it: quoted, control characters escaped, long ones cut."""
    if len(text) > MAX_SHOWN_CHARS:
        return repr(text[:MAX_SHOWN_CHARS]) + "..."
    return repr(text)


def ascii_whole(text: str) -> int | None:
    """The number written with ASCII digits only (no sign, no `_`, no other script's digits), else None."""
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > 19:  # more than any 64-bit number; int() of thousands of digits is slow or refused
        return MAX_ID + 1
    return int(digits)


def check_whole(value: int, field: str, *, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
    """A number that is already an int (JSON, an option parsed elsewhere) inside [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(field, f"{shown(str(value))} is not a whole number")
    if value < minimum:
        raise BadValue(field, f"{value} is less than {minimum}")
    if value > maximum:
        raise BadValue(field, f"{value} is more than {maximum}")
    return value


def parse_whole(
    text: str, field: str, *, minimum: int = 0, maximum: int = MAX_COUNT, written: str | None = None
) -> int:
    """A whole number written with the digits 0-9, inside [minimum, maximum] (`written`: the text as typed,
    for the message, when `text` is a part of it)."""
    cleaned = text.strip()
    typed = shown(text if written is None else written)
    if not cleaned:
        raise BadValue(field, "is empty; give a whole number such as 12")
    if cleaned.startswith("-") and ascii_whole(cleaned[1:]) is not None:
        raise BadValue(field, f"{typed} is less than {minimum}")
    number = ascii_whole(cleaned)
    if number is None:
        raise BadValue(field, f"{typed} is not a whole number written with the digits 0-9")
    if number > maximum:
        raise BadValue(field, f"{typed} is more than {maximum}")
    if number < minimum:
        raise BadValue(field, f"{typed} is less than {minimum}")
    return number


def parse_count(text: str, field: str, *, minimum: int = 0, maximum: int = MAX_COUNT) -> int:
    """Availability, uses, a repeat limit: 0 (or `minimum`) to 2^31 - 1."""
    return parse_whole(text, field, minimum=minimum, maximum=maximum)


def parse_limit(text: str, field: str) -> int | None:
    """A count or `unlimited` (None)."""
    if text.strip().lower() == "unlimited":
        return None
    return parse_whole(text, field, minimum=0, maximum=MAX_COUNT)


def parse_quantity(text: str, field: str, *, maximum: int = MAX_QUANTITY) -> int:
    """Units of one article in one line: 1 to 1,000."""
    return parse_whole(text, field, minimum=1, maximum=maximum)


def parse_id(text: str, field: str) -> int:
    """An id or order number, `12` or `#12`: 1 to 2^63 - 1."""
    cleaned = text.strip()
    number = cleaned[1:] if cleaned.startswith("#") else cleaned
    return parse_whole(number, field, minimum=1, maximum=MAX_ID, written=text)


def parse_money(text: str, field: str) -> int:
    """An amount such as 49.90 or 49,90 in cents: 0 to 999,999.99."""
    try:
        return money.parse_amount(text)
    except ValueError as exc:
        raise BadValue(field, str(exc)) from None


def parse_instant(text: str, field: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 time in the years 1900 to 2200 (venue local without an offset), as aware UTC."""
    try:
        return clock.parse_time(text, zone)
    except ValueError as exc:
        raise BadValue(field, str(exc)) from None


def parse_day(text: str, field: str) -> date:
    """A date YYYY-MM-DD in the years 1900 to 2200."""
    try:
        return clock.parse_date(text)
    except ValueError as exc:
        raise BadValue(field, str(exc)) from None


def parse_duration(text: str, field: str = "duration") -> timedelta:
    """`90m`, `24h`, `7d`, `1d12h`: positive and at most 3,660 days."""
    cleaned = text.strip().lower().replace(" ", "")
    parts = _DURATION_PART.findall(cleaned)
    if not parts or "".join(number + unit for number, unit in parts) != cleaned:
        raise BadValue(field, f"{shown(text)} is not a duration such as 30m, 24h or 7d")
    limit = int(MAX_DURATION.total_seconds())
    seconds = 0
    for number, unit in parts:
        value = ascii_whole(number)
        assert value is not None  # the pattern matched ASCII digits
        seconds += min(value, limit + 1) * _UNIT_SECONDS[unit]
        if seconds > limit:
            raise BadValue(field, f"{shown(text)} is longer than {MAX_DURATION.days} days")
    if seconds <= 0:
        raise BadValue(field, f"{shown(text)} is not a positive duration")
    return timedelta(seconds=seconds)


def parse_seconds(text: str, field: str, *, minimum: float, maximum: float) -> float:
    """A number of seconds such as 10 or 0.5, finite and inside [minimum, maximum]."""
    cleaned = text.strip()
    if not re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,6})?", cleaned):
        raise BadValue(field, f"{shown(text)} is not a number of seconds such as 10 or 0.5")
    value = float(cleaned)
    if not minimum <= value <= maximum:
        raise BadValue(field, f"{shown(text)} is not between {minimum:g} and {maximum:g} seconds")
    return value


def check_text(text: str, field: str, *, max_chars: int | None = None) -> str:
    """Text the database can store on every backend: no NUL character, and not longer than `max_chars`."""
    if "\x00" in text:
        raise BadValue(field, "contains a NUL character (\\0), which cannot be stored")
    if max_chars is not None and len(text) > max_chars:
        raise BadValue(field, f"is longer than {max_chars} characters")
    return text
