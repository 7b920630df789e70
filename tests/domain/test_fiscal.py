"""The receipt string, the QR code and the fiskaly schema, character by character."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain.fiscal import (
    DSFINVK_VAT_KEY,
    VAT_SLOT_ORDER,
    FiscalReceipt,
    PaymentType,
    ReceiptKind,
    Signature,
    TenderAmount,
    UnknownVatRate,
    VatAmount,
    VatClass,
    amount_text,
    parse_process_data,
    parse_qr_code,
    qr_code_data,
    tse_time,
    vat_class,
)


def receipt(
    vat: list[tuple[int, int]], tenders: list[tuple[str, int]], kind=ReceiptKind.RECEIPT
) -> FiscalReceipt:
    return FiscalReceipt(
        kind, tuple(VatAmount(r, c) for r, c in vat), tuple(TenderAmount(t, c) for t, c in tenders)
    )


def test_the_five_vat_slots_have_their_fixed_order_and_keys() -> None:
    assert [vat_class(rate) for rate in (1900, 700, 1070, 550, 0)] == list(VAT_SLOT_ORDER)
    assert [DSFINVK_VAT_KEY[cls] for cls in VAT_SLOT_ORDER] == [1, 2, 3, 4, 5]
    with pytest.raises(UnknownVatRate, match="16 %"):
        vat_class(1600)


@pytest.mark.parametrize(
    ("vat", "tenders", "expected"),
    [
        ([(1900, 4990)], [("cash", 4990)], "Beleg^49.90_0.00_0.00_0.00_0.00^49.90:Bar"),
        ([(700, 350), (1900, 1000)], [("card", 1350)], "Beleg^10.00_3.50_0.00_0.00_0.00^13.50:Unbar"),
        # split tender: cash first, then the card; two cash tenders are one cash payment
        (
            [(1900, 3550)],
            [("card", 1550), ("cash", 1000), ("cash", 1000)],
            "Beleg^35.50_0.00_0.00_0.00_0.00^20.00:Bar_15.50:Unbar",
        ),
        ([(1070, 107), (550, 55)], [("cash", 162)], "Beleg^0.00_0.00_1.07_0.55_0.00^1.62:Bar"),
        # a refund: negative amounts
        ([(1900, -1230)], [("cash", -1230)], "Beleg^-12.30_0.00_0.00_0.00_0.00^-12.30:Bar"),
        # a free order: no payment at all
        ([(1900, 0)], [("free", 0)], "Beleg^0.00_0.00_0.00_0.00_0.00^"),
        # a cash movement (float, cash in): not taxable, the fifth slot
        ([(0, 15000)], [("cash", 15000)], "Beleg^0.00_0.00_0.00_0.00_150.00^150.00:Bar"),
    ],
)
def test_process_data(vat: list[tuple[int, int]], tenders: list[tuple[str, int]], expected: str) -> None:
    assert receipt(vat, tenders).process_data() == expected


def test_training_receipts_say_so() -> None:
    data = receipt([(1900, 500)], [("cash", 500)], ReceiptKind.TRAINING).process_data()
    assert data.startswith("AVTraining^")
    assert (
        receipt([(1900, 500)], [("cash", 500)], ReceiptKind.TRAINING).fiskaly_schema()["standard_v1"][
            "receipt"
        ]["receipt_type"]
        == "TRAINING"
    )


def test_amount_text() -> None:
    assert [amount_text(c) for c in (0, 5, 99, 100, -1, -100, 123456789)] == [
        "0.00",
        "0.05",
        "0.99",
        "1.00",
        "-0.01",
        "-1.00",
        "1234567.89",
    ]


@given(
    st.lists(st.tuples(st.sampled_from([1900, 700, 1070, 550, 0]), st.integers(-(10**8), 10**8)), max_size=6),
    st.lists(st.tuples(st.sampled_from(["cash", "card", "free"]), st.integers(-(10**8), 10**8)), max_size=4),
)
def test_process_data_reads_back_to_the_same_cents(
    vat: list[tuple[int, int]], tenders: list[tuple[str, int]]
) -> None:
    r = receipt(vat, tenders)
    parsed = parse_process_data(r.process_data())
    assert parsed.gross_by_class == r.gross_by_class()
    assert dict(parsed.payments) == r.amounts_by_payment_type()


def test_fiskaly_schema_names_its_fields_as_documented() -> None:
    schema = receipt([(1900, 2500), (0, 100)], [("cash", 2000), ("card", 600)]).fiskaly_schema()
    assert schema == {
        "standard_v1": {
            "receipt": {
                "receipt_type": "RECEIPT",
                "amounts_per_vat_rate": [
                    {"vat_rate": "NORMAL", "amount": "25.00"},
                    {"vat_rate": "NULL", "amount": "1.00"},
                ],
                "amounts_per_payment_type": [
                    {"payment_type": "CASH", "amount": "20.00", "currency_code": "EUR"},
                    {"payment_type": "NON_CASH", "amount": "6.00", "currency_code": "EUR"},
                ],
            }
        }
    }
    assert PaymentType.CASH.dsfinvk_name == "Bar" and PaymentType.NON_CASH.dsfinvk_name == "Unbar"
    assert VatClass.SPECIAL_RATE_2.value == "SPECIAL_RATE_2"


def test_the_qr_code_has_twelve_fields_in_the_documented_order() -> None:
    sig = Signature(
        tx_id=uuid.uuid4(),
        tx_number=17,
        signature_counter=35,
        start=datetime(2026, 8, 18, 18, 38, 19, 123456, tzinfo=UTC),
        end=datetime(2026, 8, 18, 18, 38, 20, tzinfo=UTC),
        serial="ab" * 32,
        algorithm="ecdsa-plain-SHA256",
        time_format="unixTime",
        value="c2lnbmF0dXJl",
        public_key="cHVibGljIGtleQ==",
        client_serial="KASSE-1",
        process_type="Kassenbeleg-V1",
        process_data="Beleg^4.20_0.00_0.00_0.00_0.00^4.20:Unbar",
    )
    assert (
        sig.qr
        == qr_code_data(sig)
        == (
            "V0;KASSE-1;Kassenbeleg-V1;Beleg^4.20_0.00_0.00_0.00_0.00^4.20:Unbar;17;35;"
            "2026-08-18T18:38:19.123Z;2026-08-18T18:38:20.000Z;ecdsa-plain-SHA256;unixTime;c2lnbmF0dXJl;cHVibGljIGtleQ=="
        )
    )
    fields = parse_qr_code(sig.qr)
    assert (fields.tx_number, fields.signature_counter, fields.public_key) == (17, 35, "cHVibGljIGtleQ==")
    assert fields.start == datetime(2026, 8, 18, 18, 38, 19, 123000, tzinfo=UTC)
    assert sig.to_json()["start"] == "2026-08-18T18:38:19.123Z"
    assert set(sig.to_json()) >= {
        "tx_number",
        "signature_counter",
        "start",
        "end",
        "serial",
        "algorithm",
        "signature",
        "qr",
    }


def test_tse_time_is_utc_with_milliseconds() -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=ZoneInfo("Europe/Berlin"))
    assert tse_time(local) == "2026-12-31T22:59:59.999Z"


def test_shortcuts_for_the_journal() -> None:
    sale = FiscalReceipt.of([(1900, 4990), (700, 350)], [("cash", 2000), ("card", 3340)])
    assert sale.process_data() == "Beleg^49.90_3.50_0.00_0.00_0.00^20.00:Bar_33.40:Unbar"
    assert FiscalReceipt.cash_movement(-5000).process_data() == "Beleg^0.00_0.00_0.00_0.00_-50.00^-50.00:Bar"
    assert FiscalReceipt.cash_movement(100, training=True).kind is ReceiptKind.TRAINING


def test_signatures_and_outages_are_stored_and_read_back_whole() -> None:
    import json

    from pos.domain.fiscal import Outage, Started, fiscal_from_dict

    sig = Signature(
        tx_id=uuid.uuid4(),
        tx_number=3,
        signature_counter=6,
        start=datetime(2026, 8, 18, 18, 38, 19, tzinfo=UTC),
        end=datetime(2026, 8, 18, 18, 38, 21, tzinfo=UTC),
        serial="ab" * 32,
        algorithm="ecdsa-plain-SHA256",
        time_format="unixTime",
        value="c2ln",
        public_key="a2V5",
        client_serial="KASSE-1",
        process_type="Kassenbeleg-V1",
        process_data="Beleg^1.00_0.00_0.00_0.00_0.00^1.00:Bar",
        test=True,
    )
    outage = Outage(sig.tx_id, "fiskaly cannot be reached.", sig.end, Started(sig.tx_id, 3, sig.start, 5))
    for value in (sig, outage, Outage(sig.tx_id, "slow", sig.end)):
        assert fiscal_from_dict(json.loads(json.dumps(value.to_dict()))) == value
    assert fiscal_from_dict(None) is None
