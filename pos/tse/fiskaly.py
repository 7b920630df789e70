"""The `fiskaly` back-end: fiskaly's cloud TSE "SIGN DE" (API v2) over HTTPS with httpx.

The calls, as the public API documentation describes them:
- `POST /auth` with `api_key` and `api_secret` answers an `access_token` (a bearer token) with its lifetime
  (`access_token_expires_in` seconds, `access_token_expires_at` unix time) and a `refresh_token`; the token is
  renewed shortly before it runs out (`POST /auth` with the `refresh_token`, or the key again), and once more
  when a request is answered 401.
- `PUT /tss/{tss_id}/tx/{tx_id}?tx_revision=1` with `{"state": "ACTIVE", "client_id": ...}` starts a transaction;
  `?tx_revision=2` with `{"state": "FINISHED", "client_id": ..., "schema": {"standard_v1": {"receipt": ...}}}`
  finishes it. The answer carries `number`, `time_start`, `time_end` (unix seconds), `tss_serial_number`,
  `client_serial_number`, `signature` {`value`, `counter`, `algorithm`, `public_key`}, `log.timestamp_format`
  and `qr_code_data`.
- `GET /tss/{tss_id}/tx/{tx_id}` reads a transaction back; `GET /tss/{tss_id}` reads the TSS (its `state`).
- Errors are JSON `{status_code, error, code, message}`.

The transaction id is ours (a UUID stored with the journal line before the call) and every write is a PUT of
an explicit revision, so repeating a request after a lost answer cannot sign twice: a connection error is
retried with the same id and revision. When fiskaly answers a repeat with a conflict ("already at this
revision"), the transaction is read back and its state at that revision is the answer.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx

from pos.domain.fiscal import PROCESS_TYPE_RECEIPT, FiscalReceipt, Signature, Started, TseStatus
from pos.tse.signer import TseError, TseUnavailable, remaining

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://kassensichv-middleware.fiskaly.com/api/v2"
RETRIES = 3  # further attempts after a connection error or a 5xx answer, within the time budget
BACKOFF_S = 0.05  # doubled per attempt
REFRESH_MARGIN_S = 30.0  # renew the token this long before it expires (a tenth of its life when shorter)


def _int(value: Any) -> int:
    return int(value) if value is not None and value != "" else 0


def _unix(value: Any) -> datetime:
    return datetime.fromtimestamp(_int(value), UTC)


class FiskalySigner:
    """The `fiskaly` back-end; one instance per process, safe to share between threads."""

    name = "fiskaly"
    remote = True
    test = False

    def __init__(
        self,
        *,
        api_key: str,
        api_secret: str,
        tss_id: str,
        client_id: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 3.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.tss_id = tss_id
        self.client_id = client_id
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._api_key = api_key
        self._api_secret = api_secret
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout_s,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "pos-box-office"},
        )
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_renew_at = 0.0  # time.monotonic()
        self._refresh_token: str | None = None

    def __repr__(self) -> str:  # never the key or the secret
        return (
            f"FiskalySigner(base_url={self.base_url!r}, tss_id={self.tss_id!r}, client_id={self.client_id!r})"
        )

    # --- authentication ---------------------------------------------------------------------------------

    def _access_token(self, deadline: float | None) -> str:
        with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_renew_at:
                self._authenticate(deadline)
            assert self._token is not None
            return self._token

    def _authenticate(self, deadline: float | None) -> None:
        body: dict[str, str] | None = None
        if self._refresh_token and self._token is not None:
            body = {"refresh_token": self._refresh_token}
            response = self._send("POST", "/auth", json=body, deadline=deadline, authorized=False)
            if response.status_code == 200:
                self._keep_token(response)
                return
        body = {"api_key": self._api_key, "api_secret": self._api_secret}
        response = self._send("POST", "/auth", json=body, deadline=deadline, authorized=False)
        if response.status_code != 200:
            self._token = None
            raise TseError("fiskaly refused the API key: {message}", message=_message(response))
        self._keep_token(response)

    def _keep_token(self, response: httpx.Response) -> None:
        data = response.json()
        lifetime = float(data.get("access_token_expires_in") or 0)
        if not lifetime and data.get("access_token_expires_at"):
            lifetime = float(data["access_token_expires_at"]) - time.time()
        lifetime = max(lifetime, 1.0)
        self._token = data["access_token"]
        self._refresh_token = data.get("refresh_token")
        self._token_renew_at = time.monotonic() + lifetime - min(REFRESH_MARGIN_S, lifetime / 10)

    def _forget_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token = None
                self._refresh_token = None

    # --- HTTP with budget and retries -------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        deadline: float | None,
        authorized: bool = True,
    ) -> httpx.Response:
        """One request, repeated unchanged after a connection error or a 5xx, within `deadline`."""
        attempt = 0
        renewed = False
        while True:
            left = remaining(deadline)
            timeout = self.timeout_s if left is None else min(left, self.timeout_s)
            headers = {}
            token = ""
            if authorized:
                token = self._access_token(deadline)
                headers["Authorization"] = f"Bearer {token}"
            try:
                response = self._http.request(
                    method, path, params=params, json=json, headers=headers, timeout=timeout
                )
            except httpx.TimeoutException:
                raise TseUnavailable(
                    "fiskaly did not answer within {seconds:.1f} s.", seconds=timeout
                ) from None
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if response.status_code == 401 and authorized and not renewed:
                    self._forget_token(token)
                    renewed = True
                    continue
                if response.status_code < 500 and response.status_code != 429:
                    return response
                failure = f"HTTP {response.status_code}: {_message(response)}"
            attempt += 1
            if attempt > RETRIES:
                raise TseUnavailable("fiskaly cannot be reached: {error}.", error=failure)
            log.info(
                "fiskaly %s %s failed (%s); attempt %d of %d", method, path, failure, attempt + 1, RETRIES + 1
            )
            pause = BACKOFF_S * 2 ** (attempt - 1)
            left = remaining(deadline)
            time.sleep(pause if left is None else min(pause, left))

    def _put_revision(
        self, tx_id: UUID, revision: int, body: dict[str, Any], deadline: float | None
    ) -> dict[str, Any]:
        path = f"/tss/{self.tss_id}/tx/{tx_id}"
        response = self._send("PUT", path, params={"tx_revision": revision}, json=body, deadline=deadline)
        if response.status_code == 200:
            data: dict[str, Any] = response.json()
            return data
        if response.status_code == 409:
            # A repeat of a revision that already went through (its first answer was lost): read it back.
            current = self._send("GET", path, deadline=deadline)
            if current.status_code == 200:
                data = current.json()
                reached = _int(data.get("latest_revision") or data.get("revision"))
                if reached >= revision and data.get("state") in (body["state"], "FINISHED"):
                    return data
        raise TseError(
            "fiskaly refused transaction {tx} (revision {revision}): {message}",
            tx=str(tx_id),
            revision=revision,
            message=_message(response),
        )

    # --- the Signer interface ---------------------------------------------------------------------------

    def start(self, tx_id: UUID, at: datetime, *, deadline: float | None = None) -> Started:
        """Revision 1, state ACTIVE. `at` is not sent: the TSE keeps its own time (`time_start`)."""
        data = self._put_revision(tx_id, 1, {"state": "ACTIVE", "client_id": self.client_id}, deadline)
        signature = data.get("signature") or {}
        counter = signature.get("counter") if data.get("state") == "ACTIVE" else None
        return Started(tx_id, _int(data.get("number")), _unix(data.get("time_start")), _int(counter) or None)

    def finish(
        self,
        tx_id: UUID,
        receipt: FiscalReceipt,
        *,
        at: datetime | None = None,
        deadline: float | None = None,
    ) -> Signature:
        """Revision 2, state FINISHED with the receipt schema; the answer is the signature."""
        body = {"state": "FINISHED", "client_id": self.client_id, "schema": receipt.fiskaly_schema()}
        data = self._put_revision(tx_id, 2, body, deadline)
        if data.get("state") != "FINISHED":
            raise TseError("fiskaly did not finish transaction {tx}.", tx=str(tx_id))
        return self._signature(tx_id, data, receipt)

    def _signature(self, tx_id: UUID, data: dict[str, Any], receipt: FiscalReceipt) -> Signature:
        signature = data.get("signature") or {}
        raw = ((data.get("schema") or {}).get("raw")) or {}
        process_type = raw.get("process_type") or PROCESS_TYPE_RECEIPT
        process_data = receipt.process_data()
        if raw.get("process_data"):
            process_data = base64.b64decode(raw["process_data"]).decode("utf-8")
        if not signature.get("value"):
            raise TseError("fiskaly's answer for transaction {tx} holds no signature.", tx=str(tx_id))
        return Signature(
            tx_id=tx_id,
            tx_number=_int(data.get("number")),
            signature_counter=_int(signature.get("counter")),
            start=_unix(data.get("time_start")),
            end=_unix(data.get("time_end")),
            serial=str(data.get("tss_serial_number") or ""),
            algorithm=str(signature.get("algorithm") or ""),
            time_format=str((data.get("log") or {}).get("timestamp_format") or "unixTime"),
            value=str(signature["value"]),
            public_key=str(signature.get("public_key") or ""),
            client_serial=str(data.get("client_serial_number") or self.client_id),
            process_type=process_type,
            process_data=process_data,
            test=False,
            qr=str(data.get("qr_code_data") or ""),
        )

    def status(self) -> TseStatus:
        try:
            response = self._send("GET", f"/tss/{self.tss_id}", deadline=time.monotonic() + self.timeout_s)
        except TseError as error:
            return TseStatus(signer="fiskaly", reachable=False, state="UNREACHABLE", message=str(error))
        if response.status_code != 200:
            return TseStatus(signer="fiskaly", reachable=True, state="ERROR", message=_message(response))
        data = response.json()
        return TseStatus(
            signer="fiskaly",
            reachable=True,
            state=str(data.get("state") or "UNKNOWN"),
            serial=data.get("serial_number"),
            algorithm=data.get("signature_algorithm"),
            signature_counter=_int(data.get("signature_counter")) if "signature_counter" in data else None,
            tx_number=_int(data.get("transaction_counter")) if "transaction_counter" in data else None,
        )

    def close(self) -> None:
        self._http.close()


def _message(response: httpx.Response) -> str:
    """fiskaly's error text (`message`, else `error`), else the status line."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        text = data.get("message") or data.get("error")
        if text:
            return f"{text} ({data.get('code') or response.status_code})"
    return f"HTTP {response.status_code}"
