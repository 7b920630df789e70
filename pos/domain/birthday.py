"""Birthdays: whom the door greets."""

from __future__ import annotations

from datetime import date


def is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def is_birthday(birthday: date | None, day: date) -> bool:
    """Born on 29 February: greeted on 28 February in years without a 29th."""
    if birthday is None:
        return False
    if (birthday.month, birthday.day) == (day.month, day.day):
        return True
    return (
        (birthday.month, birthday.day) == (2, 29)
        and not is_leap_year(day.year)
        and (day.month, day.day) == (2, 28)
    )
