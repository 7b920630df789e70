"""What a gate keeps between scans: its bounded line to the database, its local copy and queue, online or not.

Used only by pos.services.door. One `GateState` per runtime and gate name:

- Online, a scan runs on a worker thread against the door engine and the gate waits at most
  `[gate] offline_after_ms` for it. No answer in time (or an error) and the gate decides itself, from the code's
  MAC, its local copy and its own queued scans, with the same rules (pos.domain.redemption); the verdict says
  offline. The abandoned attempt is told not to commit (and, should its commit be under way already, the
  upload of the offline verdict settles it: both carry the same scan id).
- Offline, every scan is decided at once and written durably to the queue before the verdict is returned; a
  probe asks the database every second, uploads the queue in scan order when it answers, and only then turns
  the gate online again, so no online scan ever overtakes a queued one.
- Codes that fail the pure checks (shape, check digit, brand, MAC) are answered before anything else, whatever
  the database does; their log line follows in the background.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import make_url

from pos.db import redemption as store
from pos.db.engine import DatabaseError, normalise_url
from pos.db.gate_copy import CopiedEntry, GateCopy, QueuedScan
from pos.db.gate_sync import read_changes
from pos.domain.redemption import PastEntry, Reason, TicketState, decide
from pos.domain.repeat import total_entries
from pos.domain.ticket_code import CodeProblem, parse_code, printable
from pos.runtime import Runtime

log = logging.getLogger("pos.door")
PROBE_SECONDS = 1.0
WORKER_IDLE_SECONDS = 30.0
UPLOAD_BATCH = 200


@dataclass
class _Task:
    run: Callable[[_Task], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None
    abandoned: bool = False
    log_line: store.ScanResult | None = None  # a rejection to log (moved to the queue if never run)


class _Worker:
    """One daemon thread running tasks in order; abandoned, it finishes its task and ends."""

    def __init__(self) -> None:
        self.tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self.abandoned = False
        self.thread = threading.Thread(target=self._loop, name="pos-door-worker", daemon=True)
        self.thread.start()

    def submit(self, run: Callable[[_Task], Any], *, log_line: store.ScanResult | None = None) -> _Task:
        task = _Task(run, log_line=log_line)
        self.tasks.put(task)
        return task

    def abandon(self) -> list[_Task]:
        """Stop taking tasks; the ones not started yet are handed back."""
        self.abandoned = True
        left: list[_Task] = []
        while True:
            try:
                task = self.tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                left.append(task)
        self.tasks.put(None)
        return left

    def finish(self) -> None:
        """End after the tasks already given."""
        self.tasks.put(None)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive() and not self.abandoned

    def _loop(self) -> None:
        while not self.abandoned:
            try:
                task = self.tasks.get(timeout=WORKER_IDLE_SECONDS)
            except queue.Empty:
                self.abandoned = True  # idle: a new worker starts with the next task
                return
            if task is None:
                return
            try:
                task.result = task.run(task)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                task.error = exc
            finally:
                task.done.set()


@dataclass(frozen=True)
class SyncResult:
    full: bool  # the first refresh (or of another database): every ticket
    tickets: int
    entries: int
    seconds: float
    copy_tickets: int  # tickets in the copy afterwards


@dataclass(frozen=True)
class UploadResult:
    recorded: int
    conflicts: int
    duplicates: int
    pending: int  # still queued (the database went away again)


class GateState:
    """See the module docstring. Holds no reference to the runtime: it lives as long as the runtime does."""

    def __init__(self, rt: Runtime, gate: str) -> None:
        self.gate = gate
        self.terminal = rt.terminal
        self.wait_seconds = rt.config.gate.offline_after_ms / 1000
        self.copy_path = rt.config.gate.copy_path(rt.terminal)
        self.database = database_identity(rt.database_url)
        self.engine = store.door_engine(rt.database_url, rt.config.gate.offline_after_ms)
        self.online = True
        self.offline_since: datetime | None = None
        self.last_problem = ""
        self.pending = 0
        self._copy: GateCopy | None = None
        self._lock = threading.RLock()  # offline decisions + queue writes vs. going online again
        self._sync_lock = threading.Lock()
        self._upload_lock = threading.Lock()
        self._worker: _Worker | None = None
        self._probe: threading.Thread | None = None
        self._ping: _Task | None = None
        self._background: threading.Thread | None = None
        self._stop = threading.Event()
        self._recent: dict[int, list[tuple[float, CopiedEntry]]] = {}  # online admissions since the last sync
        if self.copy_path.exists():
            self.pending = self.copy().pending_count()  # a gate that stopped with scans still queued

    def close(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.abandon()
        if self._copy is not None:
            self._copy.close()
        self.engine.dispose()

    # --- the copy ----------------------------------------------------------------------------------------

    def copy(self) -> GateCopy:
        with self._lock:
            if self._copy is None:
                self._copy = GateCopy(self.copy_path, self.database)
            return self._copy

    # --- a scan ------------------------------------------------------------------------------------------

    def scan(
        self, rt: Runtime, scanned: str, at: datetime | None, gate: str
    ) -> tuple[store.ScanResult, bool, bool]:
        """(result, offline, review). Waits at most offline_after_ms for the database."""
        started = time.monotonic()
        at = at or rt.now()
        if at.tzinfo is None:
            raise ValueError("a scan needs an aware time (UTC or with an offset)")
        scan_id = uuid.uuid4().hex
        parsed = parse_code(scanned, rt.config.brand.id, rt.config.brand_secret())
        if parsed.serial is None:
            problem = parsed.problem or CodeProblem.MALFORMED
            result = store.ScanResult(False, problem.value, 0, printable(scanned), at, gate, scan_id=scan_id)
            self._log_later(rt, result)
            return result, not self.online, False
        if self.online:
            task = self._submit(lambda task: self._online_scan(rt, scanned, at, gate, scan_id, task))
            left = self.wait_seconds - (time.monotonic() - started)
            if task.done.wait(max(left, 0.0)):
                if task.error is None:
                    result = task.result
                    self._remember(result)
                    return result, False, False
                if not isinstance(task.error, DatabaseError | store.Abandoned):
                    raise task.error
                self._go_offline(rt, str(task.error))
            else:
                task.abandoned = True
                self._abandon_worker(rt)
                self._go_offline(rt, f"no answer within {rt.config.gate.offline_after_ms} ms")
        return self.decide_offline(rt, parsed.serial, scanned, at, gate, scan_id, record=True)

    def _online_scan(
        self, rt: Runtime, scanned: str, at: datetime, gate: str, scan_id: str, task: _Task
    ) -> store.ScanResult:
        if self.pending:
            self.upload(rt)  # the queue first: no online scan overtakes a scan queued offline
        if task.abandoned:
            raise store.Abandoned()
        return store.redeem(
            rt,
            scanned,
            at=at,
            gate=gate,
            scan_id=scan_id,
            engine=self.engine,
            still_wanted=lambda: not task.abandoned,
        )

    def _remember(self, result: store.ScanResult) -> None:
        if result.accepted and result.ticket_id is not None:
            entry = CopiedEntry(result.at, result.gate, result.scan_id)
            self._recent.setdefault(result.ticket_id, []).append((time.time(), entry))

    def decide_offline(
        self,
        rt: Runtime,
        serial: int,
        scanned: str,
        at: datetime,
        gate: str,
        scan_id: str,
        *,
        record: bool,
    ) -> tuple[store.ScanResult, bool, bool]:
        """The verdict from the copy and this gate's own scans; `record`: queue it durably first."""
        venue = rt.config.venue
        with self._lock:
            copy = self.copy()
            ticket = copy.ticket(serial)
            entries = self._entries(copy, serial)
            past = [PastEntry(e.at, e.gate) for e in entries]
            review = False
            if ticket is None:
                # Sold after the last refresh: genuine by its MAC, so it passes once at this gate, for review.
                review = not past
                latest = max(past, key=lambda e: e.at) if past else None
                result = store.ScanResult(
                    accepted=not past,
                    reason=None if not past else Reason.ALREADY_REDEEMED.value,
                    entry=len(past) + (0 if past else 1),
                    code=scanned,
                    at=at,
                    gate=gate,
                    ticket_id=serial,
                    allowed_entries=1 if past else None,
                    previous_at=latest.at if latest else None,
                    previous_gate=latest.gate if latest else None,
                    scan_id=scan_id,
                )
            else:
                state = TicketState(
                    voided=ticket.voided,
                    valid_from=ticket.valid_from,
                    valid_until=ticket.valid_until,
                    event_date=ticket.event_date,
                    repeat=ticket.repeat,
                    repeat_limit=ticket.repeat_limit,
                    entries=past,
                )
                verdict = decide(state, at, venue.zone, venue.day_start_minutes)
                previous = verdict.previous
                result = store.ScanResult(
                    accepted=verdict.accepted,
                    reason=verdict.reason.value if verdict.reason else None,
                    entry=verdict.entry,
                    code=scanned,
                    at=at,
                    gate=gate,
                    ticket_id=serial,
                    holder=ticket.holder,
                    article=ticket.article,
                    allowed_entries=total_entries(ticket.repeat, ticket.repeat_limit),
                    previous_at=previous.at if previous else None,
                    previous_gate=previous.gate if previous else None,
                    valid_from=ticket.valid_from,
                    valid_until=ticket.valid_until,
                    event_date=ticket.event_date,
                    scan_id=scan_id,
                )
            if record:
                self._enqueue(copy, result, review)
        return result, True, review

    def _entries(self, copy: GateCopy, serial: int) -> list[CopiedEntry]:
        listed = copy.entries(serial)
        known = {e.scan_id for e in listed if e.scan_id}
        for _recorded, entry in self._recent.get(serial, ()):
            if entry.scan_id not in known:
                listed.append(entry)
        return listed

    def _enqueue(self, copy: GateCopy, result: store.ScanResult, review: bool) -> None:
        queued = QueuedScan(
            scan_id=result.scan_id or uuid.uuid4().hex,
            code=result.code,
            serial=result.ticket_id,
            at=result.at,
            gate=result.gate,
            terminal=self.terminal,
            accepted=result.accepted,
            reason=result.reason,
            review=review,
        )
        copy.enqueue(queued, datetime.now(UTC))
        self.pending += 1

    def _log_later(self, rt: Runtime, result: store.ScanResult) -> None:
        """A bad code's log line: in the background when online, in the queue when offline."""
        if self.online:
            engine = self.engine
            self._submit(lambda _task: store.log_rejections(rt, [result], engine=engine), log_line=result)
            return
        with self._lock:
            self._enqueue(self.copy(), result, False)

    def settle(self, rt: Runtime) -> None:
        """Wait (at most offline_after_ms) for background log lines; what is left goes to the queue."""
        worker = self._worker
        if worker is None or not worker.alive:
            return
        marker = worker.submit(lambda _task: None)
        if not marker.done.wait(self.wait_seconds):
            self._abandon_worker(rt)

    # --- the worker and going offline -----------------------------------------------------------------------

    def _submit(self, run: Callable[[_Task], Any], *, log_line: store.ScanResult | None = None) -> _Task:
        with self._lock:
            if self._worker is None or not self._worker.alive:
                self._worker = _Worker()
            return self._worker.submit(run, log_line=log_line)

    def _abandon_worker(self, rt: Runtime) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
            if worker is None:
                return
            for task in worker.abandon():
                task.abandoned = True
                if task.log_line is not None:
                    self._enqueue(self.copy(), task.log_line, False)
                task.error = DatabaseError("The database did not answer in time.")
                task.done.set()

    def _go_offline(self, rt: Runtime, problem: str) -> None:
        with self._lock:
            self.last_problem = problem
            if self.online:
                log.info("gate %s offline: %s", self.gate, problem)
                self.online = False
                self.offline_since = datetime.now(UTC)
            if self._probe is None or not self._probe.is_alive():
                runtime = weakref.ref(rt)
                self._probe = threading.Thread(
                    target=self._probe_loop, args=(runtime,), name="pos-door-probe", daemon=True
                )
                self._probe.start()

    def _probe_loop(self, runtime: weakref.ref[Runtime]) -> None:
        """Every second: does the database answer? Then upload the queue, and only then go online."""
        while not self._stop.is_set():
            time.sleep(PROBE_SECONDS)
            rt = runtime()
            if rt is None:
                return
            if not self._answers(rt):
                continue
            try:
                self.upload(rt)
            except DatabaseError as exc:
                self.last_problem = str(exc)
                continue
            except Exception:  # noqa: BLE001 - the probe must live on; the queue is tried again next second
                log.exception("gate %s: uploading the offline queue failed", self.gate)
                continue
            with self._lock:
                if self.pending == 0:
                    self.online = True
                    self.offline_since = None
                    log.info("gate %s online again", self.gate)
                    return

    def _answers(self, rt: Runtime) -> bool:
        """One ping, bounded; a ping still hanging from before is waited for, not joined by another."""
        if self._ping is None or self._ping.done.is_set():
            worker = _Worker()
            self._ping = worker.submit(lambda _task: store.ping(self.engine))
            worker.finish()  # it ends after this one ping
        if not self._ping.done.wait(self.wait_seconds):
            return False
        return self._ping.error is None

    def bounded(self, rt: Runtime, run: Callable[[], Any]) -> Any:
        """Run a read for the door (its count) with the same bound as a scan; DatabaseError when late."""
        worker = _Worker()
        task = worker.submit(lambda _task: run())
        worker.finish()
        finished = task.done.wait(self.wait_seconds)
        if not finished:
            raise DatabaseError(
                "The database did not answer within {ms} ms.", ms=rt.config.gate.offline_after_ms
            )
        if task.error is not None:
            raise task.error
        return task.result

    # --- refresh and upload ------------------------------------------------------------------------------

    def sync(self, rt: Runtime) -> SyncResult:
        """Bring the copy up to date with the database (only what changed since the last refresh)."""
        with self._sync_lock:
            copy = self.copy()
            started = time.monotonic()
            wall = time.time()
            since = copy.watermark()
            changes = read_changes(rt.engine, since, copy.apply)
            copy.finish_sync(changes.watermark, datetime.fromtimestamp(wall, UTC))
            with self._lock:  # the refresh has these admissions now
                for serial in list(self._recent):
                    kept = [(t, e) for t, e in self._recent[serial] if t >= wall]
                    if kept:
                        self._recent[serial] = kept
                    else:
                        del self._recent[serial]
            tickets, _entries = copy.counts()
            return SyncResult(
                since is None, changes.tickets, changes.entries, time.monotonic() - started, tickets
            )

    def upload(self, rt: Runtime) -> UploadResult:
        """Send the queued scans in scan order; each is recorded once, however often it is sent."""
        recorded = conflicts = duplicates = 0
        with self._upload_lock:
            if not self.copy_path.exists():
                return UploadResult(0, 0, 0, 0)
            copy = self.copy()
            while True:
                batch = copy.pending(UPLOAD_BATCH)
                if not batch:
                    break
                for item in batch:
                    outcome = store.upload_scan(rt, item, engine=self.engine)
                    copy.mark_uploaded(item.scan_id, outcome.value, datetime.now(UTC))
                    with self._lock:
                        self.pending = max(self.pending - 1, 0)
                    if outcome is store.UploadOutcome.CONFLICT:
                        conflicts += 1
                    elif outcome is store.UploadOutcome.DUPLICATE:
                        duplicates += 1
                    else:
                        recorded += 1
            with self._lock:
                self.pending = copy.pending_count()
                pending = self.pending
        return UploadResult(recorded, conflicts, duplicates, pending)

    # --- a long-running gate -----------------------------------------------------------------------------

    def keep_in_sync(self, rt: Runtime) -> Callable[[], None]:
        """Refresh now and every `[gate] sync_seconds` while online, in the background; returns `stop`."""
        stop = threading.Event()
        runtime = weakref.ref(rt)
        every = rt.config.gate.sync_seconds

        def loop() -> None:
            if (
                self.copy_path.exists()
            ):  # a copy refreshed a moment ago (a restarted gate) needs no refresh yet
                synced = self.copy().synced_at()
                if synced is not None:
                    age = (datetime.now(UTC) - synced).total_seconds()
                    stop.wait(max(min(every - age, every), 0))
            while not stop.is_set() and not self._stop.is_set():
                current = runtime()
                if current is None:
                    return
                if self.online:
                    try:
                        if self.pending:
                            self.upload(current)
                        self.sync(current)
                    except DatabaseError as exc:
                        self.last_problem = str(exc)
                    except Exception:  # noqa: BLE001 - a refresh that fails is tried again next time
                        if stop.is_set() or self._stop.is_set():
                            return  # the gate closed its copy under this refresh as it stopped: nothing failed
                        log.exception("gate %s: refreshing the local copy failed", self.gate)
                del current
                stop.wait(every)

        thread = threading.Thread(target=loop, name="pos-door-sync", daemon=True)
        thread.start()
        return stop.set


def database_identity(url: str) -> str:
    """Which database a copy mirrors: its URL without the password."""
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def gate_state(rt: Runtime, gate: str) -> GateState:
    """The runtime's state for this gate (made on first use, closed when the runtime goes away)."""
    states: dict[str, GateState] = rt.__dict__.setdefault("_door_gates", {})
    state = states.get(gate)
    if state is None:
        with _STATES_LOCK:
            state = states.get(gate)
            if state is None:
                state = states[gate] = GateState(rt, gate)
                weakref.finalize(rt, state.close)
    return state


_STATES_LOCK = threading.Lock()
