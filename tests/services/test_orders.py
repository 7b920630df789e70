"""Orders after the sale: finding them (by number, ticket code, name, e-mail; the latest when nothing is typed)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import Order
from pos.errors import NotFound
from pos.services.orders import find_orders
from tests.factories import ADMIN, add_customer, issue_tickets, ticket_article


def attach_customer(rt, order_id: int, customer_id: int) -> None:
    with transaction(rt.engine) as session:
        order = session.exec(select(Order).where(Order.id == order_id)).one()
        order.customer_id = customer_id
        session.add(order)


def test_find_orders_by_number_code_name_and_email(rt) -> None:
    article = ticket_article(rt, "Konzert")
    erika = issue_tickets(rt, article, 2, holder_name="Erika Mustermann", holder_email="erika@example.org")
    max_ = issue_tickets(rt, article, holder_name="Max Muster")
    customer = add_customer(rt, "Zoë Kunde", email="zoe@example.org")
    attach_customer(rt, max_[0].order_id, customer.id)
    assert [hit.id for hit in find_orders(rt, ADMIN, str(erika[0].order_id))] == [erika[0].order_id]
    assert [hit.id for hit in find_orders(rt, ADMIN, f"#{erika[0].order_id}")] == [erika[0].order_id]
    hits = find_orders(rt, ADMIN, erika[1].code)
    assert [(hit.id, hit.tickets, hit.customer) for hit in hits] == [
        (erika[0].order_id, 2, "Erika Mustermann")
    ]
    assert [hit.id for hit in find_orders(rt, ADMIN, "MUSTER")] == [max_[0].order_id, erika[0].order_id]
    assert [hit.customer for hit in find_orders(rt, ADMIN, "zoe@EXAMPLE")] == ["Zoë Kunde"]
    assert find_orders(rt, ADMIN, "nobody") == []
    latest = [
        hit.id for hit in find_orders(rt, ADMIN, "  ")
    ]  # nothing typed: the latest orders, newest first
    assert latest == [max_[0].order_id, erika[0].order_id]
    with pytest.raises(NotFound, match="not a valid ticket code"):
        find_orders(rt, ADMIN, erika[1].code[:-1] + str((int(erika[1].code[-1]) + 1) % 10))
