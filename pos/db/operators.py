"""Operators (cashiers and admins) and their PINs.

A PIN is short, so it is stored only as a slow, salted scrypt hash: a stolen database does not reveal PINs
cheaply, and the comparison is constant-time. A login with an unknown name costs the same KDF run as one with a
wrong PIN, so the answer time does not tell which names exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pos.db import audit
from pos.db.engine import transaction
from pos.db.models import Operator
from pos.domain.clock import iso_local
from pos.domain.values import shown
from pos.errors import NotFound, Refused
from pos.runtime import Runtime

ROLES = ("cashier", "admin")
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 12
# scrypt cost: about 50 ms and 16 MiB per check on a small terminal PC.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
_DUMMY_HASH = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'00' * SALT_BYTES}${'00' * HASH_BYTES}"


def check_pin_format(pin: str) -> str:
    """A PIN is 4 to 12 ASCII digits (a cashier types it on the number pad)."""
    if not (PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS) or not pin.isascii() or not pin.isdigit():
        raise Refused("A PIN is {low} to {high} digits.", low=PIN_MIN_DIGITS, high=PIN_MAX_DIGITS)
    return pin


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES, maxmem=64 * 2**20)


def hash_pin(pin: str) -> str:
    """'scrypt$N$r$p$salt$hash' (hex), with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        actual = _scrypt(pin, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def add_operator(rt: Runtime, by: str, name: str, role: str, pin: str) -> Operator:
    name = name.strip()
    if not name:
        raise Refused("An operator needs a name.")
    if role not in ROLES:
        raise Refused("The role must be {roles}, not {role}.", roles=" or ".join(ROLES), role=shown(role))
    operator = Operator(name=name, role=role, pin_hash=hash_pin(check_pin_format(pin)))
    try:
        with transaction(rt.engine) as session:
            session.add(operator)
            session.flush()
            audit.record(
                session,
                rt,
                "operator.add",
                f"operator #{operator.id}",
                after={"name": name, "role": role},
                by=by,
            )
    except IntegrityError:
        raise Refused("An operator named {name} already exists.", name=shown(name)) from None
    return operator


def change_pin(rt: Runtime, by: str, name: str, pin: str) -> Operator:
    new_hash = hash_pin(check_pin_format(pin))
    with transaction(rt.engine) as session:
        operator = session.exec(select(Operator).where(Operator.name == name.strip())).first()
        if operator is None:
            raise NotFound("Operator {name} does not exist.", name=shown(name))
        operator.pin_hash = new_hash
        session.add(operator)
        audit.record(session, rt, "operator.set_pin", f"operator #{operator.id}", by=by)
        return operator


def list_operators(rt: Runtime) -> list[Operator]:
    with transaction(rt.engine) as session:
        return list(session.exec(select(Operator).order_by(col(Operator.name))))


class NoOperators(Refused):
    """Nobody can log in yet: a fresh database without the demo."""


def login(rt: Runtime, name: str, pin: str) -> Operator:
    """The active operator with this name and PIN; anything else is the same one refusal."""
    with transaction(rt.engine) as session:
        operator = session.exec(select(Operator).where(Operator.name == name.strip())).first()
        nobody = operator is None and session.exec(select(Operator.id).limit(1)).first() is None
    stored = operator.pin_hash if operator is not None and operator.active else _DUMMY_HASH
    if not pin_matches(pin, stored) or operator is None or not operator.active:
        if nobody:
            raise NoOperators("No operator exists yet; add one with `pos operator add NAME --role admin`.")
        raise Refused("Wrong name or PIN.")
    return operator


def operator_json(operator: Operator, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": operator.id,
        "name": operator.name,
        "role": operator.role,
        "active": operator.active,
        "created_at": iso_local(operator.created_at, zone),
    }


DEMO_OPERATORS = (("admin", "admin", "1234"), ("kasse", "cashier", "0000"))


def add_demo_operators(session: Session) -> list[str]:
    """The demo's admin (PIN 1234) and cashier (PIN 0000), only while no operator exists at all."""
    if session.exec(select(Operator.id).limit(1)).first() is not None:
        return []
    for name, role, pin in DEMO_OPERATORS:
        session.add(Operator(name=name, role=role, pin_hash=hash_pin(pin)))
    return [name for name, _role, _pin in DEMO_OPERATORS]
