"""The signer interface the journal calls, and the outage rule: a sale never waits longer than the budget.

A journal line is one TSE transaction: `start` when the use case begins, `finish` with the amounts per VAT rate
and per tender. Transaction ids are chosen by the caller (a UUID stored with the journal line before the call),
so a repeated call with the same id never signs twice: both back-ends answer a repeat with the first result.
"""

from __future__ import annotations

import concurrent.futures
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

from pos.domain.fiscal import FiscalReceipt, FiscalResult, Outage, Signature, Started, TseStatus
from pos.errors import PosError

log = logging.getLogger(__name__)


class TseError(PosError):
    """The TSE refused a request or could not be reached; the sale goes on as an outage."""


class TseUnavailable(TseError):
    """The TSE did not answer (connection refused or dropped, time budget spent)."""


@runtime_checkable
class Signer(Protocol):
    """A technical security element (TSE) as the journal sees it.

    `deadline` is a `time.monotonic()` instant: a call gives up with TseUnavailable when it is reached.
    """

    name: str  # "fiskaly" | "simulated"
    remote: bool  # True when a call crosses the network (run under a hard time cap)
    test: bool  # True for the simulated Test-TSE

    def start(self, tx_id: UUID, at: datetime, *, deadline: float | None = None) -> Started: ...

    def finish(
        self,
        tx_id: UUID,
        receipt: FiscalReceipt,
        *,
        at: datetime | None = None,
        deadline: float | None = None,
    ) -> Signature: ...

    def status(self) -> TseStatus: ...

    def close(self) -> None: ...


def remaining(deadline: float | None) -> float | None:
    """Seconds left until `deadline`; raises TseUnavailable once it has passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TseUnavailable("The TSE did not answer in time.")
    return left


_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="tse")
    return _pool


def sign(
    signer: Signer,
    tx_id: UUID,
    receipt: FiscalReceipt,
    *,
    at: datetime,
    timeout_ms: int,
    clock: Callable[[], datetime] | None = None,
) -> FiscalResult:
    """Start and finish one TSE transaction within `timeout_ms`, or say why not (an Outage) - never raise.

    A remote signer runs in a worker thread that is abandoned when the budget is spent (its own timeouts end
    it soon after); the caller is back within the budget either way. A local signer runs inline.
    """
    began = time.monotonic()
    deadline = began + timeout_ms / 1000
    now = clock or (lambda: datetime.now(UTC))
    started: list[Started] = []

    def run() -> Signature:
        both = getattr(signer, "start_and_finish", None)
        if both is not None:  # a local TSE does both steps in one durable write
            first, signature = both(tx_id, receipt, at=at, deadline=deadline)
            started.append(first)
            return signature  # type: ignore[no-any-return]
        started.append(signer.start(tx_id, at, deadline=deadline))
        return signer.finish(tx_id, receipt, deadline=deadline)

    try:
        if not signer.remote:
            return run()
        future = _executor().submit(run)
        try:
            return future.result(timeout=max(deadline - time.monotonic(), 0))
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TseUnavailable("The TSE did not answer within {ms} ms.", ms=timeout_ms) from None
    except PosError as error:
        reason = str(error)
    except Exception as error:  # an outage must never stop a sale, whatever the client library raised
        log.exception("TSE signing failed")
        reason = f"{type(error).__name__}: {error}"
    log.warning("TSE outage for transaction %s: %s", tx_id, reason)
    return Outage(tx_id=tx_id, reason=reason, at=now(), started=started[0] if started else None)
