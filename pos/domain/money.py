"""Money is integer cents; these turn user text into cents and rates into basis points exactly."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

MAX_AMOUNT_CENTS = 99_999_999  # 999,999.99: more than any one price, payment or float at a box office
_AMOUNT = re.compile(r"[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+")
_RATE = _AMOUNT


def parse_amount(text: str) -> int:
    """'49.90', '49,90', '49' -> cents, 0 to 999,999.99. Digits are ASCII only; no sign, exponent or fraction
    of a cent."""
    cleaned = text.strip()
    if not _AMOUNT.fullmatch(cleaned) or len(cleaned) > 40:
        raise ValueError(f"{_shown(text)} is not an amount such as 49.90")
    cents = Decimal(cleaned.replace(",", ".")) * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{_shown(text)} has fractions of a cent")
    if cents > MAX_AMOUNT_CENTS:
        raise ValueError(f"{_shown(text)} is more than {format_plain(MAX_AMOUNT_CENTS)}")
    return int(cents)


def _shown(text: str) -> str:
    return repr(text[:40]) + ("..." if len(text) > 40 else "")


def parse_rate(text: str) -> int:
    """'19', '7', '7.7', '12.5' percent -> basis points (1900, 700, 770, 1250)."""
    cleaned = text.strip().removesuffix("%").strip()
    if not _RATE.fullmatch(cleaned) or len(cleaned) > 20:
        raise ValueError(f"{_shown(text)} is not a percentage such as 19")
    value = Decimal(cleaned.replace(",", "."))
    if value > 100:
        raise ValueError(f"{_shown(text)} is not a percentage between 0 and 100")
    bp = value * 100
    if bp != bp.to_integral_value():
        raise ValueError(f"{_shown(text)} has more than two decimals")
    return int(bp)


def rate_number(bp: int) -> int | float:
    """Basis points as the percentage JSON shows: 1900 -> 19, 770 -> 7.7."""
    return bp // 100 if bp % 100 == 0 else bp / 100


def percent_of(cents: int, bp: int) -> int:
    """bp/10000 of cents, rounded half up to the cent."""
    return int((Decimal(cents) * bp / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def vat_included(gross_cents: int, bp: int) -> int:
    """The VAT contained in a gross amount at rate bp, rounded half up (German receipts show gross prices)."""
    if bp == 0:
        return 0
    return int((Decimal(gross_cents) * bp / (10000 + bp)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_plain(cents: int) -> str:
    """12345 -> '123.45' (CLI and logs; the TUI and print use Babel for the locale)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"
