"""Fiscal signing through the till: every journal line a signed TSE transaction (simulated Test-TSE on SQLite and
PostgreSQL), the signed receipt's QR code, an outage that keeps selling, the DSFinV-K export against the Z reports."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode
from sqlmodel import col, select

from pos.db.engine import transaction
from pos.db.models import JournalLine
from pos.domain.fiscal import Signature, fiscal_from_dict, parse_process_data, parse_qr_code
from pos.domain.till import TenderRequest
from pos.printing.images import IMAGE_COLUMNS, png_bytes
from pos.printing.layout import layout
from pos.runtime import Runtime
from pos.services import orders, till
from pos.services.checkout import CartLine, SaleRequest
from pos.services.database import check_database
from pos.services.documents import load_receipt_doc
from pos.services.fiscal import export_dsfinvk, fiscal_status
from pos.tse.simulated import verify
from tests.conftest import FixedClock
from tests.conftest import test_config as make_config
from tests.factories import ADMIN, add_article, sell


@pytest.fixture
def signing(db_url: str, tmp_path: Path, clock: FixedClock) -> Runtime:
    config = make_config(fiscal={"signer": "simulated", "key_path": str(tmp_path / "tse" / "key.pem")})
    rt = Runtime(config=config, database_url=db_url, clock=clock)
    add_article(rt, name="Konzert", price_cents=5000, is_ticket=True, vat_bp=700, group="Tickets")
    add_article(rt, name="Bier", price_cents=450, vat_bp=1900, group="Getränke")
    yield rt
    rt.engine.dispose()


def signatures(rt: Runtime) -> list[tuple[str, Signature]]:
    with transaction(rt.engine) as session:
        lines = session.exec(select(JournalLine).order_by(col(JournalLine.number))).all()
        return [(line.kind, fiscal_from_dict(json.loads(line.fiscal))) for line in lines if line.fiscal]


def test_every_journal_line_is_signed_with_gapless_counters_that_verify(signing: Runtime) -> None:
    shift = till.open_shift(signing, ADMIN, 10000)
    sold = sell(signing, SaleRequest([CartLine("Konzert"), CartLine("Bier", 2)], print_tickets=False))
    assert sold.data["fiscal"]["serial"] and sold.data["fiscal"]["qr"].startswith("V0;")
    sell(
        signing,
        SaleRequest(
            [CartLine("Bier")],
            tenders=[TenderRequest("cash", 200), TenderRequest("card")],
            print_tickets=False,
        ),
    )
    returned = orders.return_order(signing, ADMIN, orders.ReturnRequest(sold.order_id, lines=[("Bier", 1)]))
    assert (
        returned.fiscal is not None
        and returned.json()["fiscal"]["tx_number"] > sold.data["fiscal"]["tx_number"]
    )
    till.cash_movement(signing, ADMIN, "cash_in", 2000, "Wechselgeld")
    till.close_shift(signing, ADMIN, shift.id, 10000 + 5900 + 200 - 450 + 2000)
    signed = signatures(signing)
    assert [kind for kind, _ in signed] == ["float", "sale", "sale", "return", "cash_in", "difference"]
    numbers = [sig.tx_number for _, sig in signed]
    assert numbers == list(
        range(numbers[0], numbers[0] + len(numbers))
    )  # one TSE transaction per line, no gap
    counters = [sig.signature_counter for _, sig in signed]
    assert counters == [counters[0] + 2 * i for i in range(len(counters))]  # start and finish each sign once
    assert all(isinstance(sig, Signature) and verify(sig) for _, sig in signed)
    sale_data = parse_process_data(signed[1][1].process_data)
    assert sorted(sale_data.gross_by_class.values(), reverse=True)[:2] == [
        5000,
        900,
    ]  # the 7 % and 19 % slots
    assert fiscal_status(signing, ADMIN).outages == 0
    assert check_database(signing, ADMIN).violations == {}


def test_the_receipts_qr_code_holds_the_orders_amounts(signing: Runtime) -> None:
    sold = sell(
        signing,
        SaleRequest([CartLine("Konzert"), CartLine("Bier", 2)], given_cents=10000, print_tickets=False),
    )
    with transaction(signing.engine) as session:
        receipt = load_receipt_doc(session, signing.config, sold.order_id)
    assert receipt.receipt_number == sold.journal_number and isinstance(receipt.fiscal, Signature)
    image = Image.open(io.BytesIO(png_bytes(layout(receipt, _german(), IMAGE_COLUMNS))))
    qr = [symbol.data.decode() for symbol in decode(image) if symbol.type == "QRCODE"]
    assert len(qr) == 1
    fields = parse_qr_code(qr[0])
    data = parse_process_data(fields.process_data)
    assert sum(data.gross_by_class.values()) == sold.total_cents == 5900
    assert [(kind.dsfinvk_name, cents) for kind, cents in data.payments] == [("Bar", 5900)]
    assert fields.signature_counter == receipt.fiscal.signature_counter


def test_a_tse_that_does_not_answer_leaves_an_outage_not_a_lost_sale(db_url: str, clock: FixedClock) -> None:
    import time

    from tests.tse.fake_fiskaly import FakeFiskaly

    server = FakeFiskaly(delay_s=5.0)  # answers, but far too slowly
    try:
        config = make_config(
            fiscal={
                "signer": "fiskaly",
                "api_key": "key",
                "api_secret": "secret",
                "tss_id": server.tss_id,
                "client_id": server.client_id,
                "base_url": server.base_url,
                "timeout_ms": 500,
            }
        )
        rt = Runtime(config=config, database_url=db_url, clock=clock)
        add_article(rt, name="Bier", price_cents=450)
        shift = till.open_shift(rt, ADMIN, 0)
        started = time.monotonic()
        sold = sell(rt, SaleRequest([CartLine("Bier")], print_tickets=False))
        assert (
            time.monotonic() - started < 0.5 + 1.5
        )  # the TSE answers after 5 s: the sale waited only its budget
        assert sold.data["fiscal"]["outage"] is True and sold.order_id
        with transaction(rt.engine) as session:
            receipt = load_receipt_doc(session, rt.config, sold.order_id)
        assert "TSE ausgefallen" in _preview(receipt)
        status = fiscal_status(rt, ADMIN)
        assert status.outages >= 2 and status.tse is not None and not status.tse.reachable
        assert till.shift_report(rt, ADMIN, shift.id).tse_outages >= 2
        rt.engine.dispose()
    finally:
        server.stop()


def test_the_dsfinvk_export_matches_the_z_reports(signing: Runtime, tmp_path: Path) -> None:
    totals = []
    for float_cents, beers in ((5000, 2), (0, 3)):
        shift = till.open_shift(signing, ADMIN, float_cents)
        sell(signing, SaleRequest([CartLine("Konzert"), CartLine("Bier", beers)], print_tickets=False))
        z = till.close_shift(signing, ADMIN, shift.id, float_cents + 5000 + 450 * beers)
        totals.append((z.z_number, z.sums.sales_cents))
    summary = export_dsfinvk(signing, ADMIN, tmp_path / "export.zip")
    assert summary.closings == 2
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        names = set(archive.namelist())
        assert {
            "index.xml",
            "cashpointclosing.csv",
            "transactions.csv",
            "lines.csv",
            "transactions_tse.csv",
        } <= names
        closings = list(
            csv.DictReader(io.StringIO(archive.read("cashpointclosing.csv").decode()), delimiter=";")
        )
    found = sorted(
        (int(row["Z_NR"]), round(float(row["Z_SE_ZAHLUNGEN"].replace(",", ".")) * 100)) for row in closings
    )
    expected = [
        (number, sales + float_cents) for (number, sales), float_cents in zip(totals, (5000, 0), strict=True)
    ]
    assert found == expected  # the money per closing (float and sales) is the Z report's
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        cases = list(csv.DictReader(io.StringIO(archive.read("businesscases.csv").decode()), delimiter=";"))
    for number, sales in totals:
        gross = sum(
            round(float(row["Z_UMS_BRUTTO"].replace(",", ".")) * 100)
            for row in cases
            if int(row["Z_NR"]) == number and row["GV_TYP"] == "Umsatz"
        )
        assert gross == sales


def _german():  # type: ignore[no-untyped-def]
    from pos.i18n import language

    return language("de")


def _preview(doc) -> str:  # type: ignore[no-untyped-def]
    from pos.printing.render import PrintSettings, preview

    return preview(doc, PrintSettings(_german()))


def test_training_sales_are_signed_as_training_and_count_nowhere(signing: Runtime, tmp_path: Path) -> None:
    from pos.db.redemption import redeem
    from pos.services.delivery import run_jobs

    shift = till.open_shift(signing, ADMIN, 0)
    real = sell(signing, SaleRequest([CartLine("Bier")], print_tickets=False))
    signing.training = True
    trained = sell(signing, SaleRequest([CartLine("Konzert", 2)], print_tickets=True))
    signing.training = False
    assert trained.data["status"] == "training"
    qr = parse_qr_code(trained.data["fiscal"]["qr"])
    assert qr.process_data.startswith("AVTraining^")  # signed as a training receipt
    assert all(redeem(signing, code).reason == "voided" for code in trained.ticket_codes)  # never admissible
    x = till.shift_report(signing, ADMIN, shift.id)
    assert x.sums.sales == 1 and x.sums.sales_cents == real.total_cents  # not counted as takings
    with pytest.raises(Exception, match="training sale"):
        orders.cancel_order(signing, ADMIN, trained.order_id)
    out = tmp_path / "printer.bin"
    printing = Runtime(
        make_config(printer={"kind": "file", "path": str(out)}), signing.database_url, clock=signing.clock
    )
    assert len(run_jobs(printing, order_id=trained.order_id).printed) == 3  # two tickets and the receipt
    assert out.read_bytes().count(b"TRAINING") >= 3
    printing.engine.dispose()
    assert check_database(signing, ADMIN).violations == {}
