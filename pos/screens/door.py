"""The door check: scan, and the whole screen turns green (ACCEPT) or red (REJECT) with the reason in words.

The scanner is always listening: its digits and Enter arrive here wherever the focus is (the app's keyboard
wedge routes a scan to `route_scan`; keys typed by hand land in `on_key`, since nothing on this screen takes
the focus). Scans are redeemed one after another in a thread, in the order they came, so the event
loop keeps painting; every verdict stays on screen until the next one. Below it: the running count of
entries and rejections at this gate in the current business day, and the last scans.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import deque
from dataclasses import dataclass

from rich.console import Group
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from pos.errors import PosError
from pos.i18n import N_, Language
from pos.screens.backoffice import BackOfficeScreen
from pos.screens.base import footer
from pos.screens.ticket_detail import TicketDetailScreen
from pos.services.door import DoorVerdict, gate_status, gate_tally, keep_in_sync, scan
from pos.wording import birthday_greeting, door_reason, entry_words, offline_words, reason_name, when_words

log = logging.getLogger("pos.screens.door")
LAST_SCANS = 8  # the box below the verdict shows a header and this many rows
MAX_TYPED = 64


@dataclass
class Tally:
    entries: int = 0
    rejections: int = 0


class DoorScreen(BackOfficeScreen):
    SECTION = "door"  # the app's section keys may leave this screen
    DEFAULT_CSS = """
    DoorScreen #verdict {
        height: 1fr;
        content-align: center middle;
        text-align: center;
        background: $panel;
        color: $text;
    }
    DoorScreen #verdict.accept {
        background: #1e8a2e;
        color: #ffffff;
    }
    DoorScreen #verdict.reject {
        background: #b3141c;
        color: #ffffff;
    }
    DoorScreen #verdict.trouble {
        background: $warning;
        color: $text;
    }
    DoorScreen #tally {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    DoorScreen #typed {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    DoorScreen #scans {
        height: 9;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("f3", "ticket", N_("Ticket"), key_display="F3"),
        Binding("f4", "sound", N_("Sound"), key_display="F4"),
        Binding("escape", "clear_or_back", N_("Back"), key_display="Esc"),
        Binding("backspace", "erase", show=False),
    ]

    def __init__(self, *, gate: str | None = None) -> None:
        super().__init__()
        self.gate_name = gate
        self.typed = ""
        self.tally = Tally()
        self.sound = True
        self.last: DoorVerdict | None = None
        self.recent: deque[DoorVerdict] = deque(maxlen=LAST_SCANS)
        self.in_order = asyncio.Lock()
        self.painted = 0  # verdicts on screen so far (a benchmark and the tests wait on it)
        self.online = True  # the gate's state as last shown
        self.pending = 0
        self.painted_at = 0.0

    @property
    def gate(self) -> str:
        return self.gate_name if self.gate_name is not None else self.rt.config.terminal.gate

    # --- layout -----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.idle_text(), id="verdict")
        yield Static("", id="tally")
        yield Static("", id="scans")
        yield Static("", id="typed")
        yield footer()

    def on_mount(self) -> None:
        self.sub_title = self._("Door check · gate {gate}").format(gate=self.gate)
        self.show_recent()
        self.show_tally()
        self.show_typed()
        self.run_worker(self._count(), group="door", exit_on_error=False)
        # The local copy for offline verdicts: refreshed now and every [gate] sync_seconds, in the background.
        self.stop_sync = keep_in_sync(self.rt, self.app.actor, self.gate)
        self.set_interval(1.0, self.watch_gate)
        self.call_after_refresh(self.settle)

    def settle(self) -> None:
        self.lang.load_date_formats(self.rt.now())  # the verdict lists show times: not on the first scan
        settle_memory()

    def on_unmount(self) -> None:
        stop = getattr(self, "stop_sync", None)
        if stop is not None:
            stop()

    def watch_gate(self) -> None:
        """Offline or back online (the gate turns itself), and how many scans wait for the upload."""
        status = gate_status(self.rt, self.app.actor, self.gate)
        if (status.online, status.pending) != (self.online, self.pending):
            self.online, self.pending = status.online, status.pending
            self.show_tally()

    def idle_text(self) -> Text:
        return Text(self._("Ready: scan a ticket"), style="bold", justify="center")

    # --- the scanner ------------------------------------------------------------------------------------

    def route_scan(self, scanned: str) -> bool:
        """A scan from the app's keyboard wedge: always ours on this screen."""
        self.typed = ""
        self.submit(scanned)
        return True

    def on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            typed, self.typed = self.typed, ""
            if typed:
                self.submit(typed)
            self.show_typed()
        elif event.is_printable and event.character and event.character != " ":
            event.stop()
            if len(self.typed) < MAX_TYPED:
                self.typed += event.character
            self.show_typed()

    def action_erase(self) -> None:
        self.typed = self.typed[:-1]
        self.show_typed()

    def action_clear_or_back(self) -> None:
        if self.typed:
            self.typed = ""
            self.show_typed()
        else:
            self.action_back()

    def submit(self, scanned: str) -> None:
        self.run_worker(self._redeem(scanned), group="door", exit_on_error=False)

    async def _redeem(self, scanned: str) -> None:
        """One scan at a time, in the order they came (the lock is FIFO): 'entry' before 'already used'."""
        async with self.in_order:
            try:
                verdict = await asyncio.to_thread(scan, self.rt, self.app.actor, scanned, gate=self.gate)
            except PosError as exc:
                self.show_trouble(exc.in_language(self.lang))
                return
            except Exception as exc:  # noqa: BLE001 - the steward gets a sentence, the log the details
                log.exception("door scan failed")
                self.show_trouble(f"{type(exc).__name__}: {exc}")
                return
            if verdict.reason in ("offline", "error"):
                self.show_trouble(reason_name(self.lang, verdict.reason))
            else:
                self.show_scan(verdict)

    # --- painting ---------------------------------------------------------------------------------------

    def show_scan(self, verdict: DoorVerdict) -> None:
        self.last = verdict
        if verdict.offline:
            self.online = False
        if verdict.accepted:
            self.tally.entries += 1
        else:
            self.tally.rejections += 1
            if self.sound:
                self.app.bell()
        box = self.query_one("#verdict", Static)
        # Fixed sizes: no layout pass, only a repaint, so the verdict shows within one frame.
        box.update(
            verdict_renderable(self.lang, verdict, self.rt.config.venue.day_start_minutes), layout=False
        )
        box.set_classes("accept" if verdict.accepted else "reject")
        self.recent.appendleft(verdict)
        self.show_tally()
        self.show_recent()
        self.call_after_refresh(self._painted)

    def _painted(self) -> None:
        self.painted += 1
        self.painted_at = time.perf_counter()

    def show_trouble(self, message: str) -> None:
        """Neither accept nor reject: the scan could not be checked (the database is away)."""
        self.app.bell()
        verdict = self.query_one("#verdict", Static)
        verdict.update(
            Group(
                Text(spaced(self._("NOT CHECKED")), style="bold", justify="center"),
                Text(""),
                Text(message, justify="center"),
                Text(self._("Scan the ticket again."), justify="center"),
            )
        )
        verdict.set_classes("trouble")
        self.call_after_refresh(self._painted)

    async def _count(self) -> None:
        """The day's count so far at this gate; scans made meanwhile wait for it (same lock), so none is lost."""
        async with self.in_order:
            try:
                counts = await asyncio.to_thread(gate_tally, self.rt, self.app.actor, self.gate)
            except PosError as exc:
                self.show_error(exc)
                return
            self.tally = Tally(counts.entries, counts.rejections)
            self.show_tally()

    def show_tally(self) -> None:
        text = self._("Entries: {entries}    Rejections: {rejections}    Gate: {gate}").format(
            entries=self.tally.entries, rejections=self.tally.rejections, gate=self.gate
        )
        sound = self._("sound on") if self.sound else self._("sound off")
        line = Text(f"{text}    ({sound})")
        if not self.online:
            line.append("    ")
            line.append(self._("OFFLINE: {n} scans to upload").format(n=self.pending), style="bold reverse")
        self.query_one("#tally", Static).update(line, layout=False)

    def show_typed(self) -> None:
        if self.typed:
            line = self._("Code: {typed}_").format(typed=self.typed)
        else:
            line = self._("Scan a ticket, or type its code and press Enter.")
        self.query_one("#typed", Static).update(line, layout=False)

    def on_resize(self, event: events.Resize) -> None:
        self.show_recent()

    def show_recent(self) -> None:
        """The last scans in fixed-width columns, as plain lines: cheap to paint, no layout pass."""
        _ = self._
        width = max(self.query_one("#scans", Static).content_region.width, 40)
        header = (_("Time"), _("Result"), _("Entry or reason"), _("Holder"), _("Article"))
        widths = column_widths(width, max(len(_("ACCEPT")), len(_("REJECT")), len(header[1])))
        rows = [header_line(header, widths)]
        for verdict in self.recent:
            if verdict.accepted:
                mark, style = _("ACCEPT"), "bold green"
                detail = entry_words(self.lang, verdict.entry, verdict.allowed_entries)
            else:
                mark, style = _("REJECT"), "bold red"
                detail = door_reason(self.lang, verdict, self.rt.config.venue.day_start_minutes)
            cells = (
                self.lang.time(verdict.at, "medium"),
                mark,
                detail,
                verdict.shown_holder or "",
                verdict.article or "",
            )
            rows.append(scan_line(cells, widths, style))
        self.query_one("#scans", Static).update(Text("\n").join(rows), layout=False)

    # --- actions ----------------------------------------------------------------------------------------

    def action_sound(self) -> None:
        self.sound = not self.sound
        self.show_tally()

    def action_ticket(self) -> None:
        if self.last is None or self.last.ticket_id is None:
            self.app.bell()
            return
        self.app.push_screen(TicketDetailScreen(self.last.code))


# --- the last scans -----------------------------------------------------------------------------------

TIME_WIDTH = 8
Widths = tuple[int, int, int, int, int]


def column_widths(width: int, mark_width: int) -> Widths:
    """Time and result as wide as their words; the rest shared 3:2:2 between reason, holder and article."""
    rest = max(width - TIME_WIDTH - mark_width - 4, 12)
    detail = rest * 3 // 7
    holder = rest * 2 // 7
    return TIME_WIDTH, mark_width, detail, holder, rest - detail - holder


def fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: max(width - 1, 0)] + "…"


def header_line(cells: tuple[str, ...], widths: Widths) -> Text:
    return Text(" ".join(fit(c, w) for c, w in zip(cells, widths, strict=True)), style="bold")


def scan_line(cells: tuple[str, ...], widths: Widths, mark_style: str) -> Text:
    line = Text(fit(cells[0], widths[0]) + " ")
    line.append(fit(cells[1], widths[1]), style=mark_style)
    line.append(" " + " ".join(fit(c, w) for c, w in zip(cells[2:], widths[2:], strict=True)))
    return line


# --- the verdict ----------------------------------------------------------------------------------------


def verdict_renderable(lang: Language, verdict: DoorVerdict, day_start_minutes: int) -> Group:
    _ = lang._
    lines = []
    if verdict.accepted:
        lines.append(Text(spaced(_("ACCEPT")), style="bold"))
        entry = entry_words(lang, verdict.entry, verdict.allowed_entries)
        if entry:
            lines.append(Text(entry, style="bold"))
    else:
        lines.append(Text(spaced(_("REJECT")), style="bold"))
        lines.append(Text(door_reason(lang, verdict, day_start_minutes), style="bold"))
    holder = verdict.shown_holder
    if holder:
        lines.append(Text(holder))
    if verdict.article:
        lines.append(Text(verdict.article))
    event = event_words(lang, verdict)
    if event:
        lines.append(Text(event))
    if verdict.birthday:
        lines.append(Text(birthday_greeting(lang, holder), style="bold reverse"))
    if verdict.offline:
        lines.append(Text(offline_words(lang, review=verdict.review), style="bold"))
    lines.append(Text(verdict.code, style="dim"))
    spaced_lines: list[Text] = []
    for line in lines:
        line.justify = "center"
        spaced_lines.extend([line, Text("")])
    return Group(*spaced_lines[:-1])


def event_words(lang: Language, verdict: DoorVerdict) -> str:
    """The event's day and start: '31 Dec 2026', '31 Dec 2026 20:00', or nothing for a ticket without one."""
    if verdict.starts_at is not None:
        return when_words(lang, verdict.starts_at)
    if verdict.event_date is not None:
        return lang.date(verdict.event_date)
    return ""


def spaced(word: str) -> str:
    """Letter-spaced, so the verdict word reads from across the room."""
    return " ".join(word)


def settle_memory() -> None:
    """Once the door screen is up: what the app has loaded so far lives as long as the app, so it leaves the
    garbage collector's generations (gc.freeze). A full collection then no longer walks it in the middle of a
    scan: the slowest verdicts at the door were such pauses, not the database."""
    gc.collect()
    gc.freeze()
