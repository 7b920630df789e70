"""Promo codes in the database, on SQLite and PostgreSQL: definition, stage rules, atomic use counting."""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from pos.db import promos
from pos.db.engine import transaction
from pos.db.models import Order, OrderLine, PromoCode, PromoUse
from pos.db.promos import CODE_ALPHABET, stored_codes
from pos.domain.promo import EnteredCodes, TicketSlot, allocate, check_codes
from pos.errors import NotFound, Refused
from pos.runtime import Runtime
from pos.services import promos as promo_service
from tests.factories import ADMIN, add_article
from tests.factories import add_promo as add_code


@pytest.fixture
def shop(rt: Runtime) -> dict[str, int]:
    ids = {}
    for name, cents, hidden, is_ticket in [
        ("Adult", 5000, False, True),
        ("Child", 2000, False, True),
        ("VIP", 12000, True, True),
        ("Beer", 450, False, False),
    ]:
        article = add_article(rt, name=name, price_cents=cents, hidden=hidden, is_ticket=is_ticket)
        assert article.id is not None
        ids[name] = article.id
    return ids


def load_rules(session: Any, rt: Runtime, *, unlock_codes=(), promo_codes=(), link_promo=None) -> list[Any]:  # type: ignore[no-untyped-def]
    """The entered codes checked against the stored ones, as a sale does it."""
    entered = EnteredCodes.of(unlock_codes, promo_codes, link_promo)
    return check_codes(entered, stored_codes(session, entered.all), rt.now(), rt.config.venue.zone)


def load(rt: Runtime, **kw: Any) -> list[Any]:
    with transaction(rt.engine) as session:
        return load_rules(session, rt, **kw)


def generate_promos(rt: Runtime, count: int, prefix: str = "", **definition: Any) -> list[dict[str, Any]]:
    return promo_service.generate_promos(
        rt, ADMIN, count, promo_service.PromoDefinition(**definition), prefix=prefix
    )


def list_promos(rt: Runtime) -> list[dict[str, Any]]:
    return promo_service.list_promos(rt, ADMIN)


def used(rt: Runtime, code: str) -> int:
    with transaction(rt.engine) as session:
        return session.exec(select(PromoCode.used).where(PromoCode.code == code)).one()


def sell(rt: Runtime, slots: Sequence[TicketSlot], **kw: Any) -> int:
    """A minimal sale: the order row, the allocation, the uses, in one transaction."""
    with transaction(rt.engine) as session:
        rules = load_rules(session, rt, **kw)
        allocation = allocate(slots, rules)
        order = Order(total_cents=0)
        session.add(order)
        session.flush()
        assert order.id is not None
        lines = [
            OrderLine(
                order_id=order.id,
                article_id=slot.article_id,
                article_name="x",
                article_group="x",
                unit_price_cents=slot.price_cents,
                total_cents=slot.price_cents,
                vat_bp=0,
            )
            for slot in slots
        ]
        session.add_all(lines)
        session.flush()
        promos.consume(session, allocation, rules, order.id, [line.id for line in lines])
        return order.id


# --- add / generate / list -----------------------------------------------------------------------------


def test_add_normalises_and_lists(rt: Runtime, shop: dict[str, int]) -> None:
    added = add_code(rt, "  vip2027 ", unlocks=["VIP"], uses=20)
    assert added["code"] == "VIP2027" and added["unlocks"] == ["VIP"] and added["left"] == 20
    ten = add_code(rt, "ten", percent_bp=1000, applies_to=["Adult", f"#{shop['Child']}"])
    assert ten["percent"] == 10 and ten["applies_to"] == ["Adult", "Child"] and ten["amount_cents"] is None
    listed = list_promos(rt)
    assert [p["code"] for p in listed] == ["TEN", "VIP2027"]
    assert set(listed[0]) == {
        "id",
        "code",
        "amount_cents",
        "percent",
        "unlocks",
        "applies_to",
        "uses",
        "used",
        "left",
        "valid_from",
        "valid_until",
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amount_cents": 100, "percent_bp": 1000}, "not both"),
        ({}, "must do something"),
        ({"amount_cents": 0}, "more than 0"),
        ({"percent_bp": 10001}, "at most 100"),
        ({"amount_cents": 100, "uses": 0}, "number of uses"),
        ({"unlocks": ["Adult"]}, "not hidden"),
        ({"amount_cents": 100, "applies_to": ["Beer"]}, "not a ticket"),
        ({"unlocks": ["VIP"], "applies_to": ["Adult"]}, "needs a reduction"),
    ],
)
def test_add_refuses_a_meaningless_code(
    rt: Runtime, shop: dict[str, int], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(Refused, match=message):
        add_code(rt, "X", **kwargs)


def test_add_refuses_a_duplicate_and_an_unknown_article(rt: Runtime, shop: dict[str, int]) -> None:
    add_code(rt, "SAVE", amount_cents=500)
    with pytest.raises(Refused, match="SAVE already exists"):
        add_code(rt, "save", amount_cents=100)
    with pytest.raises(NotFound, match="Nope"):
        add_code(rt, "Y", unlocks=["Nope"])
    with pytest.raises(Refused, match="without spaces"):
        add_code(rt, "TWO WORDS", amount_cents=100)


def test_generate_makes_unique_unguessable_codes_in_one_batch(rt: Runtime, shop: dict[str, int]) -> None:
    batch = generate_promos(rt, 300, prefix="sponsor", amount_cents=2000, uses=1)
    codes = [p["code"] for p in batch]
    assert len(set(codes)) == 300
    for code in codes:
        prefix, first, second = code.split("-")
        assert prefix == "SPONSOR" and len(first) == len(second) == 4
        assert set(first + second) <= set(CODE_ALPHABET)
    assert not set("01OIL") & set("".join(codes).replace("SPONSOR", ""))
    assert len(list_promos(rt)) == 300
    with pytest.raises(Refused, match="must do something"):
        generate_promos(rt, 3, prefix="X")
    assert len(list_promos(rt)) == 300


# --- load_rules: existence, validity, stages -------------------------------------------------------------


def test_load_rules_normalises_and_dedupes(rt: Runtime, shop: dict[str, int]) -> None:
    add_code(rt, "VIP", unlocks=["VIP"], uses=3)
    add_code(rt, "TEN", percent_bp=1000, applies_to=["Adult"])
    rules = load(rt, unlock_codes=[" vip", "VIP"], promo_codes=["ten", "TEN ", "vip"])
    assert [r.code for r in rules] == ["VIP", "TEN"]
    vip, ten = rules
    assert vip.unlocks == {shop["VIP"]} and vip.applies_to is None and vip.uses_left == 3
    assert ten.percent_bp == 1000 and ten.applies_to == {shop["Adult"]} and ten.unlocks == frozenset()


def test_refusals_name_the_code(rt: Runtime, shop: dict[str, int], clock: Any) -> None:
    now = clock.now
    add_code(rt, "LATER", amount_cents=100, valid_from=now + timedelta(days=1))
    add_code(rt, "OVER", amount_cents=100, valid_until=now)
    add_code(rt, "ONCE", amount_cents=100)
    sell(rt, [TicketSlot(shop["Adult"], 5000, False)], promo_codes=["ONCE"])
    for code, message in [
        ("nope", "Promo code NOPE does not exist."),
        ("later", "Promo code LATER is not valid before"),
        ("over", "Promo code OVER expired on"),
        ("once", "Promo code ONCE is used up."),
    ]:
        with pytest.raises(Refused, match=message):
            load(rt, promo_codes=[code])
    clock.now = now + timedelta(days=2)
    assert [r.code for r in load(rt, promo_codes=["LATER"])] == ["LATER"]


def test_pure_reduction_at_the_start_is_refused_with_where_to_enter_it(
    rt: Runtime, shop: dict[str, int]
) -> None:
    add_code(rt, "SAVE10", percent_bp=1000)
    add_code(rt, "VIPHALF", percent_bp=5000, unlocks=["VIP"])
    with pytest.raises(Refused, match=r"^Code SAVE10 reduces prices; enter it at payment\.$"):
        load(rt, unlock_codes=["save10"])
    assert [r.code for r in load(rt, unlock_codes=["VIPHALF"])] == [
        "VIPHALF"
    ]  # unlock + reduce: at the start
    assert [r.code for r in load(rt, promo_codes=["SAVE10"])] == ["SAVE10"]


def test_direct_link_may_reduce_but_then_takes_no_other_code(rt: Runtime, shop: dict[str, int]) -> None:
    add_code(rt, "LINK20", amount_cents=2000)
    add_code(rt, "VIP", unlocks=["VIP"])
    add_code(rt, "SAVE10", percent_bp=1000)
    assert [r.code for r in load(rt, link_promo="link20")] == ["LINK20"]
    assert [r.code for r in load(rt, link_promo="LINK20", promo_codes=["link20"])] == ["LINK20"]
    for kw in ({"unlock_codes": ["VIP"]}, {"promo_codes": ["save10"]}):
        with pytest.raises(Refused, match=r"Code (VIP|SAVE10) cannot be added: .*direct link"):
            load(rt, link_promo="LINK20", **kw)


# --- consume / return_uses -------------------------------------------------------------------------------


def test_consume_counts_uses_records_them_and_skips_unused_codes(rt: Runtime, shop: dict[str, int]) -> None:
    add_code(rt, "C50", amount_cents=5000)
    add_code(rt, "C20", amount_cents=2000)
    add_code(rt, "TEN", percent_bp=1000, uses=5)
    slots = [TicketSlot(shop["Adult"], 5000, False), TicketSlot(shop["Child"], 2000, False)]
    order_id = sell(rt, slots, promo_codes=["C20", "TEN", "C50"])
    assert (used(rt, "C50"), used(rt, "C20"), used(rt, "TEN")) == (1, 1, 0)
    with transaction(rt.engine) as session:
        uses = session.exec(select(PromoUse).where(PromoUse.order_id == order_id)).all()
        assert sorted(u.discount_cents for u in uses) == [2000, 5000]


def test_consume_refuses_when_another_terminal_took_the_last_use(rt: Runtime, shop: dict[str, int]) -> None:
    add_code(rt, "ONCE", amount_cents=500)
    slots = [TicketSlot(shop["Adult"], 5000, False)]
    with transaction(rt.engine) as session:
        rules = load_rules(session, rt, promo_codes=["ONCE"])
    sell(rt, slots, promo_codes=["ONCE"])  # the other terminal, meanwhile
    with pytest.raises(Refused, match="ONCE has no use left"), transaction(rt.engine) as session:
        order = Order()
        session.add(order)
        session.flush()
        assert order.id is not None
        promos.consume(session, allocate(slots, rules), rules, order.id, [None])
    assert used(rt, "ONCE") == 1
    with transaction(rt.engine) as session:
        assert len(session.exec(select(Order)).all()) == 1  # the refused sale rolled back


def test_return_uses_gives_uses_back_once(rt: Runtime, shop: dict[str, int]) -> None:
    add_code(rt, "VIP", unlocks=["VIP"], uses=2)
    slots = [TicketSlot(shop["VIP"], 12000, True)] * 2
    order_id = sell(rt, slots, unlock_codes=["VIP"])
    assert used(rt, "VIP") == 2
    with pytest.raises(Refused, match="used up"):
        load(rt, unlock_codes=["VIP"])
    with transaction(rt.engine) as session:
        line_ids = [line.id for line in session.exec(select(OrderLine).where(OrderLine.order_id == order_id))]
    for _ in range(2):  # a second return of the same tickets gives nothing back twice
        with transaction(rt.engine) as session:
            promos.return_line_uses(session, line_ids)
        assert used(rt, "VIP") == 0
    with transaction(rt.engine) as session:
        assert all(u.returned for u in session.exec(select(PromoUse)).all())
    assert load(rt, unlock_codes=["VIP"])[0].uses_left == 2


# --- across processes -----------------------------------------------------------------------------------


def _race(url: str, codes: list[str], start: Any, results: Any) -> None:
    from tests.conftest import test_config

    rt = Runtime(config=test_config(), database_url=url)
    start.wait()
    for code in codes:
        try:
            sell(rt, [TicketSlot(1, 5000, False)], promo_codes=[code])
            results.put((code, "won"))
        except Refused:
            results.put((code, "refused"))
    rt.engine.dispose()


def test_uses_are_counted_atomically_across_processes(rt: Runtime, shop: dict[str, int]) -> None:
    codes = [f"RACE{i}" for i in range(10)]
    for code in codes:
        add_code(rt, code, amount_cents=100)
    add_code(rt, "TWICE", amount_cents=100, uses=2)
    codes.append("TWICE")
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    results = context.Queue()
    workers = [context.Process(target=_race, args=(rt.database_url, codes, start, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    outcomes = [results.get(timeout=60) for _ in range(len(workers) * len(codes))]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    wins = {code: sum(1 for c, o in outcomes if c == code and o == "won") for code in codes}
    assert wins == {**{c: 1 for c in codes[:-1]}, "TWICE": 2}
    with transaction(rt.engine) as session:
        assert all(p.used == p.uses for p in session.exec(select(PromoCode)).all())
        assert len(session.exec(select(PromoUse)).all()) == 12
        assert len(session.exec(select(Order)).all()) == 12


def test_demo_loads_the_promo_codes_once(rt: Runtime) -> None:
    from pos.services.demo import load_demo
    from tests.factories import ADMIN

    load_demo(rt, ADMIN)
    load_demo(rt, ADMIN)
    listed = {p["code"]: p for p in list_promos(rt)}
    assert set(listed) == {"SAVE10", "UMBUCHUNG20", "UMBUCHUNG50", "VIP2027"}
    assert listed["VIP2027"]["unlocks"] == ["Konzert VIP"] and listed["VIP2027"]["uses"] == 20
    assert listed["SAVE10"]["percent"] == 10
    assert (listed["UMBUCHUNG50"]["amount_cents"], listed["UMBUCHUNG20"]["amount_cents"]) == (5000, 2000)
