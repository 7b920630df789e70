"""Customer records: add, list, find, and a CSV import that writes every row or none."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from pos.db import audit
from pos.db.engine import transaction
from pos.db.models import Customer
from pos.domain.clock import iso_local, parse_date
from pos.domain.values import MAX_ID, BadValue, ascii_whole, check_text
from pos.errors import NotFound, PosError, Refused
from pos.runtime import Runtime

CSV_COLUMNS = ("name", "email", "phone", "birthday")
MAX_FIELD_CHARS = 500  # a name, address or phone number; more is not a customer record
MAX_CSV_BYTES = 64 << 20  # a customer list of some hundred thousand rows; /dev/zero or a FIFO is refused


def normalise_email(text: str) -> str:
    """A syntactically valid address in its normal form (domain lower-cased); no DNS lookup."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(text.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        reason = str(exc).strip().rstrip(".")
        reason = reason[:1].lower() + reason[1:]
        raise Refused(f"E-mail address {text!r} is not valid ({reason}).") from None


@dataclass(frozen=True)
class NewCustomer:
    name: str
    email: str | None = None
    phone: str | None = None
    birthday: date | None = None


def checked(name: str, email: str | None, phone: str | None, birthday: str | date | None) -> NewCustomer:
    """Validate user input for one customer; each problem is one sentence."""
    for field, value in (("name", name), ("e-mail", email), ("phone", phone), ("birthday", birthday)):
        if isinstance(value, str):
            try:
                check_text(value, field, max_chars=MAX_FIELD_CHARS)
            except BadValue as exc:
                raise Refused("The customer's {field} {problem}.", field=field, problem=exc.problem) from None
    name = name.strip()
    if not name:
        raise Refused("A customer needs a name.")
    if isinstance(birthday, str):
        try:
            birthday = parse_date(birthday) if birthday.strip() else None
        except ValueError as exc:
            raise Refused(f"Birthday {exc}.") from None
    return NewCustomer(
        name=name,
        email=normalise_email(email) if email and email.strip() else None,
        phone=phone.strip() or None if phone else None,
        birthday=birthday,
    )


def add_customer(
    rt: Runtime,
    name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    birthday: str | date | None = None,
) -> Customer:
    new = checked(name, email, phone, birthday)
    with transaction(rt.engine) as session:
        customer = _insert(session, rt, new)
        audit.record(session, rt, "customer.add", f"customer #{customer.id}", after=_audit_view(customer))
    return customer


def _insert(session: Session, rt: Runtime, new: NewCustomer) -> Customer:
    customer = Customer(
        name=new.name, email=new.email, phone=new.phone, birthday=new.birthday, created_at=rt.now()
    )
    session.add(customer)
    session.flush()
    return customer


def _audit_view(customer: Customer) -> dict[str, Any]:
    return {"name": customer.name, "email": customer.email}


def list_customers(rt: Runtime) -> list[Customer]:
    with transaction(rt.engine) as session:
        return list(session.exec(select(Customer).order_by(col(Customer.name), col(Customer.id))))


def find_customer(session: Session, ref: str) -> Customer:
    """REF is `#ID` (or a bare id), an e-mail address, or an exact name; several matches are refused."""
    ref = ref.strip()
    digits = ref[1:] if ref.startswith("#") else ref
    number = ascii_whole(digits)
    if number is not None:
        customer = session.get(Customer, number) if 1 <= number <= MAX_ID else None
        if customer is None:
            raise NotFound(f"Customer #{digits} does not exist.")
        return customer
    if "@" in ref:
        query = select(Customer).where(func.lower(Customer.email) == ref.lower())
        what = f"with e-mail {ref}"
    else:
        query = select(Customer).where(Customer.name == ref)
        what = f"named {ref!r}"
    matches = list(session.exec(query.order_by(col(Customer.id)).limit(2)))
    if not matches:
        raise NotFound(f"No customer {what} exists.")
    if len(matches) > 1:
        raise Refused(f"Several customers {what} exist; name one by #ID.")
    return matches[0]


def get_customer(rt: Runtime, ref: str) -> Customer:
    with transaction(rt.engine) as session:
        return find_customer(session, ref)


def read_customer_csv(text: str) -> list[NewCustomer]:
    """Parse the whole file first, so a bad row (named by its line number) stops the import before any write."""
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if "name" not in header:
        raise Refused(f"The CSV file needs a header row with the columns {','.join(CSV_COLUMNS)}.")
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise Refused(
            f"The CSV header has an unknown column {unknown[0]!r} (known: {','.join(CSV_COLUMNS)})."
        )
    reader.fieldnames = header
    rows: list[NewCustomer] = []
    for row in reader:
        if None in row:
            raise Refused(f"Line {reader.line_num} of the CSV file has more fields than the header.")
        if not any((value or "").strip() for value in row.values()):
            continue
        try:
            rows.append(checked(row["name"] or "", row.get("email"), row.get("phone"), row.get("birthday")))
        except PosError as exc:
            raise Refused(f"Line {reader.line_num} of the CSV file: {_lower_first(str(exc))}") from None
    return rows


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]


def import_customers(rt: Runtime, path: str | Path) -> list[Customer]:
    from pos.files import read_regular_file

    file = Path(path)
    try:
        text = read_regular_file(file, MAX_CSV_BYTES, "File").decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Refused(
            "File {path} is not UTF-8 text (byte {offset} is wrong).", path=str(file), offset=exc.start
        ) from None
    rows = read_customer_csv(text)
    with transaction(rt.engine) as session:
        customers = [_insert(session, rt, row) for row in rows]
        audit.record(session, rt, "customer.import", str(file), after={"count": len(customers)})
    return customers


def customer_json(customer: Customer, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "birthday": customer.birthday.isoformat() if customer.birthday else None,
        "created_at": iso_local(customer.created_at, zone),
    }
