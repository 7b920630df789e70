"""The simulated Test-TSE: a real key, durable gap-free counters across processes, signatures that verify."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import sqlite3
import stat
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pos.config import Config
from pos.domain.fiscal import (
    FiscalReceipt,
    Outage,
    ReceiptKind,
    Signature,
    TenderAmount,
    VatAmount,
    parse_qr_code,
)
from pos.tse import client_serial, make_signer
from pos.tse.signer import TseError, sign
from pos.tse.simulated import STATE_FILE, SimulatedSigner, verify, verify_message
from tests.conftest import test_config as make_config

AT = datetime(2026, 11, 28, 19, 30, 15, 250000, tzinfo=UTC)
RECEIPT = FiscalReceipt(ReceiptKind.RECEIPT, (VatAmount(1900, 4990),), (TenderAmount("cash", 4990),))


def receipt(cents: int, tender: str = "cash", rate: int = 1900) -> FiscalReceipt:
    return FiscalReceipt(ReceiptKind.RECEIPT, (VatAmount(rate, cents),), (TenderAmount(tender, cents),))


@pytest.fixture
def signer(tmp_path: Path) -> SimulatedSigner:
    return SimulatedSigner(tmp_path / "tse" / "key.pem", "KASSE-1", clock=lambda: AT + timedelta(seconds=2))


def signed(result: object) -> Signature:
    assert isinstance(result, Signature), result
    return result


def test_the_key_and_the_counters_are_private_files_and_the_serial_is_the_key_hash(
    signer: SimulatedSigner, tmp_path: Path
) -> None:
    for path in (tmp_path / "tse" / "key.pem", tmp_path / "tse" / STATE_FILE):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    public = base64.b64decode(signer.public_key)
    assert public[0] == 4 and len(public) == 65  # an uncompressed P-256 point
    assert signer.serial == hashlib.sha256(public).hexdigest()


def test_a_signature_verifies_and_its_qr_code_holds_the_receipt_string(signer: SimulatedSigner) -> None:
    started = signer.start(uuid.uuid4(), AT)
    sig = signer.finish(started.tx_id, RECEIPT)
    assert verify(sig)
    assert sig.test is True
    assert (sig.tx_number, started.signature_counter, sig.signature_counter) == (1, 1, 2)
    assert sig.start == AT.replace(microsecond=0) and sig.end == AT.replace(microsecond=0) + timedelta(
        seconds=2
    )
    qr = parse_qr_code(sig.qr)
    assert qr.client_serial == "KASSE-1" and qr.process_type == "Kassenbeleg-V1"
    assert qr.process_data == "Beleg^49.90_0.00_0.00_0.00_0.00^49.90:Bar"
    assert (qr.tx_number, qr.signature_counter) == (1, 2)
    assert (qr.start, qr.end) == (sig.start, sig.end)
    assert (qr.algorithm, qr.time_format) == ("ecdsa-plain-SHA256", "unixTime")
    assert (qr.signature, qr.public_key) == (sig.value, sig.public_key)
    message, value = signer.start_signature(started.tx_id)
    assert verify_message(signer.public_key, value, message)


def test_a_changed_field_no_longer_verifies(signer: SimulatedSigner) -> None:
    sig = signed(sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=1000))
    for change in (
        {"process_data": "Beleg^4.99_0.00_0.00_0.00_0.00^4.99:Bar"},
        {"signature_counter": sig.signature_counter + 1},
        {"tx_number": 7},
        {"end": sig.end + timedelta(seconds=1)},
        {"client_serial": "KASSE-2"},
    ):
        assert not verify(dataclasses.replace(sig, qr="", **change)), change  # type: ignore[arg-type]


def test_counters_and_numbers_rise_without_gaps_and_survive_a_restart(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    first = SimulatedSigner(key, "KASSE-1")
    sigs = [signed(sign(first, uuid.uuid4(), receipt(100 * n), at=AT, timeout_ms=1000)) for n in range(1, 6)]
    first.close()
    again = SimulatedSigner(key, "KASSE-1")
    sigs += [signed(sign(again, uuid.uuid4(), receipt(100 * n), at=AT, timeout_ms=1000)) for n in range(6, 9)]
    assert again.serial == first.serial
    assert [s.tx_number for s in sigs] == list(range(1, 9))
    assert [s.signature_counter for s in sigs] == list(range(2, 17, 2))  # the start of each took the odd one
    assert all(verify(s) for s in sigs)
    assert again.status().signature_counter == 16 and again.status().tx_number == 8


def test_a_repeated_start_or_finish_signs_nothing_new(signer: SimulatedSigner) -> None:
    tx = uuid.uuid4()
    assert signer.start(tx, AT) == signer.start(tx, AT + timedelta(seconds=9))
    first = signer.finish(tx, RECEIPT)
    assert signer.finish(tx, RECEIPT, at=AT + timedelta(minutes=5)) == first
    assert signer.status().signature_counter == 2
    result = sign(signer, tx, receipt(1), at=AT, timeout_ms=1000)  # other amounts for a finished transaction
    assert isinstance(result, Outage) and "already finished" in result.reason


def test_finishing_a_transaction_never_started_is_refused(signer: SimulatedSigner) -> None:
    with pytest.raises(TseError, match="never started"):
        signer.finish(uuid.uuid4(), RECEIPT)


def test_a_locked_state_file_gives_an_outage_within_the_budget(signer: SimulatedSigner) -> None:
    other = sqlite3.connect(signer.state_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        began = time.monotonic()
        result = sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=200)
        took = time.monotonic() - began
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert isinstance(result, Outage)
    assert took < 0.2 + 0.1, took
    assert "busy" in result.reason
    assert signed(sign(signer, uuid.uuid4(), RECEIPT, at=AT, timeout_ms=200)).tx_number == 1


WORKER = """
import json, sys, uuid
from datetime import UTC, datetime
from pathlib import Path
from pos.domain.fiscal import FiscalReceipt, ReceiptKind, TenderAmount, VatAmount
from pos.tse.simulated import SimulatedSigner
from pos.tse.signer import TseError, sign

signer = SimulatedSigner(Path(sys.argv[1]), sys.argv[2])
out = []
for n in range(int(sys.argv[3])):
    r = FiscalReceipt(ReceiptKind.RECEIPT, (VatAmount(700, n + 1),), (TenderAmount("card", n + 1),))
    s = sign(signer, uuid.uuid4(), r, at=datetime.now(UTC), timeout_ms=20000)
    out.append([s.tx_number, s.signature_counter, s.value, s.public_key, s.serial, s.process_data, s.client_serial,
                s.end.timestamp()])
print(json.dumps(out))
"""


def test_two_processes_signing_at_once_never_share_a_number(tmp_path: Path) -> None:
    key = tmp_path / "shared" / "key.pem"
    rounds = 60
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(key), f"KASSE-{n}", str(rounds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        results += json.loads(out)
    assert sorted(r[0] for r in results) == list(range(1, 2 * rounds + 1))
    counters = sorted(r[1] for r in results)
    assert len(set(counters)) == len(counters) == 2 * rounds
    assert len({r[4] for r in results}) == 1  # one key: both processes found or made the same one
    signer = SimulatedSigner(key, "KASSE-1")
    assert signer.status().signature_counter == 4 * rounds  # every start and finish, nothing lost or reused
    for tx_number, counter, value, public_key, serial, process_data, kasse, end in results:
        sig = Signature(
            tx_id=uuid.uuid4(),
            tx_number=tx_number,
            signature_counter=counter,
            start=AT,
            end=datetime.fromtimestamp(end, UTC),
            serial=serial,
            algorithm="ecdsa-plain-SHA256",
            time_format="unixTime",
            value=value,
            public_key=public_key,
            client_serial=kasse,
            process_type="Kassenbeleg-V1",
            process_data=process_data,
        )
        assert verify(sig), tx_number


def test_the_factory_reads_the_config(tmp_path: Path) -> None:
    assert make_signer(Config()) is None
    config = make_config(fiscal={"signer": "simulated", "key_path": str(tmp_path / "k.pem")})
    signer = make_signer(config)
    assert isinstance(signer, SimulatedSigner)
    assert signer.client_serial == client_serial(config) == "test-terminal"
    serial = make_config(
        fiscal={"signer": "simulated", "cash_register_serial": "BOX-7", "key_path": str(tmp_path / "k.pem")}
    )
    assert client_serial(serial) == "BOX-7"
