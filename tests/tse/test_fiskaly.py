"""The fiskaly back-end against a local server that follows fiskaly's documented SIGN DE v2 behaviour."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from pos.domain.fiscal import (
    FiscalReceipt,
    Outage,
    ReceiptKind,
    Signature,
    TenderAmount,
    VatAmount,
    parse_qr_code,
)
from pos.tse.fiskaly import FiskalySigner
from pos.tse.signer import sign
from tests.tse.fake_fiskaly import API_KEY, API_SECRET, Drop, FakeFiskaly

RECEIPT = FiscalReceipt(
    ReceiptKind.RECEIPT,
    (VatAmount(1900, 2500), VatAmount(700, 450)),
    (TenderAmount("cash", 2000), TenderAmount("card", 950)),
)
AT = datetime(2026, 11, 28, 19, 30, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeFiskaly]:
    server = FakeFiskaly()
    yield server
    if not server.down:
        server.stop()


def signer_for(fake: FakeFiskaly, **changes: object) -> FiskalySigner:
    values: dict[str, object] = {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "tss_id": fake.tss_id,
        "client_id": fake.client_id,
        "base_url": fake.base_url,
        "timeout_s": 2.0,
    }
    values.update(changes)
    return FiskalySigner(**values)  # type: ignore[arg-type]


def signed(result: object) -> Signature:
    assert isinstance(result, Signature), result
    return result


def test_a_sale_authenticates_then_starts_and_finishes_with_the_receipt_schema(fake: FakeFiskaly) -> None:
    signer = signer_for(fake)
    tx = uuid.uuid4()
    signature = signed(sign(signer, tx, RECEIPT, at=AT, timeout_ms=3000))

    assert fake.paths() == [
        "POST /auth",
        f"PUT /tss/{fake.tss_id}/tx/{tx}?tx_revision=1",
        f"PUT /tss/{fake.tss_id}/tx/{tx}?tx_revision=2",
    ]
    auth, start, finish = fake.requests
    assert auth.body == {"api_key": API_KEY, "api_secret": API_SECRET}
    assert start.body == {"state": "ACTIVE", "client_id": fake.client_id}
    assert finish.body == {
        "state": "FINISHED",
        "client_id": fake.client_id,
        "schema": {
            "standard_v1": {
                "receipt": {
                    "receipt_type": "RECEIPT",
                    "amounts_per_vat_rate": [
                        {"vat_rate": "NORMAL", "amount": "25.00"},
                        {"vat_rate": "REDUCED_1", "amount": "4.50"},
                    ],
                    "amounts_per_payment_type": [
                        {"payment_type": "CASH", "amount": "20.00", "currency_code": "EUR"},
                        {"payment_type": "NON_CASH", "amount": "9.50", "currency_code": "EUR"},
                    ],
                }
            }
        },
    }
    answer = fake.transactions[str(tx)]
    assert signature.tx_number == answer["number"] == 1
    assert signature.signature_counter == answer["signature"]["counter"] == 2
    assert signature.value == answer["signature"]["value"]
    assert signature.public_key == fake.public_key
    assert signature.serial == fake.serial
    assert signature.algorithm == "ecdsa-plain-SHA256"
    assert signature.time_format == "unixTime"
    assert signature.client_serial == fake.client_serial
    assert (
        signature.process_data
        == RECEIPT.process_data()
        == "Beleg^25.00_4.50_0.00_0.00_0.00^20.00:Bar_9.50:Unbar"
    )
    assert signature.qr == answer["qr_code_data"]
    assert parse_qr_code(signature.qr).process_data == RECEIPT.process_data()
    assert signature.test is False


def test_the_token_is_kept_then_renewed_with_the_refresh_token_before_it_expires(fake: FakeFiskaly) -> None:
    fake.token_lifetime_s = 1.0
    signer = signer_for(fake)
    signed(sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=3000))
    signed(sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=3000))
    assert [r.path for r in fake.requests].count("/api/v2/auth") == 1

    time.sleep(1.0)  # renewed a tenth of its life before the end
    signed(sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=3000))
    auths = [r for r in fake.requests if r.path.endswith("/auth")]
    assert len(auths) == 2
    assert set(auths[1].body) == {"refresh_token"}


def test_a_token_the_server_no_longer_accepts_is_replaced_once_and_the_request_repeated(
    fake: FakeFiskaly,
) -> None:
    signer = signer_for(fake)
    signed(sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=3000))
    fake.expire_tokens()
    signature = signed(sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=3000))
    assert signature.tx_number == 2
    assert fake.finished == 2
    assert [r.path.endswith("/auth") for r in fake.requests].count(True) == 2


@pytest.mark.parametrize("repeat_answer", ["conflict", "idempotent"])
def test_a_retry_after_the_answer_was_lost_signs_once(fake: FakeFiskaly, repeat_answer: str) -> None:
    fake.repeat_answer = repeat_answer
    # both the start's and the finish's answers are lost after the TSE acted on them
    fake.drops += [
        Drop("PUT", "/tx/", after=True, revision="1"),
        Drop("PUT", "/tx/", after=True, revision="2"),
    ]
    signer = signer_for(fake)
    tx = uuid.uuid4()
    signature = signed(sign(signer, tx, RECEIPT, at=AT, timeout_ms=3000))

    assert fake.finished == 1
    assert fake.signatures == 2  # one start, one finish: the repeats signed nothing
    assert len(fake.transactions) == 1
    assert signature.value == fake.transactions[str(tx)]["signature"]["value"]
    puts = [(r.path, r.query["tx_revision"]) for r in fake.requests if r.method == "PUT"]
    path = f"/api/v2/tss/{fake.tss_id}/tx/{tx}"
    assert puts == [(path, "1"), (path, "1"), (path, "2"), (path, "2")]  # the same id and revision again


def test_a_request_lost_before_it_arrived_is_simply_repeated(fake: FakeFiskaly) -> None:
    fake.drops.append(Drop("PUT", "/tx/", after=False))
    signer = signer_for(fake)
    signature = signed(sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=3000))
    assert signature.tx_number == 1
    assert fake.finished == 1 and fake.signatures == 2


def test_signing_the_same_transaction_again_answers_the_first_signature(fake: FakeFiskaly) -> None:
    signer = signer_for(fake)
    tx = uuid.uuid4()
    first = signed(sign(signer, tx, RECEIPT, at=AT, timeout_ms=3000))
    again = signed(sign(signer, tx, RECEIPT, at=AT, timeout_ms=3000))
    assert again == first
    assert fake.finished == 1 and fake.signatures == 2


def test_a_slow_tse_gives_an_outage_within_the_budget(fake: FakeFiskaly) -> None:
    fake.delay_s = 2.0
    signer = signer_for(fake)
    began = time.monotonic()
    result = sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=300)
    took = time.monotonic() - began
    assert isinstance(result, Outage)
    assert took < 0.3 + 0.15, took
    assert "did not answer" in result.reason


def test_a_tse_that_is_down_gives_an_outage_quickly(fake: FakeFiskaly) -> None:
    signer = signer_for(fake)
    signed(sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=3000))  # a kept-alive connection exists
    fake.stop()
    began = time.monotonic()
    result = sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=3000)
    took = time.monotonic() - began
    assert isinstance(result, Outage)
    assert "cannot be reached" in result.reason
    assert took < 1.0, took
    status = signer.status()
    assert status.reachable is False and status.state == "UNREACHABLE"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"api_secret": "wrong"}, "refused the API key"),
        ({"client_id": str(uuid.uuid4())}, "client not found"),
        ({"tss_id": str(uuid.uuid4())}, "TSS not found"),
    ],
)
def test_a_refusal_is_an_outage_with_fiskalys_reason(
    fake: FakeFiskaly, changes: dict[str, str], words: str
) -> None:
    result = sign(signer_for(fake, **changes), uuid.uuid4(), RECEIPT, at=AT, timeout_ms=3000)
    assert isinstance(result, Outage)
    assert words in result.reason
    assert fake.signatures == 0


def test_status_reads_the_tss(fake: FakeFiskaly) -> None:
    signer = signer_for(fake)
    signed(sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=3000))
    status = signer.status()
    assert status.reachable and status.state == "INITIALIZED"
    assert status.serial == fake.serial
    assert status.signature_counter == 2 and status.tx_number == 1
    assert fake.requests[-1].method == "GET" and fake.requests[-1].path.endswith(f"/tss/{fake.tss_id}")


def test_the_secret_is_never_shown(fake: FakeFiskaly) -> None:
    signer = signer_for(fake)
    assert API_SECRET not in repr(signer) and API_KEY not in repr(signer)
