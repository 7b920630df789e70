"""`pos redeem`, `pos ticket ...` and `pos gate` through the real console script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from pos.db.redemption import redeem, show_ticket
from pos.domain.ticket_code import make_code
from pos.runtime import Runtime
from tests import conftest
from tests.conftest import TEST_SECRET, FixedClock, PosCommand
from tests.factories import issue_tickets, ticket_article

SCAN_FIELDS = {
    "accepted",
    "reason",
    "entry",
    "allowed_entries",
    "code",
    "ticket_id",
    "holder",
    "article",
    "at",
    "gate",
    "previous_at",
    "previous_gate",
    "message",
}
SHOW_FIELDS = {
    "code",
    "article",
    "order_id",
    "holder",
    "repeat",
    "repeat_limit",
    "valid_from",
    "valid_until",
    "voided",
    "first_redeemed_at",
    "protocol",
}


def _seller(url: str) -> Iterator[Runtime]:
    """Issues tickets (and makes set-up scans) in the database the `pos` under test uses."""
    runtime = Runtime(conftest.test_config(), url, operator="tester", clock=FixedClock())
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def seller(db_url: str) -> Iterator[Runtime]:
    yield from _seller(db_url)


@pytest.fixture
def sqlite_seller(sqlite_url: str) -> Iterator[Runtime]:
    yield from _seller(sqlite_url)


def redeem_json(pos: PosCommand, *args: str) -> tuple[int, dict]:
    result = pos("redeem", *args, "--json")
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout)


def test_redeem_exit_codes_and_json(pos, seller) -> None:
    card = issue_tickets(seller, ticket_article(seller, "Sauna 3er", repeat="daily", repeat_limit=2))[0].code
    code, first = redeem_json(pos, card, "--at", "2027-01-01T19:42", "--gate", "North")
    assert code == 0 and set(first) == SCAN_FIELDS
    assert first["accepted"] is True and first["reason"] is None and first["entry"] == 1
    assert first["at"] == "2027-01-01T19:42:00+01:00" and first["gate"] == "North"
    assert (
        first["allowed_entries"] == 3
        and first["holder"] == "Erika Mustermann"
        and first["article"] == "Sauna 3er"
    )

    code, again = redeem_json(pos, card, "--at", "2027-01-02T02:30")
    assert (
        code == 1
        and again["accepted"] is False
        and again["reason"] == "already_today"
        and again["entry"] == 1
    )
    assert again["previous_at"] == "2027-01-01T19:42:00+01:00" and again["previous_gate"] == "North"
    assert again["message"] == "already used today at 19:42 at gate North" and again["gate"] == "north"

    human = pos("redeem", card, "--at", "2027-01-02T19:00")
    assert human.returncode == 0 and human.stdout.startswith("ACCEPT") and "entry 2 of 3" in human.stdout

    for scanned, reason in [
        ("12345", "malformed"),
        (make_code("2000", 1, TEST_SECRET.encode()), "foreign_brand"),
        (make_code("1000", 1, b"not-our-secret-0123456789"), "forged"),
        (make_code("1000", 987_654, TEST_SECRET.encode()), "unknown"),
    ]:
        code, rejected = redeem_json(pos, scanned)
        assert (code, rejected["reason"], rejected["entry"]) == (1, reason, 0)

    bad_time = pos("redeem", card, "--at", "yesterday")
    assert bad_time.returncode == 2 and "--at" in bad_time.stderr and "Traceback" not in bad_time.stderr


def test_ticket_show_protocol_delete_reset_and_set_repeat(pos_sqlite, sqlite_seller) -> None:
    pos, seller = pos_sqlite, sqlite_seller
    article = ticket_article(seller, "Bad 10er", repeat="anytime", repeat_limit=9)
    codes = [t.code for t in issue_tickets(seller, article, 2)]
    for day in ("01", "02", "03"):
        at = datetime.fromisoformat(f"2027-01-{day}T10:00+01:00")
        assert redeem(seller, codes[0], at=at, gate="pool").accepted
    shown = pos.json("ticket", "show", codes[0])
    assert set(shown) >= SHOW_FIELDS
    assert shown["repeat"] == "anytime" and shown["repeat_limit"] == 9 and shown["voided"] is False
    assert shown["first_redeemed_at"] == "2027-01-01T10:00:00+01:00"
    assert [(p["at"], p["gate"]) for p in shown["protocol"]] == [
        ("2027-01-02T10:00:00+01:00", "pool"),
        ("2027-01-03T10:00:00+01:00", "pool"),
    ]
    text = pos("ticket", "show", codes[0], check=True).stdout
    assert "re-entry" in text and "first entry: 2027-01-01T10:00:00+01:00 at gate pool" in text

    deleted = pos.json("ticket", "protocol-delete", codes[0], str(shown["protocol"][0]["id"]))
    assert [p["at"] for p in deleted["protocol"]] == ["2027-01-03T10:00:00+01:00"]
    missing = pos("ticket", "protocol-delete", codes[0], "999999")
    assert (
        missing.returncode == 2
        and missing.stderr.startswith("Error: ")
        and "no protocol entry" in missing.stderr
    )

    assert pos.json("ticket", "reset", codes[0]) == {
        "tickets": 1,
        "entries_deleted": 1,
        "first_validations_undone": 0,
    }
    assert pos.json("ticket", "reset", "--article", "Bad 10er", "--full")["first_validations_undone"] == 1
    assert show_ticket(seller, codes[0])["first_redeemed_at"] is None

    assert pos.json("ticket", "set-repeat", "--article", f"#{article.id}", "--repeat", "daily") == {
        "tickets": 2,
        "repeat": "daily",
        "repeat_limit": "unlimited",
    }
    single = pos.json("ticket", "set-repeat", codes[1], "--repeat", "none")
    assert single == {"tickets": 1, "repeat": "none", "repeat_limit": None}
    assert (
        pos.json("ticket", "set-repeat", "--all", "--repeat", "same-day", "--repeat-limit", "3")["tickets"]
        == 2
    )
    assert show_ticket(seller, codes[1])["repeat_limit"] == 3

    for args, needle in [
        (("ticket", "reset"), "exactly one"),
        (("ticket", "set-repeat", "--all", "--repeat", "weekly"), "--repeat"),
        (("ticket", "set-repeat", "--all", "--repeat", "none", "--repeat-limit", "2"), "single use"),
        (("ticket", "show", "1234"), "not a valid code"),
    ]:
        result = pos(*args)
        assert result.returncode == 2 and needle in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_gate_reads_stdin_and_never_stops_on_bad_input(pos, seller) -> None:
    article = ticket_article(seller, "Club night")
    first, second = (t.code for t in issue_tickets(seller, article, 2))
    lines = [
        first.encode(),
        b"",
        b"\xff\xfe\xfd not utf-8",
        b"\x1b[2J" + b"9" * 10_000,
        first.encode(),
        second.encode() + b"\r",
        "１２３".encode(),
        b"'; DROP TABLE ticket; --",
    ]
    result = subprocess.run(
        [pos.exe, "gate", "--json", "--gate", "East"],
        input=b"\n".join(lines) + b"\n",
        env=pos.env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    verdicts = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(v["accepted"], v["reason"]) for v in verdicts] == [
        (True, None),
        (False, "malformed"),
        (False, "malformed"),
        (False, "malformed"),
        (False, "already_redeemed"),
        (True, None),
        (False, "malformed"),
        (False, "malformed"),
    ]
    assert all(v["gate"] == "East" and len(v["code"]) <= 64 for v in verdicts)
    assert verdicts[4]["previous_gate"] == "East"

    human = pos("gate", input=f"{first}\nnonsense\n")
    assert human.returncode == 0
    out = human.stdout.splitlines()
    assert len(out) == 2 and out[0].startswith("REJECT") and "already used" in out[0]
    assert out[1].startswith("REJECT") and "not a valid ticket code" in out[1]


def test_gate_from_a_file_path(pos_sqlite, sqlite_seller, tmp_path) -> None:
    pos, seller = pos_sqlite, sqlite_seller
    code = issue_tickets(seller, ticket_article(seller, "Matinee"))[0].code
    recorded = tmp_path / "scans.txt"
    recorded.write_text(f"{code}\n{code}\n", encoding="utf-8")
    result = pos("gate", "--input", str(recorded), "--json")
    assert result.returncode == 0
    assert [json.loads(line)["accepted"] for line in result.stdout.splitlines()] == [True, False]
    missing = pos("gate", "--input", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "cannot be opened" in missing.stderr


def test_gate_says_offline_when_the_database_is_away(config_file) -> None:
    dead = PosCommand("postgresql+psycopg://nobody@127.0.0.1:9/pos", config_file)
    code = make_code("1000", 1, TEST_SECRET.encode())
    started = time.monotonic()
    result = dead("gate", "--json", input=f"{code}\nrubbish\n{code}\n")
    assert result.returncode == 0 and time.monotonic() - started < 30
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["reason"] for v in verdicts] == ["offline", "malformed", "offline"]
    assert "admit by hand" in verdicts[0]["message"] and verdicts[0]["code"] == code


def test_gate_exits_cleanly_on_ctrl_c(pos_sqlite, sqlite_seller) -> None:
    pos, seller = pos_sqlite, sqlite_seller
    code = issue_tickets(seller, ticket_article(seller, "Late show"))[0].code
    process = subprocess.Popen(
        [pos.exe, "gate", "--json"],
        env=pos.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin and process.stdout
    process.stdin.write(code.encode() + b"\n")
    process.stdin.flush()
    verdict = json.loads(process.stdout.readline())  # answered while the input is still open
    assert verdict["accepted"] is True
    os.kill(process.pid, signal.SIGINT)
    _, errors = process.communicate(timeout=30)
    assert process.returncode == 0 and b"Traceback" not in errors


def test_sold_tickets_pass_the_door_until_the_order_is_cancelled(pos_sqlite) -> None:
    pos = pos_sqlite
    pos(
        "article",
        "add",
        "Sauna 3er",
        "--price",
        "30",
        "--ticket",
        "--repeat",
        "daily",
        "--repeat-limit",
        "2",
        check=True,
    )
    sale = pos.json("sell", "Sauna 3er:2", "--customer-name", "Max Muster", "--no-print")
    first, second = (ticket["code"] for ticket in sale["tickets"])
    code, verdict = redeem_json(pos, first, "--gate", "Spa")
    assert code == 0 and verdict["holder"] == "Max Muster" and verdict["allowed_entries"] == 3
    refused = pos("order", "cancel", str(sale["id"]))
    assert refused.returncode == 1 and "--force" in refused.stderr  # one ticket was used at the door
    pos("order", "cancel", str(sale["id"]), "--force", check=True)
    assert redeem_json(pos, first)[1]["reason"] == "voided"
    assert redeem_json(pos, second)[1]["reason"] == "voided"
    assert pos.json("ticket", "show", first)["voided"] is True
