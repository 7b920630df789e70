"""Customer records: add, list, find, and a CSV import that writes every row or none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from pos.db import audit
from pos.db.engine import transaction
from pos.db.models import Customer
from pos.domain.clock import iso_local
from pos.domain.customer import NewCustomer, checked, read_customer_csv
from pos.domain.roles import Role
from pos.domain.values import MAX_ID, ascii_whole
from pos.errors import NotFound, Refused
from pos.runtime import Runtime
from pos.services.base import Actor, require


@dataclass(frozen=True)
class CustomerView:
    id: int
    name: str
    email: str | None
    phone: str | None
    birthday: date | None
    created_at: datetime

    def json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "birthday": self.birthday.isoformat() if self.birthday else None,
            "created_at": iso_local(self.created_at, zone),
        }


MAX_CSV_BYTES = 64 << 20  # a customer list of some hundred thousand rows


def _view(customer: Customer) -> CustomerView:
    assert customer.id is not None
    return CustomerView(
        customer.id, customer.name, customer.email, customer.phone, customer.birthday, customer.created_at
    )


def add_customer(
    rt: Runtime,
    actor: Actor,
    name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    birthday: str | date | None = None,
) -> CustomerView:
    require(actor, Role.CASHIER, "add customers")
    new = checked(name, email, phone, birthday)
    with transaction(rt.engine) as session:
        customer = _insert(session, rt, new)
        audit.record(
            session,
            rt,
            "customer.add",
            f"customer #{customer.id}",
            after={"name": customer.name, "email": customer.email},
            by=actor.name,
        )
        return _view(customer)


def _insert(session: Session, rt: Runtime, new: NewCustomer) -> Customer:
    customer = Customer(
        name=new.name, email=new.email, phone=new.phone, birthday=new.birthday, created_at=rt.now()
    )
    session.add(customer)
    session.flush()
    return customer


def list_customers(rt: Runtime, actor: Actor) -> list[CustomerView]:
    require(actor, Role.CASHIER, "look up customers")
    with transaction(rt.engine) as session:
        return [
            _view(c) for c in session.exec(select(Customer).order_by(col(Customer.name), col(Customer.id)))
        ]


def find_customer(session: Session, ref: str) -> Customer:
    """REF is `#ID` (or a bare id), an e-mail address, or an exact name; several matches are refused."""
    ref = ref.strip()
    digits = ref[1:] if ref.startswith("#") else ref
    number = ascii_whole(digits)  # ASCII digits only: `١٢` is a name, not customer 12
    if number is not None:
        customer = session.get(Customer, number) if 1 <= number <= MAX_ID else None
        if customer is None:
            raise NotFound("Customer #{id} does not exist.", id=digits)
        return customer
    by_email = "@" in ref
    if by_email:
        query = select(Customer).where(func.lower(Customer.email) == ref.lower())
    else:
        query = select(Customer).where(Customer.name == ref)
    matches = list(session.exec(query.order_by(col(Customer.id)).limit(2)))
    if not matches and by_email:
        raise NotFound("No customer with e-mail {ref} exists.", ref=ref)
    if not matches:
        raise NotFound("No customer named {ref!r} exists.", ref=ref)
    if len(matches) > 1 and by_email:
        raise Refused("Several customers with e-mail {ref} exist; name one by #ID.", ref=ref)
    if len(matches) > 1:
        raise Refused("Several customers named {ref!r} exist; name one by #ID.", ref=ref)
    return matches[0]


def get_customer(rt: Runtime, actor: Actor, ref: str) -> CustomerView:
    require(actor, Role.CASHIER, "look up customers")
    with transaction(rt.engine) as session:
        return _view(find_customer(session, ref))


def import_customers(rt: Runtime, actor: Actor, path: str | Path) -> list[CustomerView]:
    """Every row or none: the whole file is checked before the first write."""
    require(actor, Role.ADMIN, "import customers")
    from pos.files import read_regular_file

    file = Path(path)
    try:  # a regular file of at most 64 MiB: /dev/zero, a FIFO or a directory is refused unread
        text = read_regular_file(file, MAX_CSV_BYTES, "File").decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(
            "File {path} is not UTF-8 text (byte {offset} is wrong).", path=str(file), offset=exc.start
        ) from None
    rows = read_customer_csv(text)
    with transaction(rt.engine) as session:
        customers = [_insert(session, rt, row) for row in rows]
        audit.record(
            session, rt, "customer.import", str(file), after={"count": len(customers)}, by=actor.name
        )
        return [_view(c) for c in customers]
