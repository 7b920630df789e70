"""The door check: scan, and the whole screen turns green (ACCEPT) or red (REJECT) with the reason in words.

The scanner is always listening: its digits and Enter arrive here wherever the focus is (the app's keyboard
wedge routes a scan to `route_scan`; keys typed by hand land in `on_key`, since nothing on this screen takes
the focus). Scans are redeemed one after another in a thread, in the order they came, so the event
loop keeps painting; every verdict stays on screen until the next one. Below it: the running count of
entries and rejections at this gate in the current business day, and the last scans.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from rich.console import Group
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from pos.db.backoffice import DoorScan, door_scan, gate_counts
from pos.domain.clock import business_day
from pos.errors import PosError
from pos.i18n import N_, Language
from pos.screens.backoffice import BackOfficeScreen
from pos.screens.base import footer

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
        self.last: DoorScan | None = None
        self.recent: deque[DoorScan] = deque(maxlen=LAST_SCANS)
        self.in_order = asyncio.Lock()
        self.painted = 0  # verdicts on screen so far (a benchmark and the tests wait on it)
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
                scan = await asyncio.to_thread(door_scan, self.rt, scanned, gate=self.gate)
            except PosError as exc:
                self.show_trouble(str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - the steward gets a sentence, the log the details
                log.exception("door scan failed")
                self.show_trouble(f"{type(exc).__name__}: {exc}")
                return
            self.show_scan(scan)

    # --- painting ---------------------------------------------------------------------------------------

    def show_scan(self, scan: DoorScan) -> None:
        result = scan.result
        self.last = scan
        if result.accepted:
            self.tally.entries += 1
        else:
            self.tally.rejections += 1
            if self.sound:
                self.app.bell()
        verdict = self.query_one("#verdict", Static)
        # Fixed sizes: no layout pass, only a repaint, so the verdict shows within one frame.
        verdict.update(
            verdict_renderable(self.lang, scan, self.rt.config.venue.day_start_minutes), layout=False
        )
        verdict.set_classes("accept" if result.accepted else "reject")
        self.recent.appendleft(scan)
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
                counts = await asyncio.to_thread(gate_counts, self.rt, self.gate)
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
        self.query_one("#tally", Static).update(f"{text}    ({sound})", layout=False)

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
        for scan in self.recent:
            result = scan.result
            if result.accepted:
                mark, style = _("ACCEPT"), "bold green"
                detail = entry_text(self.lang, scan)
            else:
                mark, style = _("REJECT"), "bold red"
                detail = reason_text(self.lang, scan, self.rt.config.venue.day_start_minutes)
            cells = (
                self.lang.time(result.at, "medium"),
                mark,
                detail,
                result.holder or scan.customer or "",
                result.article or "",
            )
            rows.append(scan_line(cells, widths, style))
        self.query_one("#scans", Static).update(Text("\n").join(rows), layout=False)

    # --- actions ----------------------------------------------------------------------------------------

    def action_sound(self) -> None:
        self.sound = not self.sound
        self.show_tally()

    def action_ticket(self) -> None:
        from pos.screens.ticket_detail import TicketDetailScreen

        if self.last is None or self.last.result.ticket_id is None:
            self.app.bell()
            return
        self.app.push_screen(TicketDetailScreen(self.last.result.code))


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


# --- words for the verdict ------------------------------------------------------------------------------


def verdict_renderable(lang: Language, scan: DoorScan, day_start_minutes: int) -> Group:
    _ = lang._
    result = scan.result
    lines = []
    if result.accepted:
        lines.append(Text(spaced(_("ACCEPT")), style="bold"))
        entry = entry_text(lang, scan)
        if entry:
            lines.append(Text(entry, style="bold"))
    else:
        lines.append(Text(spaced(_("REJECT")), style="bold"))
        lines.append(Text(reason_text(lang, scan, day_start_minutes), style="bold"))
    holder = result.holder or scan.customer
    if holder:
        lines.append(Text(holder))
    if result.article:
        lines.append(Text(result.article))
    if scan.birthday:
        name = (holder or "").split(" ")[0]
        greeting = _("Happy birthday, {name}!").format(name=name) if name else _("Happy birthday!")
        lines.append(Text(greeting, style="bold reverse"))
    lines.append(Text(result.code, style="dim"))
    spaced_lines: list[Text] = []
    for line in lines:
        line.justify = "center"
        spaced_lines.extend([line, Text("")])
    return Group(*spaced_lines[:-1])


def spaced(word: str) -> str:
    """Letter-spaced, so the verdict word reads from across the room."""
    return " ".join(word)


def entry_text(lang: Language, scan: DoorScan) -> str:
    """'entry 3 of 10' for multi-entry tickets, 'entry 3' when unlimited, nothing for a single-use ticket."""
    result = scan.result
    allowed = result.allowed_entries
    if allowed == 1:
        return ""
    if allowed is None:
        return lang._("entry {n}").format(n=result.entry)
    return lang._("entry {n} of {total}").format(n=result.entry, total=allowed)


def when_text(lang: Language, at: datetime) -> str:
    """'31.12.2026 20:00' (de) or '31 Dec 2026 20:00' (en), venue time."""
    return f"{lang.date(at.astimezone(lang.zone).date())} {lang.time(at)}"


def moment_text(lang: Language, at: datetime, gate: str | None, now: datetime, day_start_minutes: int) -> str:
    """'today at 19:42 at gate North' or 'on 30.12.2026 at 19:42' (the entry a rejection refers to)."""
    _ = lang._
    same_day = business_day(at, lang.zone, day_start_minutes) == business_day(
        now, lang.zone, day_start_minutes
    )
    values = {"time": lang.time(at), "date": lang.date(at.astimezone(lang.zone).date()), "gate": gate}
    if same_day:
        text = _("today at {time} at gate {gate}") if gate else _("today at {time}")
    else:
        text = _("on {date} at {time} at gate {gate}") if gate else _("on {date} at {time}")
    return text.format(**values)


def reason_text(lang: Language, scan: DoorScan, day_start_minutes: int) -> str:
    """The rejection reason in plain words, for every identifier of DESIGN's redemption rules."""
    _ = lang._
    result = scan.result
    reason = result.reason
    previous = result.previous_at
    moment = (
        moment_text(lang, previous, result.previous_gate, result.at, day_start_minutes)
        if previous is not None
        else None
    )
    if reason == "not_yet_valid":
        if scan.valid_from is not None and result.at < scan.valid_from:
            return _("not valid before {when}").format(when=when_text(lang, scan.valid_from))
        if scan.event_date is not None:
            return _("only valid on {date}").format(date=lang.date(scan.event_date))
        return _("not valid yet")
    if reason == "expired":
        if scan.valid_until is not None and result.at > scan.valid_until:
            return _("expired since {when}").format(when=when_text(lang, scan.valid_until))
        if scan.event_date is not None:
            return _("only valid on {date}").format(date=lang.date(scan.event_date))
        return _("no longer valid")
    if reason in ("already_redeemed", "already_today"):
        return _("already used {moment}").format(moment=moment) if moment else _("already used")
    if reason == "limit_reached":
        total = result.allowed_entries or result.entry
        if moment:
            return _("all {n} entries used, the last {moment}").format(n=total, moment=moment)
        return _("all {n} entries used").format(n=total)
    if reason == "not_same_day":
        if moment:
            return _("only valid on the day of its first entry, {moment}").format(moment=moment)
        return _("only valid on the day of its first entry")
    simple = {
        "malformed": _("not a ticket code (mistyped or damaged)"),
        "foreign_brand": _("ticket of another brand"),
        "forged": _("forged or invented code"),
        "unknown": _("unknown ticket"),
        "voided": _("ticket was cancelled"),
    }
    return simple.get(reason or "", reason or "")
