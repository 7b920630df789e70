"""A local stand-in TSE ("Test-TSE") for demos, training and tests: real ECDSA signatures, no legal value.

It behaves like a TSE where the till can tell: a key pair that never leaves the machine, a serial that is the
SHA-256 of the public key (as BSI TR-03153 defines a TSE serial), one transaction number per transaction and
one signature counter per signed log message (start and finish each sign), both strictly increasing without
gaps and kept in a small SQLite file next to the key. Every counter step is one `BEGIN IMMEDIATE` write
transaction, so two processes signing at once never reuse a number.

What is signed (our own format, not TR-03153's ASN.1 log message): the UTF-8 bytes of

    pos-test-tse-v1;<operation>;<serial>;<client serial>;<tx number>;<signature counter>;<log time>;
    <processType>;<processData>

joined by `;` on one line, where operation is StartTransaction or FinishTransaction, the log time is unix
seconds (time format `unixTime`) and processType/processData are empty for the start. The signature is ECDSA
over P-256 with SHA-256 in plain r||s form (`ecdsa-plain-SHA256`, BSI TR-03111), base64 encoded; the public
key is the uncompressed point, base64 encoded. `verify` checks a Signature against its public key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from pos.domain.fiscal import PROCESS_TYPE_RECEIPT, FiscalReceipt, Signature, Started, TseStatus
from pos.tse.signer import TseError, TseUnavailable, remaining

ALGORITHM = "ecdsa-plain-SHA256"
TIME_FORMAT = "unixTime"
MESSAGE_PREFIX = "pos-test-tse-v1"
KEY_FILE = "simulated-tse.pem"
STATE_FILE = "simulated-tse.sqlite"
COORDINATE_BYTES = 32  # P-256

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    tx_number INTEGER NOT NULL,
    signature_counter INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (id, tx_number, signature_counter) VALUES (1, 0, 0);
CREATE TABLE IF NOT EXISTS transactions (
    tx_id TEXT PRIMARY KEY,
    tx_number INTEGER NOT NULL UNIQUE,
    client_serial TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    start_counter INTEGER NOT NULL UNIQUE,
    start_signature TEXT NOT NULL,
    end_time INTEGER,
    end_counter INTEGER UNIQUE,
    signature TEXT,
    process_type TEXT,
    process_data TEXT
);
"""


def log_message(
    operation: str,
    serial: str,
    client_serial: str,
    tx_number: int,
    counter: int,
    log_time: int,
    process_type: str = "",
    process_data: str = "",
) -> bytes:
    """The bytes the simulated TSE signs (see the module docstring)."""
    fields = (
        MESSAGE_PREFIX,
        operation,
        serial,
        client_serial,
        tx_number,
        counter,
        log_time,
        process_type,
        process_data,
    )
    return ";".join(str(part) for part in fields).encode()


def public_key_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def serial_of(public_key: bytes) -> str:
    """The TSE serial: hex SHA-256 of the public key (BSI TR-03153)."""
    return hashlib.sha256(public_key).hexdigest()


def _plain_signature(der: bytes) -> str:
    r, s = decode_dss_signature(der)
    return base64.b64encode(
        r.to_bytes(COORDINATE_BYTES, "big") + s.to_bytes(COORDINATE_BYTES, "big")
    ).decode()


def verify_message(public_key_b64: str, signature_b64: str, message: bytes) -> bool:
    raw = base64.b64decode(signature_b64)
    if len(raw) != 2 * COORDINATE_BYTES:
        return False
    r = int.from_bytes(raw[:COORDINATE_BYTES], "big")
    s = int.from_bytes(raw[COORDINATE_BYTES:], "big")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), base64.b64decode(public_key_b64))
    try:
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def verify(sig: Signature) -> bool:
    """Does this finished transaction's signature verify with its public key (and does the serial match it)?"""
    if sig.algorithm != ALGORITHM or serial_of(base64.b64decode(sig.public_key)) != sig.serial:
        return False
    message = log_message(
        "FinishTransaction",
        sig.serial,
        sig.client_serial,
        sig.tx_number,
        sig.signature_counter,
        int(sig.end.timestamp()),
        sig.process_type,
        sig.process_data,
    )
    return verify_message(sig.public_key, sig.value, message)


def load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The key in `path` (PEM, mode 600); created once, atomically: two processes starting together get one key."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process was first: use its key
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise TseError(
            "The simulated TSE key {path} cannot be read: {error}.", path=str(path), error=exc
        ) from None
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise TseError("The simulated TSE key {path} is not an ECDSA key.", path=str(path))
    return loaded


class SimulatedSigner:
    """The `simulated` back-end. One instance per process; safe to share between threads."""

    name = "simulated"
    remote = False
    test = True

    def __init__(
        self,
        key_path: Path,
        client_serial: str,
        *,
        clock: Callable[[], datetime] | None = None,
        busy_timeout_s: float = 5.0,
    ) -> None:
        self.key_path = key_path
        self.state_path = key_path.with_name(STATE_FILE)
        self.client_serial = client_serial
        self.clock = clock or (lambda: datetime.now(UTC))
        self.busy_timeout_s = busy_timeout_s
        self._key = load_or_create_key(key_path)
        public = public_key_bytes(self._key.public_key())
        self.public_key = base64.b64encode(public).decode()
        self.serial = serial_of(public)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.state_path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a counter handed out survives a power cut
        self._db.executescript(SCHEMA)
        os.chmod(self.state_path, 0o600)

    def __repr__(self) -> str:
        return f"SimulatedSigner(serial={self.serial[:12]}..., client_serial={self.client_serial!r})"

    @contextlib.contextmanager
    def _write(self, deadline: float | None) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken first, so counters are read and bumped atomically."""
        left = remaining(deadline)
        with self._lock:
            busy_ms = int(
                1000 * min(left, self.busy_timeout_s) if left is not None else 1000 * self.busy_timeout_s
            )
            self._db.execute(f"PRAGMA busy_timeout={max(busy_ms, 1)}")
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise TseUnavailable("The simulated TSE is busy: {error}.", error=exc) from None
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _sign(self, message: bytes) -> str:
        return _plain_signature(self._key.sign(message, ec.ECDSA(hashes.SHA256())))

    def _next_counters(self, db: sqlite3.Connection, *, new_tx: bool) -> tuple[int, int]:
        tx_number, counter = db.execute("SELECT tx_number, signature_counter FROM counters").fetchone()
        tx_number += 1 if new_tx else 0
        counter += 1
        db.execute("UPDATE counters SET tx_number = ?, signature_counter = ?", (tx_number, counter))
        return tx_number, counter

    def start(self, tx_id: UUID, at: datetime, *, deadline: float | None = None) -> Started:
        """Start a transaction at `at` (the simulated TSE keeps the caller's clock); a repeated id starts nothing."""
        with self._write(deadline) as db:
            return self._start(db, tx_id, at)

    def finish(
        self,
        tx_id: UUID,
        receipt: FiscalReceipt,
        *,
        at: datetime | None = None,
        deadline: float | None = None,
    ) -> Signature:
        """Finish and sign; finishing an already finished transaction answers its first signature again."""
        with self._write(deadline) as db:
            return self._finish(db, tx_id, receipt, at)

    def start_and_finish(
        self, tx_id: UUID, receipt: FiscalReceipt, *, at: datetime, deadline: float | None = None
    ) -> tuple[Started, Signature]:
        """Both steps in one write transaction: the same numbers and signatures, one disk flush instead of two."""
        with self._write(deadline) as db:
            started = self._start(db, tx_id, at)
            return started, self._finish(db, tx_id, receipt, at)

    def _start(self, db: sqlite3.Connection, tx_id: UUID, at: datetime) -> Started:
        row = db.execute(
            "SELECT tx_number, start_time, start_counter FROM transactions WHERE tx_id = ?", (str(tx_id),)
        ).fetchone()
        if row is not None:
            return Started(tx_id, row[0], datetime.fromtimestamp(row[1], UTC), row[2])
        tx_number, counter = self._next_counters(db, new_tx=True)
        log_time = int(at.timestamp())
        message = log_message(
            "StartTransaction", self.serial, self.client_serial, tx_number, counter, log_time
        )
        db.execute(
            "INSERT INTO transactions (tx_id, tx_number, client_serial, start_time, start_counter, start_signature)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (str(tx_id), tx_number, self.client_serial, log_time, counter, self._sign(message)),
        )
        return Started(tx_id, tx_number, datetime.fromtimestamp(log_time, UTC), counter)

    def _finish(
        self, db: sqlite3.Connection, tx_id: UUID, receipt: FiscalReceipt, at: datetime | None
    ) -> Signature:
        process_data = receipt.process_data()
        row = db.execute(
            "SELECT tx_number, start_time, end_time, end_counter, signature, process_type, process_data,"
            " client_serial FROM transactions WHERE tx_id = ?",
            (str(tx_id),),
        ).fetchone()
        if row is None:
            raise TseError("TSE transaction {tx} was never started.", tx=str(tx_id))
        tx_number, start_time, end_time, end_counter, value, process_type, stored_data, client_serial = row
        if value is None:
            _, end_counter = self._next_counters(db, new_tx=False)
            end_time = max(int((at or self.clock()).timestamp()), start_time)
            process_type, stored_data = PROCESS_TYPE_RECEIPT, process_data
            message = log_message(
                "FinishTransaction",
                self.serial,
                client_serial,
                tx_number,
                end_counter,
                end_time,
                process_type,
                stored_data,
            )
            value = self._sign(message)
            db.execute(
                "UPDATE transactions SET end_time = ?, end_counter = ?, signature = ?, process_type = ?,"
                " process_data = ? WHERE tx_id = ?",
                (end_time, end_counter, value, process_type, stored_data, str(tx_id)),
            )
        elif stored_data != process_data:
            raise TseError("TSE transaction {tx} was already finished with other amounts.", tx=str(tx_id))
        return Signature(
            tx_id=tx_id,
            tx_number=tx_number,
            signature_counter=end_counter,
            start=datetime.fromtimestamp(start_time, UTC),
            end=datetime.fromtimestamp(end_time, UTC),
            serial=self.serial,
            algorithm=ALGORITHM,
            time_format=TIME_FORMAT,
            value=value,
            public_key=self.public_key,
            client_serial=client_serial,
            process_type=process_type,
            process_data=stored_data,
            test=True,
        )

    def start_signature(self, tx_id: UUID) -> tuple[bytes, str]:
        """The signed StartTransaction message of `tx_id` and its signature (for checks and the export)."""
        with self._lock:
            row = self._db.execute(
                "SELECT tx_number, client_serial, start_time, start_counter, start_signature FROM transactions"
                " WHERE tx_id = ?",
                (str(tx_id),),
            ).fetchone()
        if row is None:
            raise TseError("TSE transaction {tx} was never started.", tx=str(tx_id))
        tx_number, client_serial, start_time, counter, value = row
        message = log_message("StartTransaction", self.serial, client_serial, tx_number, counter, start_time)
        return message, value

    def status(self) -> TseStatus:
        with self._lock:
            tx_number, counter = self._db.execute(
                "SELECT tx_number, signature_counter FROM counters"
            ).fetchone()
        return TseStatus(
            signer="simulated",
            reachable=True,
            state="READY",
            serial=self.serial,
            client_serial=self.client_serial,
            algorithm=ALGORITHM,
            signature_counter=counter,
            tx_number=tx_number,
            test=True,
            message="Test-TSE: signatures have no legal value.",
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()
