from datetime import timedelta

import pytest

from pos.db.engine import transaction
from pos.db.models import Order, OrderLine
from pos.errors import Refused
from pos.services import operators
from pos.services.base import Actor
from pos.services.till import close_shift, open_shift, shift_for_login, z_report, z_report_json
from tests.factories import ADMIN


def add_operator(rt, name: str, role: str, pin: str) -> Actor:  # type: ignore[no-untyped-def]
    return operators.actor_of(operators.add_operator(rt, ADMIN, name, role, pin))


def _order(rt, shift_id, method, total, given, change, lines, status="paid"):
    with transaction(rt.engine) as session:
        order = Order(
            shift_id=shift_id,
            total_cents=total,
            payment_method=method,
            given_cents=given,
            change_cents=change,
            status=status,
            created_at=rt.now(),
        )
        session.add(order)
        session.flush()
        for group, quantity, line_total in lines:
            session.add(
                OrderLine(
                    order_id=order.id,
                    article_id=1,
                    article_name="x",
                    article_group=group,
                    quantity=quantity,
                    unit_price_cents=line_total // quantity,
                    total_cents=line_total,
                    vat_bp=1900,
                )
            )


@pytest.fixture
def article(rt):
    from tests.factories import add_article

    return add_article(rt, name="Ticket", price_cents=5000, is_ticket=True)


def test_one_open_shift_per_terminal(rt) -> None:
    anna = add_operator(rt, "anna", "cashier", "1111")
    ben = add_operator(rt, "ben", "cashier", "2222")
    assert shift_for_login(rt, anna).state == "none"
    shift = open_shift(rt, anna, 15000)
    assert shift_for_login(rt, anna).state == "own"
    other = shift_for_login(rt, ben)
    assert (other.state, other.operator, other.shift.id) == ("other", "anna", shift.id)
    with pytest.raises(Refused, match="still open"):
        open_shift(rt, ben, 0)
    close_shift(rt, ADMIN, shift.id, 15000)
    assert shift_for_login(rt, ben).state == "none"
    with pytest.raises(Refused, match="closed already"):
        close_shift(rt, ADMIN, shift.id, 15000)


def test_z_report_sums_the_shift(rt, clock, article) -> None:
    anna = add_operator(rt, "anna", "cashier", "1111")
    shift = open_shift(rt, anna, 10000)
    _order(rt, shift.id, "cash", 7000, 10000, 3000, [("Tickets", 1, 5000), ("Drinks", 4, 2000)])
    _order(rt, shift.id, "card", 5000, 5000, 0, [("Tickets", 1, 5000)])
    _order(rt, shift.id, "free", 0, 0, 0, [("Tickets", 1, 0)])
    _order(rt, shift.id, "cash", 2500, 2500, 0, [("Merch", 1, 2500)], status="cancelled")
    _order(rt, None, "cash", 999, 999, 0, [("Tickets", 1, 999)])  # another shift's order
    clock.now += timedelta(hours=5)
    report = close_shift(rt, ADMIN, shift.id, 16900)
    assert [(s.name, s.count, s.total_cents) for s in report.by_payment] == [
        ("card", 1, 5000),
        ("cash", 1, 7000),
        ("free", 1, 0),
    ]
    assert [(s.name, s.count, s.total_cents) for s in report.by_group] == [
        ("Drinks", 4, 2000),
        ("Tickets", 3, 10000),
    ]
    assert (report.orders, report.sales_cents) == (3, 12000)
    assert (report.cancelled.count, report.cancelled.total_cents) == (1, 2500)
    assert report.expected_cash_cents == 10000 + 10000 - 3000
    assert report.difference_cents == -100
    data = z_report_json(report, rt.config.venue.zone)
    assert data["expected_cash_cents"] == 17000 and data["counted_cents"] == 16900
    assert data["closed_at"] == "2027-01-01T02:00:00+01:00"
    assert z_report(rt, ADMIN, shift.id).counted_cents == 16900


def test_negative_amounts_are_refused(rt) -> None:
    anna = add_operator(rt, "anna", "cashier", "1111")
    with pytest.raises(Refused):
        open_shift(rt, anna, -1)
    shift = open_shift(rt, anna, 0)
    with pytest.raises(Refused):
        close_shift(rt, ADMIN, shift.id, -5)
