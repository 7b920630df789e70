"""`pos order reprint|print-pending|preview` through the real console script: clean JSON on stdout."""

from __future__ import annotations

import json
from pathlib import Path

from pos.config import Config
from pos.db.engine import transaction
from pos.runtime import Runtime
from pos.services.delivery import enqueue_order_print as enqueue_order
from tests.conftest import CONFIG_TOML, FixedClock, PosCommand
from tests.printing.fixtures import FakePrinter, article, free_port, make_order


def pos_with_printer(db_url: str, tmp_path: Path, printer: str) -> PosCommand:
    path = tmp_path / "printing.toml"
    path.write_text(CONFIG_TOML.replace('[printer]\nkind = "dummy"', printer), encoding="utf-8")
    return PosCommand(db_url, path)


def sold(sqlite_url: str, config: Config, clock: FixedClock) -> tuple[Runtime, object]:
    rt = Runtime(config=config, database_url=sqlite_url, clock=clock)
    concert = article(rt, "Konzert 15.01.2027", 4990, ticket=True, repeat="same-day")
    drink = article(rt, "Glühwein", 350)
    return rt, make_order(rt, [(concert, 2), (drink, 1)])


def test_reprint_one_ticket_to_a_file_printer(
    sqlite_url: str, config: Config, clock: FixedClock, tmp_path
) -> None:
    out = tmp_path / "printer.bin"
    pos = pos_with_printer(sqlite_url, tmp_path, f'[printer]\nkind = "file"\npath = "{out}"')
    _, order = sold(sqlite_url, config, clock)
    result = pos.json("order", "reprint", str(order.id), "--ticket", order.codes[1])
    assert result["order_id"] == order.id and result["failed"] == []
    assert [(job["kind"], job["ticket_code"], job["status"], job["reprint"]) for job in result["jobs"]] == [
        ("ticket", order.codes[1], "done", True)
    ]
    data = out.read_bytes()
    assert b"{C" + order.codes[1].encode() in data and b"REPRINT" in data
    assert order.codes[0].encode() not in data

    whole = pos.json("order", "reprint", str(order.id))
    assert [job["kind"] for job in whole["jobs"]] == ["ticket", "ticket", "slip", "receipt"]

    wrong = pos("order", "reprint", str(order.id), "--ticket", "123")
    assert wrong.returncode == 2 and wrong.stderr.strip() == f"Error: Ticket 123 is not in order {order.id}."


def test_print_pending_retries_after_the_printer_comes_back(
    sqlite_url: str, config: Config, clock: FixedClock, tmp_path
) -> None:
    rt, order = sold(sqlite_url, config, clock)
    with transaction(rt.engine) as session:
        enqueue_order(session, order.id)
    port = free_port()
    printer = f'[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = {port}\ntimeout = 1.0'
    pos = pos_with_printer(sqlite_url, tmp_path, printer)
    offline = pos("order", "print-pending", "--json")
    assert offline.returncode == 1
    assert offline.stderr.strip() == (
        f"Error: 4 print jobs failed (The printer at 127.0.0.1:{port} is offline (connection refused)); "
        "retry with `pos order print-pending`."
    )
    report = json.loads(offline.stdout)  # stdout is JSON only, whatever escpos prints
    assert len(report["failed"]) == 4 and report["printed"] == []

    fake = FakePrinter()
    back = pos_with_printer(sqlite_url, tmp_path, printer.replace(str(port), str(fake.port)))
    done = back.json("order", "print-pending")
    fake.close()
    assert len(done["printed"]) == 4 and done["failed"] == []
    assert {job["status"] for job in done["jobs"]} == {"done"}
    for code in order.codes:
        assert fake.data.count(b"{C" + code.encode()) == 1
    assert back.json("order", "print-pending")["printed"] == []


def test_preview_shows_the_documents_as_text(
    sqlite_url: str, config: Config, clock: FixedClock, tmp_path
) -> None:
    pos = pos_with_printer(sqlite_url, tmp_path, '[printer]\nkind = "dummy"\npaper_mm = 58')
    _, order = sold(sqlite_url, config, clock)
    text = pos("order", "preview", str(order.id), check=True).stdout
    assert order.codes[0] in text and "Day ticket with re-entry" in text and "Order slip" in text
    assert max(len(line) for line in text.splitlines()) <= 32
    german = pos.json("order", "preview", str(order.id), "--language", "de")["preview"]
    assert "Tageskarte mit Wiedereinlass" in german and "Orderbon" in german
