"""The reads behind the back-office screens, on SQLite and PostgreSQL (the door's are in tests/services)."""

from __future__ import annotations

import json
import stat

import pytest

from pos.db.backoffice import export_to_file, find_orders
from pos.db.customers import add_customer
from pos.db.engine import transaction
from pos.db.models import Order
from pos.db.redemption import redeem
from pos.errors import NotFound, Refused
from tests.factories import issue_tickets, ticket_article


def attach_customer(rt, order_id: int, customer_id: int) -> None:
    with transaction(rt.engine) as session:
        order = session.get(Order, order_id)
        order.customer_id = customer_id
        session.add(order)


def test_find_orders_by_number_code_name_and_email(rt) -> None:
    article = ticket_article(rt, "Konzert")
    erika = issue_tickets(rt, article, 2, holder_name="Erika Mustermann", holder_email="erika@example.org")
    max_ = issue_tickets(rt, article, holder_name="Max Muster")
    customer = add_customer(rt, "Zoë Kunde", email="zoe@example.org")
    attach_customer(rt, max_[0].order_id, customer.id)
    assert [hit.id for hit in find_orders(rt, str(erika[0].order_id))] == [erika[0].order_id]
    assert [hit.id for hit in find_orders(rt, f"#{erika[0].order_id}")] == [erika[0].order_id]
    hits = find_orders(rt, erika[1].code)
    assert [(hit.id, hit.tickets, hit.customer) for hit in hits] == [
        (erika[0].order_id, 2, "Erika Mustermann")
    ]
    assert [hit.id for hit in find_orders(rt, "MUSTER")] == [max_[0].order_id, erika[0].order_id]
    assert [hit.customer for hit in find_orders(rt, "zoe@EXAMPLE")] == ["Zoë Kunde"]
    assert find_orders(rt, "nobody") == [] and find_orders(rt, "  ") == []
    with pytest.raises(NotFound, match="not a valid code"):
        find_orders(rt, erika[1].code[:-1] + str((int(erika[1].code[-1]) + 1) % 10))


def test_export_to_file_is_complete_private_or_absent(sqlite_rt, tmp_path) -> None:
    ticket = issue_tickets(sqlite_rt, ticket_article(sqlite_rt, "Konzert"))[0]
    redeem(sqlite_rt, ticket.code)
    target = tmp_path / "list.json"
    seen = []
    written = export_to_file(
        sqlite_rt, target, fmt="json", progress=lambda done, total: seen.append((done, total))
    )
    assert written == 1 and seen[-1] == (1, 1)
    assert json.loads(target.read_text(encoding="utf-8"))[0]["code"] == ticket.code
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(Refused, match="does not exist"):
        export_to_file(sqlite_rt, tmp_path / "missing" / "list.csv", fmt="csv")
    with pytest.raises(Refused):
        export_to_file(sqlite_rt, tmp_path / "bad.csv", fmt="pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.json", "pos.db", "pos.db-shm", "pos.db-wal"]
