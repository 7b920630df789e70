"""The German receipt: venue details, the TSE block and its QR code, read back from a rendered image."""

from __future__ import annotations

import io
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from pos.domain.fiscal import (
    FiscalReceipt,
    Outage,
    ReceiptKind,
    Signature,
    TenderAmount,
    VatAmount,
    VatClass,
    parse_process_data,
    parse_qr_code,
)
from pos.domain.fiscal import PaymentType as Pay
from pos.i18n import language
from pos.printing.documents import Letterhead
from pos.printing.escpos_render import escpos_bytes
from pos.printing.images import IMAGE_COLUMNS, png_bytes
from pos.printing.layout import QrCode, layout
from pos.printing.render import PrintSettings, preview
from pos.tse.signer import sign
from pos.tse.simulated import SimulatedSigner, verify
from tests.printing.test_layouts import RECEIPT

AT = datetime(2026, 12, 31, 19, 0, tzinfo=UTC)
HEAD = Letterhead(
    "Zürcher Bühne",
    "Grüße aus Köln",
    address="Hauptstr. 1, 50667 Köln",
    tax_number="214/5678/0815",
    vat_id="DE123456789",
)


def fiscal_receipt_of(doc) -> FiscalReceipt:  # type: ignore[no-untyped-def]
    """What the journal would hand the TSE for this receipt: gross per rate, the cash that stayed."""
    return FiscalReceipt(
        ReceiptKind.RECEIPT,
        tuple(VatAmount(g.rate_bp, g.gross_cents) for g in doc.vat),
        (TenderAmount(doc.payment_method, doc.given_cents - doc.change_cents),),
    )


@pytest.fixture
def signature(tmp_path: Path) -> Signature:
    signer = SimulatedSigner(tmp_path / "tse.pem", "KASSE-1")
    result = sign(signer, uuid.uuid4(), fiscal_receipt_of(RECEIPT), at=AT, timeout_ms=2000)
    assert isinstance(result, Signature)
    return result


def test_the_qr_code_on_the_rendered_receipt_holds_the_receipt_string_with_its_amounts(
    signature: Signature,
) -> None:
    doc = replace(RECEIPT, letterhead=HEAD, receipt_number=42, fiscal=signature)
    image = Image.open(io.BytesIO(png_bytes(layout(doc, language("de"), IMAGE_COLUMNS))))
    codes = [c.data.decode() for c in decode(image) if c.type == "QRCODE"]
    assert codes == [signature.qr]
    fields = parse_qr_code(codes[0])
    data = parse_process_data(fields.process_data)
    assert data.bon_typ == "Beleg"
    assert data.gross_by_class[VatClass.NORMAL] == 8980  # 19 % lines of the receipt
    assert data.gross_by_class[VatClass.REDUCED_1] == 1050  # 7 %
    assert sum(data.gross_by_class.values()) == doc.total_cents
    assert data.payments == ((Pay.CASH, doc.total_cents),)  # 120.00 given, 19.70 back
    assert (fields.tx_number, fields.signature_counter) == (signature.tx_number, signature.signature_counter)
    assert fields.client_serial == "KASSE-1" and fields.public_key == signature.public_key
    assert verify(signature)


@pytest.mark.parametrize("paper", [58, 80])
def test_the_fiscal_block_prints_the_tse_data_in_german_within_the_paper(
    signature: Signature, paper: int
) -> None:
    doc = replace(RECEIPT, letterhead=HEAD, receipt_number=42, fiscal=signature)
    text = preview(doc, PrintSettings(language("de"), paper))
    joined = " ".join(line.strip() for line in text.splitlines())
    for words in (
        "Hauptstr. 1, 50667 Köln",
        "Steuernummer 214/5678/0815",
        "USt-IdNr. DE123456789",
        "Beleg-Nr. 42",
        "Test-TSE: ohne rechtliche Gültigkeit",
        "TSE-Transaktion",
        "TSE-Signaturzähler",
        "TSE-Start",
        "TSE-Stop",
        "TSE-Seriennummer",
        "TSE-Signaturalgorithmus",
        "TSE-Zeitformat",
        "TSE-Signatur",
        "Kassen-Seriennummer",
        "Netto",
        "ecdsa-plain-SHA256",
        "[QR-Code]",
    ):
        assert words in joined, words
    width = {58: 32, 80: 48}[paper]
    assert all(len(line) <= width for line in text.splitlines())
    flat = text.replace("\n", "")
    assert signature.value in flat and signature.serial in flat  # wrapped, nothing cut off


def test_the_printer_gets_the_qr_code_natively(signature: Signature) -> None:
    doc = replace(RECEIPT, fiscal=signature)
    blocks = layout(doc, language("de"), 48)
    assert [b for b in blocks if isinstance(b, QrCode)] == [QrCode(signature.qr)]
    data = escpos_bytes(blocks, 80, 48)
    assert signature.qr.encode() in data
    assert b"\x1d(k" in data  # GS ( k: the printer draws the QR code itself


def test_an_outage_prints_tse_ausgefallen_and_no_qr_code() -> None:
    outage = Outage(uuid.uuid4(), "fiskaly cannot be reached: ConnectError.", AT)
    doc = replace(RECEIPT, fiscal=outage)
    text = preview(doc, PrintSettings(language("de"), 80))
    assert "TSE ausgefallen" in text
    assert "[QR-Code]" not in text and "TSE-Signatur" not in text
    assert "TSE failed" in preview(doc, PrintSettings(language("en"), 80))


def test_a_receipt_without_a_signer_is_unchanged() -> None:
    before = preview(RECEIPT, PrintSettings(language("de"), 80))
    with_details = preview(
        replace(
            RECEIPT, letterhead=Letterhead(RECEIPT.letterhead.venue_name, RECEIPT.letterhead.brand_header)
        ),
        PrintSettings(language("de"), 80),
    )
    assert before == with_details
    assert "TSE" not in before and "Netto" not in before and "Beleg-Nr." not in before
