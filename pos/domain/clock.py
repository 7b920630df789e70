"""Venue time: business days that start at `day_starts_at`, and user time input in venue local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pos.errors import Refused


def business_day(at: datetime, zone: ZoneInfo, day_start_minutes: int) -> date:
    """The business day an instant belongs to: a party at 02:00 with day start 05:00 is still 'yesterday'."""
    local = at.astimezone(zone)
    day = (local - timedelta(minutes=day_start_minutes)).date()
    # Wall-clock arithmetic is off by one day when the day starts inside a DST gap or repeated hour;
    # the bounds define the day, so they settle it.
    start, end = business_day_bounds(day, zone, day_start_minutes)
    if at < start:
        return day - timedelta(days=1)
    if at >= end:
        return day + timedelta(days=1)
    return day


def business_day_bounds(day: date, zone: ZoneInfo, day_start_minutes: int) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a business day, correct across DST changes."""
    start_clock = time(day_start_minutes // 60, day_start_minutes % 60)
    start = datetime.combine(day, start_clock, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), start_clock, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


EARLIEST_DAY = date(1900, 1, 1)  # times and dates from outside must fall in these years: the year 1 or
LATEST_DAY = date(2200, 12, 31)  # 9999 with an offset cannot even be converted to UTC


class OutsideCalendar(ValueError):
    """A well-formed date or time outside the years 1900 to 2200."""


def _in_calendar(day: date, text: str) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise OutsideCalendar(f"{_shown(text)} is outside the years {EARLIEST_DAY.year} to {LATEST_DAY.year}")


def _shown(text: str) -> str:
    return repr(text[:40]) + ("..." if len(text) > 40 else "")


def parse_time(text: str, zone: ZoneInfo) -> datetime:
    """ISO 8601 in the years 1900 to 2200; without an offset the time is venue local. A bare date means its
    midnight."""
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        if not cleaned.isascii() or len(cleaned) > 40:
            raise ValueError(text)
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{_shown(text)} is not an ISO 8601 time such as 2026-12-31T20:00") from None
    _in_calendar(value.date(), text)  # as written, before any conversion can overflow
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def parse_date(text: str) -> date:
    """YYYY-MM-DD in the years 1900 to 2200."""
    cleaned = text.strip()
    try:
        if not cleaned.isascii() or len(cleaned) > 40:
            raise ValueError(text)
        day = date.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{_shown(text)} is not a date such as 2026-12-31") from None
    _in_calendar(day, text)
    return day


def iso_local(at: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 in venue local time with its offset, seconds precision."""
    if at is None:
        return None
    return at.astimezone(zone).isoformat(timespec="seconds")


def parse_moment(text: str, zone: ZoneInfo) -> date | datetime:
    """A report or export bound as typed: a date means its business day, anything else is an ISO 8601 time."""
    try:
        return parse_date(text)
    except OutsideCalendar:
        raise
    except ValueError:
        pass
    try:
        return parse_time(text, zone)
    except OutsideCalendar:
        raise
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date such as 2026-12-31 or an ISO 8601 time such as 2026-12-31T20:00"
        ) from None


def period_bounds(
    start: date | datetime | None, end: date | datetime | None, zone: ZoneInfo, day_start_minutes: int
) -> tuple[datetime | None, datetime | None]:
    """[start, end) in UTC: a date from the start of its business day, to the end of it (included)."""

    def bound(value: date | datetime | None, *, is_end: bool) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
        first, after = business_day_bounds(value, zone, day_start_minutes)
        return after if is_end else first

    lower, upper = bound(start, is_end=False), bound(end, is_end=True)
    if lower is not None and upper is not None and lower >= upper:
        raise Refused("The start of the period must lie before its end.")
    return lower, upper
