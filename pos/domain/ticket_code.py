"""Ticket codes: 4 brand + 10 serial + 9 MAC + 1 Damm check digit = 24 ASCII digits.

The check digit catches every single mistyped digit and every swap of adjacent digits (Damm's
quasigroup), so a typo is told apart from a forgery. The MAC (HMAC-SHA256 of brand + serial, keyed
with the brand secret) lets a gate reject guessed codes without a database lookup: a random
well-formed code passes with probability 10^-9.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import ModuleType

BRAND_DIGITS = 4
SERIAL_DIGITS = 10
MAC_DIGITS = 9
CODE_LENGTH = BRAND_DIGITS + SERIAL_DIGITS + MAC_DIGITS + 1
MAX_SERIAL = 10**SERIAL_DIGITS - 1
_ASCII_DIGITS = frozenset("0123456789")
LOGGED_CODE_CHARS = 64


class CodeProblem(StrEnum):
    MALFORMED = "malformed"
    FOREIGN_BRAND = "foreign_brand"
    FORGED = "forged"


@dataclass(frozen=True, slots=True)
class ParsedCode:
    """The outcome of reading a scan: a serial to look up, or the problem that stops it first."""

    serial: int | None
    problem: CodeProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


@cache
def _damm() -> ModuleType:
    """python-stdnum's Damm module, imported on first use: stdnum pulls in pydoc (20 ms at start-up); after
    that a scan pays one cache lookup, not an import statement."""
    from stdnum import damm

    return damm


def _mac(secret: bytes, brand: str, serial_digits: str) -> str:
    digest = hmac.new(secret, (brand + serial_digits).encode("ascii"), hashlib.sha256).digest()
    return str(int.from_bytes(digest, "big") % 10**MAC_DIGITS).zfill(MAC_DIGITS)


def make_code(brand: str, serial: int, secret: bytes) -> str:
    if len(brand) != BRAND_DIGITS or not set(brand) <= _ASCII_DIGITS:
        raise ValueError("brand must be four ASCII digits")
    if not 0 < serial <= MAX_SERIAL:
        raise ValueError("serial out of range")
    serial_digits = str(serial).zfill(SERIAL_DIGITS)
    body = brand + serial_digits + _mac(secret, brand, serial_digits)
    return body + str(_damm().calc_check_digit(body))


def parse_code(scanned: str, brand: str, secret: bytes) -> ParsedCode:
    """Check a scan in the order DESIGN gives: shape and check digit, brand, MAC. No I/O."""
    if len(scanned) != CODE_LENGTH or not set(scanned) <= _ASCII_DIGITS or _damm().checksum(scanned) != 0:
        return ParsedCode(None, CodeProblem.MALFORMED)
    if scanned[:BRAND_DIGITS] != brand:
        return ParsedCode(None, CodeProblem.FOREIGN_BRAND)
    serial_digits = scanned[BRAND_DIGITS : BRAND_DIGITS + SERIAL_DIGITS]
    mac = scanned[BRAND_DIGITS + SERIAL_DIGITS : -1]
    if not hmac.compare_digest(mac, _mac(secret, brand, serial_digits)):
        return ParsedCode(None, CodeProblem.FORGED)
    serial = int(serial_digits)
    if serial == 0:
        return ParsedCode(None, CodeProblem.FORGED)
    return ParsedCode(serial, None)


def looks_like_ticket_code(scanned: str) -> bool:
    """Cheap routing test for the sale screen: 24 ASCII digits (validity is checked later)."""
    return len(scanned) == CODE_LENGTH and set(scanned) <= _ASCII_DIGITS


def printable(scanned: str) -> str:
    """At most 64 characters, control characters and lone surrogates escaped (safe in a log and a terminal)."""
    cut = scanned[:LOGGED_CODE_CHARS]
    if cut.isprintable():
        return cut
    escaped = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in cut)
    return escaped[:LOGGED_CODE_CHARS]
