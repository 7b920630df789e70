"""Promo codes in real sales through the `pos` console script: allocation, stages, direct link, uses."""

from __future__ import annotations

import subprocess

import pytest
from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import Article, Order, PromoCode, PromoUse
from pos.runtime import Runtime
from tests import conftest
from tests.conftest import PosCommand
from tests.factories import add_article, add_promo


@pytest.fixture
def shop_rt(pos_sqlite: PosCommand) -> Runtime:
    return set_up_shop(pos_sqlite)


def set_up_shop(pos: PosCommand) -> Runtime:
    """Articles and codes set up in-process (fast); the sales themselves go through the CLI."""
    rt = Runtime(config=conftest.test_config(), database_url=pos.env["POS_DB"])
    for name, cents, hidden in [("Adult", 5000, False), ("Child", 2000, False), ("Cheap", 999, False)]:
        add_article(rt, name=name, price_cents=cents, is_ticket=True, hidden=hidden)
    add_article(rt, name="VIP", price_cents=12000, is_ticket=True, hidden=True)
    for code, kw in [
        ("C50", {"amount_cents": 5000}),
        ("C20", {"amount_cents": 2000}),
        ("D50", {"amount_cents": 5000}),
        ("D20", {"amount_cents": 2000}),
        ("SAVE10", {"percent_bp": 1000, "uses": 10}),
        ("P33", {"percent_bp": 3300}),
        ("VIPCODE", {"unlocks": ["VIP"], "uses": 5}),
        ("LINK20", {"amount_cents": 2000, "uses": 5}),
        ("ONCE", {"amount_cents": 100}),
    ]:
        add_promo(rt, code, **kw)
    return rt


def used(rt: Runtime) -> dict[str, int]:
    with transaction(rt.engine) as session:
        return {p.code: p.used for p in session.exec(select(PromoCode))}


def sold(rt: Runtime) -> dict[str, int]:
    with transaction(rt.engine) as session:
        return {a.name: a.sold for a in session.exec(select(Article))}


def orders(rt: Runtime) -> int:
    with transaction(rt.engine) as session:
        return len(session.exec(select(Order)).all())


def refused(pos: PosCommand, *args: str) -> str:
    result = pos("sell", *args, "--no-print")
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    return result.stderr.strip().removeprefix("Error: ")


def test_seed_example_in_either_entry_order_needs_no_payment(
    pos_sqlite: PosCommand, shop_rt: Runtime
) -> None:
    pos = pos_sqlite
    for codes in (["C20", "C50"], ["D50", "D20"]):
        order = pos.json("sell", "Adult", "Child", "--promo", codes[0], "--promo", codes[1], "--no-print")
        assert order["total_cents"] == 0 and order["payment"]["method"] == "free"
        assert [
            (line["article"], line["discount_cents"], line["final_price_cents"]) for line in order["lines"]
        ] == [
            ("Adult", 5000, 0),
            ("Child", 2000, 0),
        ]
        assert [line["promo_code"] for line in order["lines"]] == sorted(
            codes, reverse=True
        )  # x50 on the adult
        assert order["unused_codes"] == [] and order["discount_cents"] == 7000
    assert {c: n for c, n in used(shop_rt).items() if n} == {"C50": 1, "C20": 1, "D50": 1, "D20": 1}


def test_rounding_and_unused_code_not_consumed(pos_sqlite: PosCommand, shop_rt: Runtime) -> None:
    pos = pos_sqlite
    order = pos.json("sell", "Cheap", "--promo", "p33", "--no-print")
    assert order["lines"][0]["discount_cents"] == 330 and order["total_cents"] == 669  # 33 % of 9.99 = 3.2967
    order = pos.json("sell", "Child", "--promo", "SAVE10", "--promo", "C50", "--no-print")
    assert order["lines"][0]["promo_code"] == "C50" and order["total_cents"] == 0
    assert order["unused_codes"] == ["SAVE10"]
    assert used(shop_rt)["SAVE10"] == 0 and used(shop_rt)["C50"] == 1


def test_stages_and_hidden_tickets(pos_sqlite: PosCommand, shop_rt: Runtime) -> None:
    pos = pos_sqlite
    assert refused(pos, "Adult", "--unlock", "save10") == "Code SAVE10 reduces prices; enter it at payment."
    assert "VIP" in refused(pos, "VIP")
    assert "VIP" in refused(pos, "VIP", "--promo", "SAVE10")
    assert orders(shop_rt) == 0 and sold(shop_rt)["VIP"] == 0
    order = pos.json("sell", "VIP", "Adult", "--unlock", "vipcode", "--promo", "SAVE10", "--no-print")
    assert [(line["article"], line["promo_code"]) for line in order["lines"]] == [
        ("VIP", "SAVE10"),  # unlocked by VIPCODE, reduced by SAVE10: the line shows the reduction
        ("Adult", "SAVE10"),
    ]
    assert order["total_cents"] == 10800 + 4500
    assert used(shop_rt)["VIPCODE"] == 1 and used(shop_rt)["SAVE10"] == 2 and sold(shop_rt)["VIP"] == 1
    order = pos.json("sell", "VIP", "--unlock", "VIPCODE", "--no-print")
    assert order["lines"][0]["promo_code"] == "VIPCODE" and order["total_cents"] == 12000


def test_direct_link_then_no_other_code(pos_sqlite: PosCommand, shop_rt: Runtime) -> None:
    pos = pos_sqlite
    order = pos.json("sell", "Adult", "--link-promo", "link20", "--no-print")
    assert order["lines"][0]["promo_code"] == "LINK20" and order["total_cents"] == 3000
    message = refused(pos, "Adult", "Child", "--link-promo", "LINK20", "--promo", "SAVE10")
    assert message.startswith("Code SAVE10 cannot be added") and "direct link" in message
    assert "VIPCODE" in refused(pos, "VIP", "--link-promo", "LINK20", "--unlock", "VIPCODE")
    assert orders(shop_rt) == 1 and used(shop_rt)["LINK20"] == 1 and used(shop_rt)["SAVE10"] == 0


def test_used_up_code_is_refused_and_cancel_returns_uses(pos_sqlite: PosCommand, shop_rt: Runtime) -> None:
    pos = pos_sqlite
    order = pos.json("sell", "Adult", "--promo", "ONCE", "--no-print")
    assert order["total_cents"] == 4900
    assert refused(pos, "Adult", "--promo", "once") == "Promo code ONCE is used up."
    assert orders(shop_rt) == 1
    pos("order", "cancel", str(order["id"]), check=True)
    assert used(shop_rt)["ONCE"] == 0
    listed = {p["code"]: p for p in pos.json("promo", "list")}
    assert listed["ONCE"]["left"] == 1
    assert pos.json("sell", "Adult", "--promo", "ONCE", "--no-print")["total_cents"] == 4900


def test_one_use_code_raced_by_several_terminals(pos: PosCommand) -> None:
    shop_rt = set_up_shop(pos)
    racers = 5
    command = [pos.exe, "sell", "Adult", "--promo", "ONCE", "--no-print"]
    processes = [
        subprocess.Popen(command, env=pos.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(racers)
    ]
    results = [(p.returncode, err) for p in processes for _out, err in [p.communicate(timeout=120)]]
    assert sorted(code for code, _ in results) == [0] + [2] * (racers - 1), results
    assert all("ONCE" in err for code, err in results if code == 2)
    assert used(shop_rt)["ONCE"] == 1 and orders(shop_rt) == 1 and sold(shop_rt)["Adult"] == 1


def test_demo_vip_ticket_unlocked_by_one_code_and_reduced_by_another(pos_sqlite: PosCommand) -> None:
    """The demo data: VIP2027 only unlocks Konzert VIP (120.00), SAVE10 takes 10 %: 108.00, one use each."""
    pos = pos_sqlite
    pos("demo", check=True)
    rt = Runtime(config=conftest.test_config(), database_url=pos.env["POS_DB"])
    order = pos.json("sell", "Konzert VIP", "--unlock", "VIP2027", "--promo", "SAVE10", "--no-print")
    assert [(line["article"], line["promo_code"], line["discount_cents"]) for line in order["lines"]] == [
        ("Konzert VIP", "SAVE10", 1200)
    ]
    assert order["total_cents"] == 10800 and order["unused_codes"] == []
    assert {c: n for c, n in used(rt).items() if n} == {"SAVE10": 1, "VIP2027": 1}
    with transaction(rt.engine) as session:
        codes = {p.id: p.code for p in session.exec(select(PromoCode))}
        uses = session.exec(select(PromoUse).where(PromoUse.order_id == order["id"])).all()
        assert sorted((codes[u.promo_code_id], u.discount_cents) for u in uses) == [
            ("SAVE10", 1200),
            ("VIP2027", 0),
        ]
        assert len({u.order_line_id for u in uses}) == 1
    assert pos.json("db", "check")["ok"] is True
    pos("order", "cancel", str(order["id"]), check=True)
    assert not any(used(rt).values())
    assert pos.json("db", "check")["ok"] is True
