"""`pos promo add|generate|list` through the real console script."""

from __future__ import annotations

import csv
from pathlib import Path

PROMO_FIELDS = {
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


def test_add_and_list(pos_sqlite) -> None:
    pos = pos_sqlite
    pos("article", "add", "Konzert VIP", "--price", "120", "--ticket", "--hidden", check=True)
    pos("article", "add", "Konzert Kind", "--price", "20", "--ticket", check=True)
    vip = pos.json("promo", "add", "vip2027", "--unlock", "Konzert VIP", "--uses", "20")
    assert set(vip) == PROMO_FIELDS
    assert vip["code"] == "VIP2027" and vip["unlocks"] == ["Konzert VIP"] and vip["uses"] == 20
    ten = pos.json(
        "promo",
        "add",
        "KIDS10",
        "--percent",
        "12.5",
        "--applies-to",
        "Konzert Kind",
        "--valid-from",
        "2027-01-01T00:00",
        "--valid-until",
        "2027-02-01",
    )
    assert ten["percent"] == 12.5 and ten["applies_to"] == ["Konzert Kind"]
    assert (
        ten["valid_from"] == "2027-01-01T00:00:00+01:00" and ten["valid_until"] == "2027-02-01T00:00:00+01:00"
    )
    fifty = pos.json("promo", "add", "C50", "--amount", "50.00")
    assert fifty["amount_cents"] == 5000 and fifty["percent"] is None and fifty["left"] == 1
    listed = pos.json("promo", "list")
    assert [p["code"] for p in listed] == ["C50", "KIDS10", "VIP2027"]
    assert [(p["uses"], p["used"], p["left"]) for p in listed] == [(1, 0, 1), (1, 0, 1), (20, 0, 20)]
    pos.env["COLUMNS"] = "200"
    text = pos("promo", "list", check=True).stdout
    assert "VIP2027" in text and "unlocks Konzert VIP" in text
    plain = pos("promo", "add", "SAVE5", "--amount", "5", check=True).stdout
    assert plain.strip() == "Added promo code SAVE5 (€5.00 off each ticket, 1 use(s))."
    plain = pos("promo", "add", "PCT10", "--percent", "10", check=True).stdout
    assert plain.strip() == "Added promo code PCT10 (10 % off tickets, 1 use(s))."  # drinks are never reduced


def test_add_refusals_are_one_sentence(pos_sqlite) -> None:
    pos = pos_sqlite
    pos("article", "add", "Konzert Kind", "--price", "20", "--ticket", check=True)
    pos("promo", "add", "TAKEN", "--amount", "1", check=True)
    for args, message in [
        (["X", "--amount", "5", "--percent", "10"], "not both"),
        (["X"], "must do something"),
        (["X", "--amount", "abc"], "--amount"),
        (["X", "--percent", "150"], "--percent"),
        (["X", "--unlock", "Konzert Kind"], "not hidden"),
        (["X", "--unlock", "Nope"], "Nope"),
        (["taken", "--amount", "2"], "TAKEN already exists"),
        (["X", "--amount", "1", "--valid-from", "2027-02-01", "--valid-until", "2027-01-01"], "ends before"),
    ]:
        result = pos("promo", "add", *args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert [p["code"] for p in pos.json("promo", "list")] == ["TAKEN"]


def test_generate_prints_or_writes_csv(pos_sqlite, tmp_path: Path) -> None:
    pos = pos_sqlite
    printed = pos("promo", "generate", "--count", "25", "--prefix", "sponsor", "--amount", "20", check=True)
    codes = printed.stdout.split()
    assert len(codes) == len(set(codes)) == 25 and all(c.startswith("SPONSOR-") for c in codes)
    target = tmp_path / "codes.csv"
    result = pos(
        "promo", "generate", "--count", "500", "--prefix", "FREE", "--percent", "100", "-o", str(target)
    )
    assert result.returncode == 0 and "500" in result.stdout
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len({r["code"] for r in rows}) == 500 and rows[0]["percent"] == "100"
    listed = pos.json("promo", "list")
    assert len(listed) == 525
    as_json = pos.json("promo", "generate", "--count", "2", "--uses", "3", "--amount", "1")
    assert [set(p) for p in as_json] == [PROMO_FIELDS] * 2 and as_json[0]["uses"] == 3
