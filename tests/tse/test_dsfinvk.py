"""The DSFinV-K export: the zip opens, holds the files the standard names, and adds up to the Z reports."""

from __future__ import annotations

import csv
import io
import stat
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pos.domain.fiscal import (
    CashPointClosing,
    ClosingVat,
    ExportLine,
    ExportMasterData,
    ExportReceipt,
    FiscalReceipt,
    Outage,
    ReceiptKind,
    Signature,
    TenderAmount,
    VatAmount,
    split_address,
)
from pos.domain.money import vat_included
from pos.errors import Refused
from pos.tse.dsfinvk import FILES, write_dsfinvk
from pos.tse.signer import sign
from pos.tse.simulated import SimulatedSigner

ZONE = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
MASTER = ExportMasterData(
    "Zürcher Bühne GmbH",
    *split_address("Hauptstr. 1, 50667 Köln"),
    tax_number="214/5678/0815",
    vat_id="DE123456789",
)


class Journal:
    """Journal lines as the till would hand them to the export, each signed by the simulated TSE."""

    def __init__(self, signer: SimulatedSigner) -> None:
        self.signer = signer
        self.number = 0
        self.at = T0

    def line(
        self,
        kind: str,
        lines: list[tuple[str, int, int, int, int]],  # article, quantity, unit price, discount, vat bp
        tenders: list[tuple[str, int]],
        *,
        reason: str = "",
        training: bool = False,
        outage: bool = False,
        refers_to: str | None = None,
    ) -> ExportReceipt:
        self.number += 1
        self.at += timedelta(minutes=3)
        export_lines = tuple(
            ExportLine(
                n, name, qty, unit, disc, (unit - disc) * qty, rate, group="Tickets", article_id=str(n)
            )
            for n, (name, qty, unit, disc, rate) in enumerate(lines, start=1)
        )
        tender_amounts = tuple(TenderAmount(t, c) for t, c in tenders)
        receipt = ExportReceipt(
            bon_id=f"J{self.number}",
            bon_nr=self.number,
            kind=kind,
            start=self.at,
            end=self.at + timedelta(seconds=20),
            terminal="kasse-1",
            operator_id="7",
            operator_name="Jürgen",
            lines=export_lines,
            tenders=tender_amounts,
            training=training,
            reason=reason,
            refers_to=refers_to,
        )
        by_rate: dict[int, int] = defaultdict(int)
        for line in receipt.export_lines():
            by_rate[line.vat_bp] += line.total_cents
        fiscal_receipt = FiscalReceipt(
            ReceiptKind.TRAINING if training else ReceiptKind.RECEIPT,
            tuple(VatAmount(rate, gross) for rate, gross in by_rate.items()),
            tender_amounts,
        )
        tx = uuid.uuid4()
        fiscal: Signature | Outage
        if outage:
            fiscal = Outage(tx, "fiskaly cannot be reached: ConnectError.", self.at)
        else:
            result = sign(self.signer, tx, fiscal_receipt, at=self.at, timeout_ms=2000)
            assert isinstance(result, Signature)
            fiscal = result
        return replace(receipt, fiscal=fiscal)


def closing_of(z_number: int, receipts: list[ExportReceipt], at: datetime) -> CashPointClosing:
    """The Z report's figures, computed independently of the writer from the journal lines."""
    money: dict[str, int] = defaultdict(int)
    sales: dict[int, int] = defaultdict(int)
    for r in receipts:
        if r.training:
            continue
        for t in r.tenders:
            money[t.tender] += t.cents
        if r.kind in ("sale", "return"):
            for line in r.lines:
                sales[line.vat_bp] += line.total_cents
    vat = tuple(
        ClosingVat(rate, gross - vat_included(gross, rate), vat_included(gross, rate), gross)
        for rate, gross in sorted(sales.items())
    )
    return CashPointClosing(
        z_number=z_number,
        cash_register="KASSE-1",
        created_at=at,
        receipts=tuple(receipts),
        payments_by_tender=tuple(TenderAmount(t, c) for t, c in money.items()),
        sales_by_vat=vat,
        business_day=at.astimezone(ZONE).date(),
    )


@pytest.fixture
def closings(tmp_path: Path) -> list[CashPointClosing]:
    journal = Journal(SimulatedSigner(tmp_path / "tse.pem", "KASSE-1"))
    first = [
        journal.line("float", [], [("cash", 15000)], reason="Wechselgeld"),
        journal.line(
            "sale", [("Konzert", 2, 4990, 0, 1900), ("Programmheft", 1, 500, 0, 700)], [("cash", 10480)]
        ),
        journal.line(
            "sale",
            [("Konzert", 1, 4990, 500, 1900), ("Brezel", 3, 350, 0, 700)],
            [("cash", 2000), ("card", 3540)],
        ),
        journal.line("sale", [("Spende", 1, 1000, 0, 0)], [("card", 1000)]),
        journal.line("sale", [("Konzert", 1, 4990, 0, 1900)], [("cash", 4990)], outage=True),
        journal.line("sale", [("Konzert", 1, 4990, 0, 1900)], [("cash", 4990)], training=True),
        journal.line("cash_out", [], [("cash", -5000)], reason="Bank"),
        journal.line("difference", [], [("cash", -20)], reason="Kassendifferenz"),
    ]
    second = [
        journal.line("float", [], [("cash", 10000)]),
        journal.line("return", [("Konzert", -1, 4990, 500, 1900)], [("cash", -4490)], refers_to="J3"),
        journal.line("sale", [("Konzert", 1, 4990, 0, 1900)], [("free", 0), ("card", 4990)]),
        journal.line("cash_in", [], [("cash", 2500)], reason="Nachschub"),
    ]
    return [
        closing_of(1, first, T0 + timedelta(hours=5)),
        closing_of(2, second, T0 + timedelta(days=1, hours=5)),
    ]


def read_tables(path: Path) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(path) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8")), delimiter=";"))
            for name in archive.namelist()
            if name.endswith(".csv")
        }


def cents(text: str) -> int:
    return int(Decimal(text.replace(".", "").replace(",", ".")) * 100)


def test_the_export_holds_every_named_file_and_an_index_that_describes_them(
    tmp_path: Path, closings: list[CashPointClosing]
) -> None:
    progress: list[tuple[int, int]] = []
    target = tmp_path / "out" / "export.zip"
    summary = write_dsfinvk(
        target, MASTER, closings, zone=ZONE, progress=lambda d, t: progress.append((d, t))
    )

    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert progress == [(n, 12) for n in range(1, 13)]
    assert summary.transactions == 12 and summary.closings == 2
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert names == {"index.xml", "gdpdu-01-08-2002.dtd", *FILES}
        for required in (
            "cashpointclosing.csv",
            "transactions.csv",
            "transactions_vat.csv",
            "lines.csv",
            "lines_vat.csv",
            "datapayment.csv",
            "transactions_tse.csv",
            "businesscases.csv",
            "payment.csv",
            "cash_per_currency.csv",
            "tse.csv",
            "vat.csv",
            "cashregister.csv",
            "location.csv",
            "allocation_groups.csv",
            "references.csv",
        ):
            assert required in names
        index = ET.fromstring(archive.read("index.xml"))
        assert b"<!DOCTYPE DataSet SYSTEM" in archive.read("index.xml")
        assert b"&#13;&#10;" in archive.read("index.xml")
        assert index.findtext("Version") == "1.0"
        tables = index.findall("./Media/Table")
        assert {t.findtext("URL") for t in tables} == set(FILES)
        for table in tables:
            url = table.findtext("URL")
            columns = [
                c.findtext("Name") for c in table.find("VariableLength") if c.tag.startswith("Variable")
            ]
            header = archive.read(url).decode("utf-8").split("\r\n")[0].split(";")
            assert header == columns, url
            assert table.find("VariableLength/VariablePrimaryKey/Name").text == "Z_KASSE_ID"


def test_the_sums_per_closing_equal_the_z_reports(tmp_path: Path, closings: list[CashPointClosing]) -> None:
    target = tmp_path / "export.zip"
    write_dsfinvk(target, MASTER, closings, zone=ZONE)
    tables = read_tables(target)
    by_z = {c.z_number: c for c in closings}

    payment: dict[tuple[int, str], int] = defaultdict(int)
    for row in tables["payment.csv"]:
        payment[(int(row["Z_NR"]), row["ZAHLART_TYP"])] += cents(row["Z_ZAHLART_BETRAG"])
    for z, closing in by_z.items():
        expected: dict[str, int] = defaultdict(int)
        for t in closing.payments_by_tender:
            if t.tender != "free":
                expected["Bar" if t.tender == "cash" else "Unbar"] += t.cents
        assert {k: v for (zz, k), v in payment.items() if zz == z} == dict(expected)

    sales: dict[tuple[int, int], list[int]] = {}
    for row in tables["businesscases.csv"]:
        if row["GV_TYP"] == "Umsatz":
            sales[(int(row["Z_NR"]), int(row["UST_SCHLUESSEL"]))] = [
                cents(row[k]) for k in ("Z_UMS_NETTO", "Z_UST", "Z_UMS_BRUTTO")
            ]
    keys = {1900: 1, 700: 2, 1070: 3, 550: 4, 0: 5}
    for z, closing in by_z.items():
        assert {k: v for (zz, k), v in sales.items() if zz == z} == {
            keys[g.rate_bp]: [g.net_cents, g.vat_cents, g.gross_cents] for g in closing.sales_by_vat
        }

    # the transactions add up to the same: counted receipts' payments equal the closing's payments
    paid: dict[int, int] = defaultdict(int)
    training_bons = {r["BON_ID"] for r in tables["transactions.csv"] if r["BON_TYP"] == "AVTraining"}
    for row in tables["datapayment.csv"]:
        if row["BON_ID"] not in training_bons:
            paid[int(row["Z_NR"])] += cents(row["BASISWAEH_BETRAG"])
    for row in tables["cashpointclosing.csv"]:
        assert cents(row["Z_SE_ZAHLUNGEN"]) == paid[int(row["Z_NR"])]
        assert row["NAME"] == "Zürcher Bühne GmbH" and row["PLZ"] == "50667" and row["ORT"] == "Köln"
        assert row["STNR"] == "214/5678/0815" and row["USTID"] == "DE123456789"
    cash = {int(r["Z_NR"]): cents(r["ZAHLART_BETRAG_WAEH"]) for r in tables["cash_per_currency.csv"]}
    assert cash == {1: 15000 + 10480 + 2000 + 4990 - 5000 - 20, 2: 10000 - 4490 + 2500}

    # each transaction's gross equals its lines and its VAT rows
    for row in tables["transactions.csv"]:
        bon = row["BON_ID"]
        lines = sum(cents(r["POS_BRUTTO"]) for r in tables["lines_vat.csv"] if r["BON_ID"] == bon)
        vat = sum(cents(r["BON_BRUTTO"]) for r in tables["transactions_vat.csv"] if r["BON_ID"] == bon)
        assert cents(row["UMS_BRUTTO"]) == lines == vat, bon


def test_transactions_carry_their_tse_data_kind_and_references(
    tmp_path: Path, closings: list[CashPointClosing]
) -> None:
    target = tmp_path / "export.zip"
    write_dsfinvk(target, MASTER, closings, zone=ZONE)
    tables = read_tables(target)
    tse = {r["BON_ID"]: r for r in tables["transactions_tse.csv"]}
    receipts = {r.bon_id: r for c in closings for r in c.receipts}
    for bon, receipt in receipts.items():
        row = tse[bon]
        if isinstance(receipt.fiscal, Signature):
            assert int(row["TSE_TANR"]) == receipt.fiscal.tx_number
            assert int(row["TSE_TA_SIGZ"]) == receipt.fiscal.signature_counter
            assert row["TSE_TA_SIG"] == receipt.fiscal.value
            assert row["TSE_VORGANGSDATEN"] == receipt.fiscal.process_data
            assert row["TSE_TA_VORGANGSART"] == "Kassenbeleg-V1"
            assert "Test-TSE" in row["TSE_TA_FEHLER"]
        else:
            assert row["TSE_TA_FEHLER"].startswith("TSE ausgefallen")
    heads = {r["BON_ID"]: r for r in tables["transactions.csv"]}
    assert heads["J6"]["BON_TYP"] == "AVTraining" and heads["J2"]["BON_TYP"] == "Beleg"
    assert heads["J2"]["BON_START"] == "2026-11-28T18:06:00"  # venue local time
    assert "TSE ausgefallen" in heads["J5"]["BON_NOTIZ"]
    assert [r["GV_TYP"] for r in tables["lines.csv"] if r["BON_ID"] == "J1"] == ["Anfangsbestand"]
    assert [r["GV_TYP"] for r in tables["lines.csv"] if r["BON_ID"] == "J8"] == ["DifferenzSollIst"]
    (reference,) = tables["references.csv"]
    assert (reference["BON_ID"], reference["REF_TYP"], reference["REF_BON_ID"], reference["REF_Z_NR"]) == (
        "J10",
        "Transaktion",
        "J3",
        "1",
    )
    discounts = [r for r in tables["itemamounts.csv"] if r["BON_ID"] == "J3"]
    assert [(r["TYP"], cents(r["PF_BRUTTO"])) for r in discounts] == [
        ("base_amount", 4990),
        ("discount", -500),
    ]
    assert {r["TSE_SERIAL"] for r in tables["tse.csv"]} == {closings[0].receipts[1].fiscal.serial}  # type: ignore[union-attr]
    assert len(tables["vat.csv"]) == 10  # five rates per closing


def test_a_closing_that_does_not_add_up_is_refused_and_nothing_is_written(
    tmp_path: Path, closings: list[CashPointClosing]
) -> None:
    wrong = replace(closings[0], payments_by_tender=(TenderAmount("cash", 1), TenderAmount("card", 4540)))
    target = tmp_path / "export.zip"
    with pytest.raises(
        Refused, match="Z report 1: its Bar payments are 0.01 but its journal lines add up to"
    ):
        write_dsfinvk(target, MASTER, [wrong, closings[1]], zone=ZONE)
    assert not target.exists()
    wrong_vat = replace(closings[1], sales_by_vat=(ClosingVat(1900, 1, 1, 2),))
    with pytest.raises(Refused, match="at 19 % VAT"):
        write_dsfinvk(target, MASTER, [wrong_vat], zone=ZONE)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export")] == []  # no half-written file


def test_split_address() -> None:
    assert split_address("Hauptstr. 1, 50667 Köln") == ("Hauptstr. 1", "50667", "Köln")
    assert split_address("Am Markt 3") == ("Am Markt 3", "", "")
    assert split_address("") == ("", "", "")


def test_an_empty_export_is_still_complete(tmp_path: Path) -> None:
    target = tmp_path / "empty.zip"
    write_dsfinvk(target, MASTER, [], zone=ZONE)
    with zipfile.ZipFile(target) as archive:
        assert set(archive.namelist()) == {"index.xml", "gdpdu-01-08-2002.dtd", *FILES}
