"""Telling a keyboard-wedge scanner from a person at the keyboard.

A USB scanner in keyboard mode types the code, then Enter, far faster than anyone types. The app holds back
printable keys for `[scanner] burst_ms`: when Enter follows a burst of at least MIN_SCAN_LENGTH such keys, the
burst is a scan and goes to the screen's `route_scan` whichever widget has the focus, so not one of a 24-digit
code's characters lands in (or is lost to) a search field or a quick key. Anything else (a pause, a slower key,
a non-printable key, or a burst the screen does not recognise) is released to the focused widget unchanged, so
typing by hand is only delayed by `burst_ms`.
"""

from __future__ import annotations

from typing import Protocol

from textual import events

MIN_SCAN_LENGTH = 4


class ScanTarget(Protocol):
    def route_scan(self, scanned: str) -> bool:
        """Handle a scan; False hands the keys back to the focused widget as typed."""
        ...


class KeyboardWedge:
    """The held keys of a possible scan and their timing; the app decides what to do with them."""

    def __init__(self, burst_ms: int, min_length: int = MIN_SCAN_LENGTH) -> None:
        self.burst_s = burst_ms / 1000
        self.min_length = min_length
        self.held: list[events.Key] = []
        self.last_at = 0.0

    def interrupts(self, at: float) -> bool:
        """A key this long after the last one ends the burst: the held keys were typed."""
        return bool(self.held) and at - self.last_at > self.burst_s

    def hold(self, event: events.Key) -> None:
        self.held.append(event)
        self.last_at = event.time

    def scan_ending_at(self, enter: events.Key) -> str | None:
        """The scanned text if this Enter closes a burst long enough to be a scan."""
        if len(self.held) < self.min_length or self.interrupts(enter.time):
            return None
        return "".join(key.character or "" for key in self.held)

    def release(self) -> list[events.Key]:
        held, self.held = self.held, []
        return held


def is_scannable(event: events.Key) -> bool:
    """Keys a scanner types: one printable character (space excluded: no code we route holds one)."""
    return event.is_printable and event.character is not None and event.character != " "
