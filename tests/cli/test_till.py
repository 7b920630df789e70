"""`pos shift`, `pos cash`, `pos sell --pay` (split tender) and `pos order return|cancel` through the real CLI."""

from __future__ import annotations

import pytest

from pos.runtime import Runtime
from tests.conftest import PosCommand
from tests.factories import add_article


@pytest.fixture
def shop(pos: PosCommand, rt: Runtime) -> PosCommand:
    add_article(rt, name="Konzert", price_cents=5000, is_ticket=True, vat_bp=700, group="Tickets")
    add_article(rt, name="Bier", price_cents=450, group="Getränke")
    rt.engine.dispose()
    return pos


def one_error(result) -> str:  # type: ignore[no-untyped-def]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_a_shift_from_open_to_z_report(shop: PosCommand) -> None:
    opened = shop.json("shift", "open", "--float", "100.00")
    assert opened["float_cents"] == 10000 and opened["z_number"] is None and opened["closed_at"] is None
    sold = shop.json("sell", "Konzert", "Bier:2", "--pay", "cash:20.00", "--pay", "card", "--no-print")
    assert sold["payments"] == [
        {"tender": "cash", "amount_cents": 2000},
        {"tender": "card", "amount_cents": 3900},
    ]
    assert sold["payment"]["method"] == "split" and sold["fiscal"] is None
    changed = shop.json("sell", "Bier", "--given", "10", "--no-print")
    assert changed["payment"] == {"method": "cash", "given_cents": 1000, "change_cents": 550}
    assert shop.json("cash", "in", "50", "--reason", "Wechselgeld")["journal_number"] == 4
    out = shop.json("cash", "out", "30", "--reason", "Safe")
    assert (out["kind"], out["amount_cents"]) == ("cash_out", 3000)
    x = shop.json("shift", "report")
    assert x["z_number"] is None and x["expected_cash_cents"] == 10000 + 2000 + 450 + 5000 - 3000
    assert x["by_tender"] == [
        {"tender": "cash", "count": 2, "total_cents": 2450},
        {"tender": "card", "count": 1, "total_cents": 3900},
    ]
    assert [row["rate"] for row in x["by_vat"]] == [7, 19]
    z = shop.json("shift", "close", "--counted", "144.00")
    assert z["z_number"] == 1 and z["counted_cents"] == 14400 and z["difference_cents"] == -50
    assert shop.json("shift", "report", str(z["id"])) == z
    report = shop.json("report", "sales")
    assert report["total_cents"] == 5900 + 450
    assert [(r["method"], r["orders"], r["total_cents"]) for r in report["by_payment"]] == [
        (t["tender"], t["count"], t["total_cents"]) for t in x["by_tender"]
    ]
    assert shop("db", "check").returncode == 0


def test_returns_from_the_command_line(shop: PosCommand) -> None:
    shop.json("shift", "open", "--float", "0")
    sold = shop.json("sell", "Konzert:2", "Bier:3", "--no-print")
    codes = [t["code"] for t in sold["tickets"]]
    part = shop.json("order", "return", str(sold["id"]), "--ticket", codes[0], "--line", "Bier:2")
    assert part == {
        "order_id": sold["id"],
        "refund_cents": 5000 + 900,
        "tender": "cash",
        "refunds": [{"tender": "cash", "amount_cents": 5900}],
        "tickets": [codes[0]],
        "lines": [{"article": "Bier", "quantity": 2, "refund_cents": 900}],
        "forced": [],
        "journal_number": 3,
        "fiscal": None,
    }
    again = shop("order", "return", str(sold["id"]), "--ticket", codes[0])
    assert again.returncode == 2 and "already returned" in one_error(again)
    redeemed = shop("redeem", codes[1])
    assert redeemed.returncode == 0, redeemed.stderr
    refused = shop("order", "cancel", str(sold["id"]))
    assert refused.returncode == 1 and "--force" in one_error(refused)
    rest = shop.json("order", "return", str(sold["id"]), "--force", "--refund", "card")
    assert rest["forced"] == [codes[1]] and rest["refunds"] == [{"tender": "card", "amount_cents": 5450}]
    assert shop.json("order", "show", str(sold["id"]))["status"] == "cancelled"
    assert shop("db", "check").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sell", "Bier", "--pay", "cash:1.00", "--pay", "card:1.00"), "do not cover the total"),
        (("sell", "Bier", "--pay", "card:9.00"), "Card pays at most"),
        (("sell", "Bier", "--pay", "cheque"), "not known"),
        (("sell", "Bier", "--pay", "cash:abc"), "is wrong"),
        (("cash", "in", "0", "--reason", "x"), "more than 0"),
        (("cash", "in", "5", "--reason", " "), "needs a reason"),
        (("order", "return", "1", "--line", "Bier"), "ARTICLE:QTY"),
        (("order", "return", "1", "--refund", "gold"), "--refund"),
        (("shift", "close", "--counted", "5"), "No shift is open"),
    ],
)
def test_bad_input_is_one_sentence_and_changes_nothing(
    shop: PosCommand, args: tuple[str, ...], message: str
) -> None:
    result = shop(*args)
    assert result.returncode == 2 and message in one_error(result)
    assert shop.json("report", "sales")["orders"] == 0
