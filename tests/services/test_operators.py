import pytest
from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import AuditLog, Operator
from pos.db.operators import add_operator, change_pin, hash_pin, list_operators, login, pin_matches
from pos.errors import NotFound, Refused
from pos.services.demo import load_demo
from tests.factories import ADMIN


def test_pin_is_stored_as_salted_hash_and_checked() -> None:
    first, second = hash_pin("1234"), hash_pin("1234")
    assert first != second  # a fresh salt each time
    assert "1234" not in first.split("$")[-1]
    assert first.startswith("scrypt$")
    assert pin_matches("1234", first)
    assert not pin_matches("1235", first)
    assert not pin_matches("1234", "garbage")
    assert not pin_matches("1234", "pbkdf2$1$2$3$00$00")


def test_login_with_name_and_pin(rt) -> None:
    add_operator(rt, "tester", "anna", "admin", "4711")
    assert login(rt, "anna", "4711").role == "admin"
    assert login(rt, " anna ", "4711").name == "anna"
    for name, pin in (("anna", "4712"), ("nobody", "4711"), ("anna", "")):
        with pytest.raises(Refused, match="^Wrong name or PIN.$"):
            login(rt, name, pin)


def test_inactive_operator_cannot_log_in(rt) -> None:
    operator = add_operator(rt, "tester", "old", "cashier", "1111")
    with transaction(rt.engine) as session:
        row = session.get(Operator, operator.id)
        row.active = False
        session.add(row)
    with pytest.raises(Refused):
        login(rt, "old", "1111")


def test_add_refuses_bad_input_and_duplicates(rt) -> None:
    add_operator(rt, "tester", "kim", "cashier", "0000")
    cases = [
        ("kim", "cashier", "1234"),
        ("", "cashier", "1234"),
        ("lee", "boss", "1234"),
        ("lee", "cashier", "12"),
    ]
    cases.append(("lee", "cashier", "12a4"))
    for name, role, pin in cases:
        with pytest.raises(Refused):
            add_operator(rt, "tester", name, role, pin)
    assert [o.name for o in list_operators(rt)] == ["kim"]


def test_change_pin_is_audited(rt) -> None:
    add_operator(rt, "tester", "kim", "cashier", "0000")
    change_pin(rt, "tester", "kim", "9876")
    assert login(rt, "kim", "9876").name == "kim"
    with transaction(rt.engine) as session:
        actions = [a.action for a in session.exec(select(AuditLog))]
    assert actions == ["operator.add", "operator.set_pin"]
    with pytest.raises(NotFound):
        change_pin(rt, "tester", "nobody", "9876")


def test_demo_adds_admin_and_cashier_once(rt) -> None:
    load_demo(rt, ADMIN)
    load_demo(rt, ADMIN, if_empty=True)
    assert {(o.name, o.role) for o in list_operators(rt)} == {("admin", "admin"), ("kasse", "cashier")}
    assert login(rt, "admin", "1234").role == "admin"
    assert login(rt, "kasse", "0000").role == "cashier"


def test_login_on_an_empty_database_says_how_to_add_an_operator(rt) -> None:
    from pos.db.operators import NoOperators

    with pytest.raises(NoOperators, match="pos operator add"):
        login(rt, "admin", "1234")
    add_operator(rt, "tester", "kim", "cashier", "0000")
    with pytest.raises(Refused, match="^Wrong name or PIN.$"):
        login(rt, "admin", "1234")
