"""The print queue on real back-ends: file and loopback network printers, faults, retries, no double prints."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import PrintJob, Ticket
from pos.printing.render import PrintSettings, printer_bytes
from pos.runtime import Runtime
from pos.services.delivery import enqueue_order_print as enqueue_order
from pos.services.delivery import run_jobs
from pos.services.documents import load_job_doc, ticket_attachment
from pos.services.orders import preview_order
from tests.factories import ADMIN
from tests.printing.fixtures import (
    PAPER_OUT,
    FakePrinter,
    article,
    free_port,
    make_order,
    network_config,
    with_printer,
)


def concert_and_drink(rt: Runtime) -> tuple:
    concert = article(rt, "Konzert 15.01.2027", 4990, ticket=True, repeat="anytime", repeat_limit=9)
    drink = article(rt, "Glühwein", 350, vat_bp=1900, group="Getränke")
    return concert, drink


def queue(rt: Runtime, order_id: int, **options) -> list[int]:
    with transaction(rt.engine) as session:
        return enqueue_order(session, order_id, at=rt.now(), **options)


def jobs(rt: Runtime) -> dict[int, PrintJob]:
    with transaction(rt.engine) as session:
        return {job.id: job for job in session.exec(select(PrintJob))}


def printed_flags(rt: Runtime, ticket_ids: list[int]) -> list[bool]:
    with transaction(rt.engine) as session:
        return [session.get(Ticket, ticket_id).printed for ticket_id in ticket_ids]


def expected_bytes(rt: Runtime, job_id: int) -> bytes:
    with transaction(rt.engine) as session:
        doc = load_job_doc(session, rt.config, session.get(PrintJob, job_id))
    return printer_bytes(doc, PrintSettings.from_config(rt.config))


def test_enqueue_one_job_per_ticket_a_slip_for_other_lines_and_a_receipt(rt: Runtime) -> None:
    concert, drink = concert_and_drink(rt)
    order = make_order(rt, [(concert, 2), (drink, 3)])
    ids = queue(rt, order.id)
    queued = jobs(rt)
    assert [queued[i].kind for i in ids] == ["ticket", "ticket", "slip", "receipt"]
    assert [queued[i].ticket_id for i in ids[:2]] == order.ticket_ids
    assert {queued[i].status for i in ids} == {"pending"}
    tickets_only = make_order(rt, [(concert, 1)])
    assert [jobs(rt)[i].kind for i in queue(rt, tickets_only.id)] == ["ticket", "receipt"]


def test_file_printer_gets_barcode_cut_and_cp858_umlauts_and_each_job_prints_once(
    rt: Runtime, tmp_path: Path
) -> None:
    out = tmp_path / "printer.bin"
    printing = with_printer(rt, kind="file", path=str(out))
    concert, drink = concert_and_drink(rt)
    order = make_order(rt, [(concert, 2), (drink, 3)])
    ids = queue(rt, order.id)
    outcome = run_jobs(printing, order_id=order.id)
    assert outcome.printed == ids and outcome.failed == []
    data = out.read_bytes()
    for code in order.codes:
        assert b"\x1dkI\x1a{C" + code.encode() in data
    assert data.count(b"\x1dV\x00") == 4  # every job ends with a cut
    assert "Glühwein".encode("cp858") in data and "Jürgen Groß".encode("cp858") in data
    assert "€".encode("cp858") in data
    assert data.count(b"\x1bp\x00") == 1  # cash receipt: drawer kick
    assert {jobs(rt)[i].status for i in ids} == {"done"}
    assert printed_flags(rt, order.ticket_ids) == [True, True]
    again = run_jobs(printing, order_id=order.id)
    assert again.printed == [] and again.failed == []


def test_loopback_network_printer_receives_the_dummy_bytes(rt: Runtime, fake_printer: FakePrinter) -> None:
    printing = with_printer(rt, **network_config(fake_printer.port))
    concert, _ = concert_and_drink(rt)
    order = make_order(rt, [(concert, 1)])
    ids = queue(rt, order.id)
    expected = b"".join(expected_bytes(printing, job_id) for job_id in ids)
    outcome = run_jobs(printing, order_id=order.id)
    assert outcome.printed == ids
    assert fake_printer.data == expected
    # one connection for the batch; paper status asked before and after each job
    assert len(fake_printer.connections) == 1
    assert bytes(fake_printer.connections[0]).count(b"\x10\x04\x04") == 2 * len(ids)


def test_dropped_connection_fails_the_job_and_the_retry_prints_it_once(rt: Runtime) -> None:
    dropping = FakePrinter(drop_after=100)
    printing = with_printer(rt, **network_config(dropping.port))
    concert, _ = concert_and_drink(rt)
    order = make_order(rt, [(concert, 2)])
    ids = queue(rt, order.id)
    outcome = run_jobs(printing, order_id=order.id)
    assert outcome.printed == []
    assert [problem.job_id for problem in outcome.failed] == ids
    assert (
        str(outcome.failed[0].reason)
        == f"The printer at 127.0.0.1:{dropping.port}: the connection dropped during printing."
    )
    assert {job.status for job in jobs(rt).values()} == {"failed"}
    assert printed_flags(rt, order.ticket_ids) == [False, False]
    dropping.close()

    working = FakePrinter()
    retry = run_jobs(with_printer(rt, **network_config(working.port)))
    working.close()
    assert retry.printed == ids and retry.failed == []
    for code in order.codes:
        assert working.data.count(b"{C" + code.encode()) == 1
    assert all(job.status == "done" and job.attempts == 2 for job in jobs(rt).values())
    assert printed_flags(rt, order.ticket_ids) == [True, True]


def test_offline_printer_fails_every_job_with_one_sentence_and_keeps_the_sale(rt: Runtime) -> None:
    port = free_port()
    printing = with_printer(rt, **network_config(port))
    concert, drink = concert_and_drink(rt)
    order = make_order(rt, [(concert, 1), (drink, 1)])
    ids = queue(rt, order.id)
    outcome = run_jobs(printing, order_id=order.id)
    reason = f"The printer at 127.0.0.1:{port} is offline (connection refused)."
    assert [(problem.job_id, str(problem.reason)) for problem in outcome.failed] == [(i, reason) for i in ids]
    assert [problem.kind for problem in outcome.failed] == ["ticket", "slip", "receipt"]
    assert {(job.status, job.error) for job in jobs(rt).values()} == {("failed", reason)}


def test_paper_out_fails_before_sending(rt: Runtime) -> None:
    empty = FakePrinter(paper=PAPER_OUT)
    printing = with_printer(rt, **network_config(empty.port))
    concert, _ = concert_and_drink(rt)
    order = make_order(rt, [(concert, 1)])
    queue(rt, order.id)
    outcome = run_jobs(printing, order_id=order.id)
    empty.close()
    assert str(outcome.failed[0].reason) == f"The printer at 127.0.0.1:{empty.port} is out of paper."
    assert empty.data == b""


def test_silent_printer_needs_status_check_off(rt: Runtime) -> None:
    silent = FakePrinter(silent=True)
    concert, _ = concert_and_drink(rt)
    order = make_order(rt, [(concert, 1)])
    queue(rt, order.id)
    checking = with_printer(rt, **network_config(silent.port, timeout=0.3))
    failed = run_jobs(checking, order_id=order.id)
    assert "status_check = false" in str(failed.failed[0].reason)
    trusting = with_printer(rt, **network_config(silent.port, status_check=False))
    assert run_jobs(trusting, order_id=order.id).failed == []
    silent.close()
    assert silent.data.count(b"{C" + order.codes[0].encode()) == 1


def test_job_stuck_in_printing_is_reported_and_retried_only_when_asked(rt: Runtime, tmp_path: Path) -> None:
    printing = with_printer(rt, kind="file", path=str(tmp_path / "out.bin"))
    concert, _ = concert_and_drink(rt)
    order = make_order(rt, [(concert, 1)])
    ticket_job, receipt_job = queue(rt, order.id)
    with transaction(rt.engine) as session:  # a process died after claiming the ticket job
        session.get(PrintJob, ticket_job).status = "printing"
    outcome = run_jobs(printing)
    assert outcome.stuck == [ticket_job] and outcome.printed == [receipt_job]
    assert run_jobs(printing).stuck == [ticket_job]
    retried = run_jobs(printing, retry_stuck=True)
    assert retried.printed == [ticket_job] and retried.stuck == []


def test_reprint_marks_the_documents_and_replaces_waiting_jobs(rt: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    printing = with_printer(rt, kind="file", path=str(out))
    concert, drink = concert_and_drink(rt)
    order = make_order(rt, [(concert, 2), (drink, 1)])
    first = queue(rt, order.id)  # never printed: the printer was offline
    second_ticket = order.ticket_ids[1]
    only = queue(rt, order.id, reprint=True, ticket_ids=[second_ticket])
    assert [jobs(rt)[i].ticket_id for i in only] == [second_ticket]
    replaced = jobs(rt)[first[1]]
    assert (replaced.status, replaced.error) == ("cancelled", "Replaced by a reprint.")
    outcome = run_jobs(printing, job_ids=only)
    assert outcome.printed == only
    data = out.read_bytes()
    assert b"NACHDRUCK" in data or b"REPRINT" in data
    assert order.codes[1].encode() in data and order.codes[0].encode() not in data


def test_jobs_of_a_cancelled_order_are_not_printed(rt: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "out.bin"
    printing = with_printer(rt, kind="file", path=str(out))
    concert, _ = concert_and_drink(rt)
    order = make_order(rt, [(concert, 1)])
    ids = queue(rt, order.id)
    with transaction(rt.engine) as session:
        from pos.db.models import Order

        session.get(Order, order.id).status = "cancelled"
    outcome = run_jobs(printing, order_id=order.id)
    assert outcome.cancelled == ids and outcome.printed == []
    assert {job.status for job in jobs(rt).values()} == {"cancelled"}


def test_z_report_job_prints_the_stored_snapshot(rt: Runtime, tmp_path: Path) -> None:
    from pos.domain.till import TenderRequest
    from pos.services import till
    from pos.services.checkout import CartLine, SaleRequest
    from pos.services.orders import cancel_order
    from tests.factories import sell

    out = tmp_path / "out.bin"
    printing = with_printer(rt, kind="file", path=str(out))
    concert_and_drink(rt)
    shift = till.open_shift(rt, ADMIN, 10000)
    sell(
        rt,
        SaleRequest(
            [CartLine("Konzert 15.01.2027"), CartLine("Glühwein", 2)], given_cents=6000, print_tickets=False
        ),
    )
    sell(
        rt,
        SaleRequest([CartLine("Konzert 15.01.2027")], tenders=[TenderRequest("card")], print_tickets=False),
    )
    cancelled = sell(rt, SaleRequest([CartLine("Glühwein")], print_tickets=False))
    cancel_order(rt, ADMIN, cancelled.order_id)
    till.close_shift(rt, ADMIN, shift.id, 15690)
    job_id = till.print_report(printing, ADMIN, shift.id).printed[0]
    with transaction(rt.engine) as session:
        doc = load_job_doc(session, rt.config, session.get(PrintJob, job_id))
    assert [(t.tender, t.count, t.cents) for t in doc.by_tender] == [
        ("cash", 2, 5690 + 350 - 350),
        ("card", 1, 4990),
    ]
    assert doc.expected_cash_cents == 15690 and doc.difference_cents == 0 and doc.z_number == 1
    assert {g.group: (g.units, g.cents) for g in doc.by_group} == {"General": (2, 9980), "Getränke": (2, 700)}
    assert (doc.sales_cents, doc.returns_cents) == (4990 + 700 + 4990 + 350, -350)
    data = out.read_bytes()
    assert b"Z-Bon 1" in data or b"Z report 1" in data


def test_order_preview_and_mail_attachment_come_from_the_same_documents(rt: Runtime) -> None:
    concert, drink = concert_and_drink(rt)
    order = make_order(rt, [(concert, 1), (drink, 2)])
    text = preview_order(rt, ADMIN, order.id, language="de")
    assert order.codes[0] in text and "10er-Karte: 10 Einlässe" in text
    assert "Orderbon" in text and "2 x Glühwein" in text
    with transaction(rt.engine) as session:
        png = ticket_attachment(session, rt.config, order.ticket_ids[0])
    assert png.startswith(b"\x89PNG")


def _race(url: str, config_json: str, order_id: int, start, results) -> None:
    from pos.config import Config

    rt = Runtime(config=Config.model_validate_json(config_json), database_url=url)
    start.wait()
    results.put(run_jobs(rt, order_id=order_id).printed)


def test_two_processes_never_print_the_same_job(rt: Runtime, tmp_path: Path) -> None:
    concert, _ = concert_and_drink(rt)
    order = make_order(rt, [(concert, 6)])
    ids = queue(rt, order.id)
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(2), ctx.Queue()
    workers = []
    for index in range(2):
        printing = with_printer(rt, kind="file", path=str(tmp_path / f"printer{index}.bin"))
        worker = ctx.Process(
            target=_race, args=(rt.database_url, printing.config.model_dump_json(), order.id, start, results)
        )
        worker.start()
        workers.append(worker)
    printed = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert sorted(printed[0] + printed[1]) == ids
    everything = (tmp_path / "printer0.bin").read_bytes() + (tmp_path / "printer1.bin").read_bytes()
    for code in order.codes:
        assert everything.count(b"{C" + code.encode()) == 1
    assert all(job.attempts == 1 and job.status == "done" for job in jobs(rt).values())
