"""Layouts from plain documents: text preview, ESC/POS bytes through escpos' Dummy, PNG/PDF for e-mail."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from pos.domain.order import VatGroup
from pos.i18n import language
from pos.printing.documents import (
    CashDoc,
    GroupTotal,
    Letterhead,
    ReceiptDoc,
    ReceiptLine,
    ReturnDoc,
    ReturnLine,
    SlipDoc,
    SlipLine,
    TenderLine,
    TenderTotal,
    TicketDoc,
    VatTotal,
    ZReportDoc,
)
from pos.printing.escpos_render import escpos_bytes
from pos.printing.layout import CashDrawer, layout
from pos.printing.render import PrintSettings, preview, printer_bytes, ticket_pdf, ticket_png

CODE = "100000000001234567890124"
AT = datetime(2026, 12, 31, 19, 0, tzinfo=UTC)
HEAD = Letterhead("Zürcher Bühne", "Grüße aus Köln")
ESC_INIT = b"\x1b@"
CP858_SELECT = b"\x1bt\x13"  # ESC t 19
CUT = b"\x1dV"


def ticket(**changes: object) -> TicketDoc:
    values: dict[str, object] = {
        "letterhead": HEAD,
        "code": CODE,
        "ticket_id": 12,
        "order_id": 7,
        "article_name": "Silvester 2026/2027 31.12.2026",
        "price_cents": 4990,
        "issued_at": AT,
        "event_date": date(2026, 12, 31),
        "holder_name": "Jürgen Groß",
    }
    values.update(changes)
    return TicketDoc(**values)  # type: ignore[arg-type]


def settings(lang: str = "de", paper: int = 80, drawer: bool = True) -> PrintSettings:
    return PrintSettings(language(lang), paper, drawer)


RECEIPT = ReceiptDoc(
    letterhead=HEAD,
    order_id=7,
    created_at=AT,
    terminal="kasse-1",
    operator="anna",
    lines=(
        ReceiptLine("Erwachsene", 2, 4990, 500, 8980, 1900, "SPONSOR1"),
        ReceiptLine("Glühwein", 3, 350, 0, 1050, 700),
    ),
    vat=(VatGroup(700, 981, 69, 1050), VatGroup(1900, 7546, 1434, 8980)),
    total_cents=10030,
    payment_method="cash",
    given_cents=12000,
    change_cents=1970,
)


@pytest.mark.parametrize(
    ("repeat", "limit", "en", "de"),
    [
        ("none", None, "Single entry", "Einmaliger Einlass"),
        ("anytime", 9, "10-ride card: 10 entries", "10er-Karte: 10 Einlässe"),
        ("anytime", None, "Season card: unlimited entries", "Saisonkarte: unbegrenzte Einlässe"),
        ("same-day", None, "Day ticket with re-entry", "Tageskarte mit Wiedereinlass"),
        ("daily", 4, "5 entries, at most one per day", "5 Einlässe, höchstens einer pro Tag"),
    ],
)
def test_ticket_preview_has_the_code_and_the_repeat_rule_in_words(repeat, limit, en, de) -> None:
    doc = ticket(repeat=repeat, repeat_limit=limit)
    english = preview(doc, settings("en"))
    german = preview(doc, settings("de"))
    assert CODE in english and CODE in german
    assert en in english
    assert de in german
    assert "Order 7" in english and "Bestellung 7" in german
    assert "49,90 €" in german and "€49.90" in english
    assert "Donnerstag, 31. Dezember 2026" in german and "Jürgen Groß" in german
    assert "NACHDRUCK" not in german


def test_validity_window_in_venue_local_time() -> None:
    doc = ticket(
        event_date=None,
        valid_from=datetime(2026, 7, 1, 8, 0, tzinfo=UTC),  # 10:00 in Berlin (summer time)
        valid_until=datetime(2026, 12, 31, 22, 59, tzinfo=UTC),  # 23:59 in Berlin
    )
    text = preview(doc, settings("de"))
    assert "Gültig ab 01.07.26, 10:00" in text
    assert "Gültig bis 31.12.26, 23:59" in text


@pytest.mark.parametrize("paper", [58, 80])
def test_no_line_is_wider_than_the_paper(paper: int) -> None:
    width = {58: 32, 80: 48}[paper]
    long_name = "Sommernachtskonzert der Philharmonie mit großem Feuerwerk 2027"
    docs = [ticket(article_name=long_name, reprint=True), RECEIPT, zreport()]
    for doc in docs:
        for line in preview(doc, settings("de", paper)).splitlines():
            assert len(line) <= width, line
    assert "Feuerwerk" in preview(docs[0], settings("de", paper))


def test_reprint_is_marked_in_both_languages() -> None:
    assert "NACHDRUCK" in preview(ticket(reprint=True), settings("de"))
    assert "REPRINT" in preview(ticket(reprint=True), settings("en"))


def test_receipt_shows_lines_vat_by_rate_total_payment_and_change() -> None:
    text = preview(RECEIPT, settings("de"))
    assert re.search(r"2 x Erwachsene +99,80 €", text)
    assert re.search(r"Rabatt SPONSOR1 +-10,00 €", text)
    assert re.search(r"3 x Glühwein +10,50 €", text)
    assert re.search(r"MwSt\. 7 % von 10,50 € +0,69 €", text)
    assert re.search(r"MwSt\. 19 % von 89,80 € +14,34 €", text)
    assert re.search(r"Summe +100,30 €", text)
    assert re.search(r"Bar +120,00 €", text)
    assert re.search(r"Rückgeld +19,70 €", text)
    english = preview(RECEIPT, settings("en"))
    assert re.search(r"VAT 19 % of €89.80 +€14.34", english)


def test_order_slip_lists_quantities_and_names_without_prices() -> None:
    slip = SlipDoc(HEAD, 7, AT, "kasse-1", "anna", (SlipLine(3, "Glühwein"), SlipLine(1, "Brezel")))
    text = preview(slip, settings("de"))
    assert "Orderbon" in text and "3 x Glühwein" in text and "1 x Brezel" in text
    assert "€" not in text


def zreport(counted: int | None = 30500) -> ZReportDoc:
    return ZReportDoc(
        letterhead=HEAD,
        shift_id=3,
        z_number=7,
        terminal="kasse-1",
        operator="anna",
        opened_at=AT,
        closed_at=AT.replace(hour=23),
        float_cents=10000,
        sales_cents=30010,
        returns_cents=-4990,
        cash_in_cents=5000,
        cash_out_cents=2000,
        cash_taken_cents=25000,
        change_cents=4970,
        cash_refunded_cents=4990,
        expected_cash_cents=10000 + 25000 - 4970 - 4990 + 5000 - 2000,
        counted_cents=counted,
        by_tender=(TenderTotal("cash", 4, 20030), TenderTotal("card", 2, 9980)),
        by_group=(GroupTotal("Getränke", 3, 1050), GroupTotal("Tickets", 6, 28960)),
        by_vat=(VatTotal(700, 27065, 1895, 28960), VatTotal(1900, 882, 168, 1050)),
    )


def test_z_report_shows_sales_by_tender_group_and_vat_and_expected_against_counted_cash() -> None:
    text = preview(zreport(), settings("de"))
    assert "Z-Bon 7" in text and "Schicht 3" in text
    assert re.search(r"Bar \(4\) +200,30 €", text)
    assert re.search(r"Karte \(2\) +99,80 €", text)
    assert re.search(r"Retouren +-49,90 €", text)
    assert re.search(r"Getränke \(3\) +10,50 €", text)
    assert re.search(r"7 % +289,60 €", text) and re.search(r"USt\. +18,95 €", text)
    assert re.search(r"Soll-Bestand bar +280,40 €", text)
    assert re.search(r"Gezähltes Bargeld +305,00 €", text)
    assert re.search(r"Differenz +24,60 €", text)
    x = preview(replace(zreport(counted=None), z_number=None, closed_at=None), settings("de"))
    assert "X-Bon" in x and "nicht gezählt" in x


def test_z_report_survives_its_json_payload() -> None:
    doc = zreport()
    assert ZReportDoc.from_json(doc.to_json()) == doc


def test_ticket_bytes_through_the_dummy_printer() -> None:
    data = printer_bytes(ticket(), settings("de", 80))
    assert data.startswith(ESC_INIT + CP858_SELECT)
    assert data.count(CP858_SELECT) == 1  # chosen once, never switched mid-line
    # Code128 (GS k 73), function B: length byte, then "{C" and the digits: code set C
    payload = ("{C" + CODE).encode()
    assert b"\x1dkI" + bytes([len(payload)]) + payload in data
    # native QR: GS ( k ... '1' 'P' '0' <data>, then print (fn 81)
    store = re.search(rb"\x1d\(k(..)1P0", data, re.DOTALL)
    assert store is not None
    length = store.group(1)[0] + 256 * store.group(1)[1] - 3
    assert CODE.encode() in data[store.end() : store.end() + length]
    assert b"\x1d(k\x03\x001Q0" in data
    assert CODE.encode() + b"\n" in data  # the code in digits under the barcode
    assert data.endswith(CUT + b"\x00")  # feed and full cut last
    # umlauts, ß and € in CP858
    assert "Zürcher Bühne".encode("cp858") in data
    assert "Jürgen Groß".encode("cp858") in data
    assert "49,90 €".encode("cp858") in data
    assert b"\x1bp" not in data  # tickets never open the drawer


def test_58_mm_uses_a_narrower_barcode_module() -> None:
    wide = printer_bytes(ticket(), settings("de", 80))
    narrow = printer_bytes(ticket(), settings("de", 58))
    assert b"\x1dw\x03" in wide and b"\x1dw\x02" in narrow


def test_cash_receipt_kicks_the_drawer_only_when_configured() -> None:
    assert b"\x1bp\x00" in printer_bytes(RECEIPT, settings(drawer=True))
    assert b"\x1bp" not in printer_bytes(RECEIPT, settings(drawer=False))
    card = ReceiptDoc(
        **{**RECEIPT.__dict__, "payment_method": "card", "given_cents": 10030, "change_cents": 0}
    )
    assert b"\x1bp" not in printer_bytes(card, settings(drawer=True))
    reprinted = ReceiptDoc(**{**RECEIPT.__dict__, "reprint": True})
    assert b"\x1bp" not in printer_bytes(reprinted, settings(drawer=True))


def test_stdout_stays_clean_while_printing_barcodes(capsys: pytest.CaptureFixture[str]) -> None:
    from escpos.printer import Dummy

    from pos.printing.escpos_render import print_blocks

    blocks = layout(ticket(), language("de"), 48)
    escpos_bytes(blocks, 80, 48)
    print_blocks(Dummy(), blocks, 80, 48)
    printer_bytes(RECEIPT, settings())
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""
    # and the library really does print when left alone
    Dummy().barcode("{C" + CODE, "CODE128", function_type="B")
    assert "barcode" in capsys.readouterr().out


def decoded(image_bytes: bytes) -> dict[str, str]:
    return {symbol.type: symbol.data.decode() for symbol in decode(Image.open(io.BytesIO(image_bytes)))}


def test_png_ticket_decodes_to_the_code() -> None:
    png = ticket_png(ticket(), language("de"))
    assert png.startswith(b"\x89PNG")
    symbols = decoded(png)
    assert symbols["CODE128"] == CODE
    assert CODE in symbols["QRCODE"]


def test_pdf_ticket_holds_a_decodable_image() -> None:
    pdf = ticket_pdf(ticket(), language("en"))
    assert pdf.startswith(b"%PDF")
    page = re.search(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL)
    assert page is not None
    symbols = decoded(page.group(1))  # the page is one embedded JPEG
    assert symbols["CODE128"] == CODE
    assert CODE in symbols["QRCODE"]


def test_without_a_system_font_the_image_spells_umlauts_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFont

    from pos.printing import images

    monkeypatch.setattr(images, "_font_path", lambda bold: None)
    monkeypatch.setattr(images, "_font", lambda size, bold: ImageFont.load_default(size))
    assert images._text("Grüße 49,90\xa0€") == "Gruesse 49,90 EUR"
    assert decoded(ticket_png(ticket(), language("de")))["CODE128"] == CODE


def test_return_slip_and_cash_slip() -> None:
    slip = ReturnDoc(
        HEAD,
        order_id=12,
        journal_number=40,
        at=AT,
        terminal="kasse-1",
        operator="anna",
        lines=(ReturnLine("Konzert", 1, 4990, "100000000000015291505004"), ReturnLine("Bier", 2, 900)),
        refunds=(TenderLine("cash", -5890),),
        refund_cents=5890,
        forced=True,
    )
    text = preview(slip, settings("de"))
    assert "Rückgabe" in text and "Bestellung 12" in text and "100000000000015291505004" in text
    assert re.search(r"Erstattung +-58,90 €", text) and re.search(r"Bar +-58,90 €", text)
    assert "bereits am Einlass" in text
    assert ReturnDoc.from_json(slip.to_json()) == slip
    blocks = layout(slip, settings("de").lang, 48, cash_drawer=True)
    assert blocks[0] == CashDrawer()  # a cash refund opens the drawer
    cash = CashDoc(HEAD, "cash_out", 20000, "in den Safe", AT, "kasse-1", "anna", 41)
    text = preview(cash, settings("de"))
    assert "Auszahlung" in text and "in den Safe" in text and re.search(r"Betrag +200,00 €", text)
    assert CashDoc.from_json(cash.to_json()) == cash
