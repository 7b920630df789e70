"""Customer records: validated e-mail, lookup, and a CSV import that writes every row or none."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import func, select

from pos.db.engine import transaction
from pos.db.models import AuditLog, Customer
from pos.domain.customer import normalise_email
from pos.errors import NotFound, Refused
from pos.services import customers
from pos.services.customers import find_customer
from tests.factories import ADMIN, add_customer


def get_customer(rt, ref):  # type: ignore[no-untyped-def]
    return customers.get_customer(rt, ADMIN, ref)


def list_customers(rt):  # type: ignore[no-untyped-def]
    return customers.list_customers(rt, ADMIN)


def import_customers(rt, path):  # type: ignore[no-untyped-def]
    return customers.import_customers(rt, ADMIN, path)


def count(rt) -> int:
    with transaction(rt.engine) as session:
        return session.exec(select(func.count()).select_from(Customer)).one()


def test_add_normalises_email_and_records_audit(rt) -> None:
    customer = add_customer(
        rt, " Anna Müller ", email="Anna@Example.ORG", phone=" 0171 ", birthday="1990-05-17"
    )
    assert (customer.name, customer.email, customer.phone, customer.birthday) == (
        "Anna Müller",
        "Anna@example.org",
        "0171",
        date(1990, 5, 17),
    )
    with transaction(rt.engine) as session:
        actions = session.exec(select(AuditLog.action)).all()
    assert actions == ["customer.add"]


def test_malformed_email_is_refused_in_one_sentence_naming_it(rt) -> None:
    with pytest.raises(Refused) as caught:
        add_customer(rt, "Bob", email="bob@")
    message = str(caught.value)
    assert message.startswith("E-mail address 'bob@' is not valid (")
    assert message.endswith(").") and message.count(". ") == 0 and "\n" not in message
    assert count(rt) == 0


@pytest.mark.parametrize("bad", ["no-at-sign", "two@@example.org", "a b@example.org", "x@localhost"])
def test_normalise_email_refuses(bad: str) -> None:
    with pytest.raises(Refused, match="is not valid"):
        normalise_email(bad)


def test_bad_birthday_and_empty_name_are_refused(rt) -> None:
    with pytest.raises(Refused, match="Birthday '17.05.1990' is not a date"):
        add_customer(rt, "Anna", birthday="17.05.1990")
    with pytest.raises(Refused, match="needs a name"):
        add_customer(rt, "  ")


def test_find_by_id_email_and_name(rt) -> None:
    anna = add_customer(rt, "Anna", email="anna@example.org")
    add_customer(rt, "Ben", email="shared@example.org")
    add_customer(rt, "Ben", email="shared@example.org")
    assert get_customer(rt, f"#{anna.id}").id == anna.id
    assert get_customer(rt, str(anna.id)).id == anna.id
    assert get_customer(rt, "ANNA@example.org").id == anna.id
    assert get_customer(rt, "Anna").id == anna.id
    with pytest.raises(Refused, match="Several customers named 'Ben' exist"):
        get_customer(rt, "Ben")
    with pytest.raises(Refused, match="Several customers with e-mail shared@example.org"):
        get_customer(rt, "shared@example.org")
    with pytest.raises(NotFound, match="Customer #999 does not exist"):
        get_customer(rt, "#999")
    with pytest.raises(NotFound, match="No customer named 'Zoe' exists"), transaction(rt.engine) as session:
        find_customer(session, "Zoe")
    assert [c.name for c in list_customers(rt)] == ["Anna", "Ben", "Ben"]


def test_import_writes_all_rows(rt, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(
        "\ufeffname,email,phone,birthday\n"
        "Anna Müller,anna@example.org,0171 123,1990-05-17\n"
        "\n"
        '"Meier, Ben",,,\n'
        "Cem,cem@example.org,,\n",
        encoding="utf-8",
    )
    imported = import_customers(rt, path)
    assert [(c.name, c.email, c.birthday) for c in imported] == [
        ("Anna Müller", "anna@example.org", date(1990, 5, 17)),
        ("Meier, Ben", None, None),
        ("Cem", "cem@example.org", None),
    ]
    assert count(rt) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name,email\nAnna,anna@example.org\nBen,ben@\n",
            "Line 3 of the CSV file: e-mail address 'ben@' is not valid",
        ),
        ("name,email,phone,birthday\nAnna,,,1990-13-01\n", "Line 2 of the CSV file: birthday '1990-13-01'"),
        (
            "name,email\nAnna,a@example.org\n,b@example.org\n",
            "Line 3 of the CSV file: a customer needs a name",
        ),
        ("name,email\nAnna,a@example.org,extra\n", "Line 2 of the CSV file has more fields than the header"),
        ("email,phone\na@example.org,1\n", "needs a header row with the columns name,email,phone,birthday"),
        ("name,mail\nAnna,a@example.org\n", "unknown column 'mail'"),
    ],
)
def test_import_is_all_or_nothing_and_names_the_line(rt, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Refused, match=message):
        import_customers(rt, path)
    assert count(rt) == 0


def test_import_missing_file(rt, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        import_customers(rt, tmp_path / "nope.csv")
