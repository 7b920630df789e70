"""A local stand-in for fiskaly's SIGN DE v2 API, on 127.0.0.1, following its public documentation.

What it does like the real service: `POST /auth` trades the API key and secret (or a refresh token) for a
bearer token that expires; `PUT /tss/{tss}/tx/{tx}?tx_revision=N` starts (ACTIVE) and finishes (FINISHED) a
transaction whose id the client chose, revision by revision; the TSS numbers transactions and counts every
signed log message; `GET` reads a transaction or the TSS back; errors are `{status_code, error, code, message}`
with 401 (no or an expired token), 404 (unknown TSS, client or transaction), 409 (a revision that is not the
next one) and 400 (a bad body).

Switches for the tests: `drop` (close the connection without an answer, before or after the request took
effect), `delay_s` (answer slowly), `stop()` (be down: connections are refused). It keeps every request and
counts signatures, so a test can tell that a retry did not sign twice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

API_KEY = "test_api_key_0123456789"
API_SECRET = "test_api_secret_0123456789"
PREFIX = "/api/v2"
# The documented order of the five VAT slots in the receipt string, and the payment type names.
VAT_RATES = ("NORMAL", "REDUCED_1", "SPECIAL_RATE_1", "SPECIAL_RATE_2", "NULL")
PAYMENT_NAMES = {"CASH": "Bar", "NON_CASH": "Unbar"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Drop:
    """Close the connection of the next matching request without an answer."""

    method: str
    path_part: str
    after: bool  # True: the request took effect first (the answer is lost); False: it never arrived
    times: int = 1
    revision: str | None = None  # only requests with this tx_revision


@dataclass
class FakeFiskaly:
    token_lifetime_s: float = 3600.0
    delay_s: float = 0.0
    repeat_answer: str = "conflict"  # a repeated revision: "conflict" (409) or "idempotent" (200, same body)
    tss_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_serial: str = "KASSE-TEST-1"
    requests: list[Request] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)
    signatures: int = 0  # signed log messages (start and finish each sign)
    finished: int = 0

    def __post_init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.public_key = base64.b64encode(public).decode()
        self.serial = hashlib.sha256(public).hexdigest()
        self.tokens: dict[str, float] = {}  # token -> expiry (time.monotonic)
        self.refresh_tokens: set[str] = set()
        self.transactions: dict[str, dict[str, Any]] = {}
        self.tx_counter = 0
        self.down = False
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_PUT(self) -> None:
                fake._handle(self, "PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    def stop(self) -> None:
        """Be down: the listening socket goes away, connections are refused, open ones are dropped."""
        self.down = True
        self.server.shutdown()
        self.server.server_close()

    def expire_tokens(self) -> None:
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = 0.0

    def paths(self) -> list[str]:
        return [
            f"{r.method} {r.path.removeprefix(PREFIX)}" + (f"?{_q(r.query)}" if r.query else "")
            for r in self.requests
        ]

    # --- request handling -----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        with self.lock:
            self.requests.append(Request(method, url.path, query, body))
            drop = self._take_drop(method, url.path, query.get("tx_revision"))
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.down or (drop is not None and not drop.after):
            return self._drop(handler)
        with self.lock:
            status, answer = self._route(
                method, url.path, query, body, handler.headers.get("Authorization", "")
            )
        if drop is not None:
            return self._drop(handler)
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _take_drop(self, method: str, path: str, revision: str | None) -> Drop | None:
        for drop in self.drops:
            if drop.revision not in (None, revision):
                continue
            if drop.times > 0 and drop.method == method and drop.path_part in path:
                drop.times -= 1
                return drop
        return None

    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        connection = handler.connection
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        connection.close()

    def _route(self, method: str, path: str, query: dict[str, str], body: Any, auth: str) -> tuple[int, Any]:
        if not path.startswith(PREFIX):
            return _error(404, "E_NOT_FOUND", "no such endpoint")
        parts = path.removeprefix(PREFIX).strip("/").split("/")
        if method == "POST" and parts == ["auth"]:
            return self._auth(body)
        token = auth.removeprefix("Bearer ")
        if self.tokens.get(token, 0.0) <= time.monotonic():
            return _error(401, "E_UNAUTHORIZED", "missing or expired access token")
        if len(parts) >= 2 and parts[0] == "tss" and parts[1] != self.tss_id:
            return _error(404, "E_TSS_NOT_FOUND", "TSS not found")
        if method == "GET" and len(parts) == 2:
            return 200, self._tss()
        if len(parts) == 4 and parts[2] == "tx":
            if method == "GET":
                tx = self.transactions.get(parts[3])
                return (200, tx) if tx else _error(404, "E_TX_NOT_FOUND", "transaction not found")
            if method == "PUT":
                return self._upsert(parts[3], query, body)
        return _error(404, "E_NOT_FOUND", "no such endpoint")

    def _auth(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return _error(400, "E_BAD_REQUEST", "body must be JSON")
        if "refresh_token" in body:
            if body["refresh_token"] not in self.refresh_tokens:
                return _error(401, "E_UNAUTHORIZED", "invalid refresh token")
            self.refresh_tokens.discard(body["refresh_token"])
        elif body.get("api_key") != API_KEY or body.get("api_secret") != API_SECRET:
            return _error(401, "E_UNAUTHORIZED", "invalid API key or secret")
        token, refresh = uuid.uuid4().hex, uuid.uuid4().hex
        self.tokens[token] = time.monotonic() + self.token_lifetime_s
        self.refresh_tokens.add(refresh)
        return 200, {
            "access_token": token,
            "access_token_expires_in": self.token_lifetime_s,
            "access_token_expires_at": int(time.time() + self.token_lifetime_s),
            "refresh_token": refresh,
            "refresh_token_expires_in": 7200,
        }

    def _tss(self) -> dict[str, Any]:
        return {
            "_id": self.tss_id,
            "state": "INITIALIZED",
            "serial_number": self.serial,
            "public_key": self.public_key,
            "signature_algorithm": "ecdsa-plain-SHA256",
            "signature_timestamp_format": "unixTime",
            "signature_counter": str(self.signatures),
            "transaction_counter": str(self.tx_counter),
        }

    def _sign(self, message: str) -> dict[str, Any]:
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        self.signatures += 1
        r, s = decode_dss_signature(self.key.sign(message.encode(), ec.ECDSA(hashes.SHA256())))
        return {
            "value": base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode(),
            "algorithm": "ecdsa-plain-SHA256",
            "counter": self.signatures,
            "public_key": self.public_key,
        }

    def _upsert(self, tx_id: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        try:
            revision = int(query["tx_revision"])
            uuid.UUID(tx_id)
        except (KeyError, ValueError):
            return _error(400, "E_BAD_REQUEST", "tx_revision and a UUID tx id are required")
        if not isinstance(body, dict) or body.get("state") not in ("ACTIVE", "FINISHED", "CANCELLED"):
            return _error(400, "E_BAD_REQUEST", "state must be ACTIVE, FINISHED or CANCELLED")
        if body.get("client_id") != self.client_id:
            return _error(404, "E_CLIENT_NOT_FOUND", "client not found")
        tx = self.transactions.get(tx_id)
        latest = tx["latest_revision"] if tx else 0
        if revision <= latest:
            if self.repeat_answer == "idempotent" and tx is not None:
                return 200, tx
            return _error(409, "E_TX_REVISION_CONFLICT", f"transaction is already at revision {latest}")
        if revision != latest + 1:
            return _error(409, "E_TX_REVISION_CONFLICT", f"next revision is {latest + 1}")
        now = int(time.time())
        if tx is None:
            if body["state"] != "ACTIVE":
                return _error(400, "E_TX_ILLEGAL_STATE", "a transaction starts ACTIVE")
            self.tx_counter += 1
            tx = {
                "_id": tx_id,
                "_type": "TRANSACTION",
                "_env": "TEST",
                "tss_id": self.tss_id,
                "client_id": self.client_id,
                "client_serial_number": self.client_serial,
                "tss_serial_number": self.serial,
                "number": self.tx_counter,
                "state": "ACTIVE",
                "revision": 1,
                "latest_revision": 1,
                "time_start": now,
                "schema": {"raw": {"process_type": "", "process_data": ""}},
            }
            tx["signature"] = self._sign(f"start;{tx_id};{tx['number']}")
            tx["log"] = {"operation": "Start", "timestamp": now, "timestamp_format": "unixTime"}
            self.transactions[tx_id] = tx
            return 200, tx
        if tx["state"] != "ACTIVE":
            return _error(400, "E_TX_ILLEGAL_STATE", f"transaction is {tx['state']}")
        if body["state"] == "FINISHED":
            try:
                receipt = body["schema"]["standard_v1"]["receipt"]
                process_data = _process_data(receipt)
            except (KeyError, TypeError, ValueError) as exc:
                return _error(400, "E_BAD_REQUEST", f"bad receipt schema: {exc}")
            tx["schema"] = {
                "standard_v1": {"receipt": receipt},
                "raw": {
                    "process_type": "Kassenbeleg-V1",
                    "process_data": base64.b64encode(process_data.encode()).decode(),
                },
            }
            tx["time_end"] = now
            tx["signature"] = self._sign(f"finish;{tx_id};{process_data}")
            tx["log"] = {"operation": "Finish", "timestamp": now, "timestamp_format": "unixTime"}
            tx["qr_code_data"] = ";".join(
                str(part)
                for part in (
                    "V0",
                    self.client_serial,
                    "Kassenbeleg-V1",
                    process_data,
                    tx["number"],
                    tx["signature"]["counter"],
                    _iso(tx["time_start"]),
                    _iso(now),
                    "ecdsa-plain-SHA256",
                    "unixTime",
                    tx["signature"]["value"],
                    self.public_key,
                )
            )
            self.finished += 1
        tx["state"] = body["state"]
        tx["revision"] = tx["latest_revision"] = revision
        return 200, tx


def _process_data(receipt: dict[str, Any]) -> str:
    """The DSFinV-K receipt string the TSS builds from the standard_v1 receipt (so tests can compare)."""
    gross = dict.fromkeys(VAT_RATES, "0.00")
    for item in receipt["amounts_per_vat_rate"]:
        if item["vat_rate"] not in gross:
            raise ValueError(f"unknown vat_rate {item['vat_rate']!r}")
        gross[item["vat_rate"]] = item["amount"]
    payments = "_".join(
        f"{item['amount']}:{PAYMENT_NAMES[item['payment_type']]}"
        for item in receipt["amounts_per_payment_type"]
    )
    kind = {"RECEIPT": "Beleg", "TRAINING": "AVTraining"}.get(receipt["receipt_type"], "AVSonstige")
    return f"{kind}^{'_'.join(gross[rate] for rate in VAT_RATES)}^{payments}"


def _iso(unix: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(unix))


def _q(query: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in query.items())


def _error(status: int, code: str, message: str) -> tuple[int, Any]:
    names = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict"}
    return status, {
        "status_code": status,
        "error": names.get(status, "Error"),
        "code": code,
        "message": message,
    }
