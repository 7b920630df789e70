"""Who the tickets are for: a stored customer, or a guest with a name and an e-mail address; birthdays."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from pos.domain.clock import parse_date
from pos.domain.values import BadValue, check_text
from pos.errors import PosError, Refused


@dataclass(frozen=True)
class Holder:
    name: str | None = None
    email: str | None = None


def normalise_email(text: str) -> str:
    """A syntactically valid address in its normal form (domain lower-cased); no DNS lookup."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(text.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        reason = str(exc).strip().rstrip(".")
        reason = reason[:1].lower() + reason[1:]
        raise Refused(
            "E-mail address {email!r} is not valid ({reason}).", email=text, reason=reason
        ) from None


def guest(name: str | None, email: str | None) -> Holder:
    """A guest's name and e-mail as typed: trimmed, the address checked; an e-mail needs a name too."""
    clean_name = (name or "").strip() or None
    clean_email = None
    if email and email.strip():
        if clean_name is None:
            raise Refused("A guest e-mail needs the guest's name too.")
        clean_email = normalise_email(email)
    return Holder(clean_name, clean_email)


def check_one_customer(customer_id: int | None, guest_name: str | None, guest_email: str | None) -> None:
    if customer_id is not None and ((guest_name or "").strip() or (guest_email or "").strip()):
        raise Refused("Give either a stored customer or a guest name and e-mail, not both.")


def link_customer(
    link_name: str | None,
    link_email: str | None,
    customer_id: int | None,
    guest_name: str | None,
    guest_email: str | None,
) -> tuple[str | None, str | None] | None:
    """A cart link that names its customer takes no other: what it gives wins, what it leaves out the
    cashier may add (e.g. the name to a link that brings only an e-mail). None when the link names nobody."""
    if not (link_name or link_email):
        return None
    given_name = (guest_name or "").strip() or None
    given_email = (guest_email or "").strip() or None
    name_differs = link_name is not None and given_name not in (None, link_name)
    email_differs = (
        link_email is not None and given_email is not None and given_email.lower() != link_email.lower()
    )
    if customer_id is not None or name_differs or email_differs:
        raise Refused("The cart link names its customer; give no other customer with it.")
    return link_name or given_name, link_email or given_email


def is_birthday(birthday: date | None, day: date) -> bool:
    """Born on 29 February: greeted on 28 February in years without a 29th."""
    if birthday is None:
        return False
    if (birthday.month, birthday.day) == (day.month, day.day):
        return True
    leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
    return (birthday.month, birthday.day) == (2, 29) and not leap and (day.month, day.day) == (2, 28)


CSV_COLUMNS = ("name", "email", "phone", "birthday")
MAX_FIELD_CHARS = 500  # a name, address or phone number; more is not a customer record


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
            raise Refused("Birthday {problem}.", problem=str(exc)) from None
    return NewCustomer(
        name=name,
        email=normalise_email(email) if email and email.strip() else None,
        phone=phone.strip() or None if phone else None,
        birthday=birthday,
    )


def read_customer_csv(text: str) -> list[NewCustomer]:
    """Parse the whole file first, so a bad row (named by its line number) stops the import before any write."""
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if "name" not in header:
        raise Refused(
            "The CSV file needs a header row with the columns {columns}.", columns=",".join(CSV_COLUMNS)
        )
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise Refused(
            "The CSV header has an unknown column {column!r} (known: {columns}).",
            column=unknown[0],
            columns=",".join(CSV_COLUMNS),
        )
    reader.fieldnames = header
    rows: list[NewCustomer] = []
    for row in reader:
        if None in row:
            raise Refused("Line {n} of the CSV file has more fields than the header.", n=reader.line_num)
        if not any((value or "").strip() for value in row.values()):
            continue
        try:
            rows.append(checked(row["name"] or "", row.get("email"), row.get("phone"), row.get("birthday")))
        except PosError as exc:
            raise Refused(
                "Line {n} of the CSV file: {problem}", n=reader.line_num, problem=_lower_first(str(exc))
            ) from None
    return rows


def _lower_first(sentence: str) -> str:
    return sentence[:1].lower() + sentence[1:]
