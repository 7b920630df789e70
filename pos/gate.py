"""A headless door gate: codes in, one per line; verdicts out, one per line, whatever comes in.

Lines come from a line source, any iterable of str: standard input, a file or device path, or a
scanner from pos.scanners. Bad input (garbage, empty lines, invalid UTF-8, endless lines) becomes a
`malformed` verdict; a database that cannot be reached becomes an `offline` verdict, so a steward
always gets an answer and the gate never stops until its input ends or Ctrl-C.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO
from zoneinfo import ZoneInfo

from pos.db.engine import DatabaseError
from pos.db.redemption import ScanResult, printable, redeem, scan_json
from pos.runtime import Runtime

MAX_LINE_BYTES = 4096  # a scan is 24 digits; anything longer is cut, the rest of the line skipped


def bounded_lines(stream: BinaryIO, max_bytes: int = MAX_LINE_BYTES) -> Iterator[str]:
    """Lines of a byte stream, decoded leniently (invalid UTF-8 becomes U+FFFD), each at most max_bytes."""
    while True:
        chunk = stream.readline(max_bytes)
        if not chunk:
            return
        if not chunk.endswith(b"\n"):
            rest = chunk
            while rest and not rest.endswith(b"\n"):  # skip the remainder of an overlong line
                rest = stream.readline(max_bytes)
        yield chunk.decode("utf-8", errors="replace").rstrip("\r\n")


def stdin_lines() -> Iterator[str]:
    return bounded_lines(sys.stdin.buffer)


def path_lines(path: str) -> Iterator[str]:
    """A device or file that yields lines (a scanner in serial mode, a named pipe, a recorded file)."""
    from pos.errors import PosError

    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed when the generator ends
    except OSError as exc:
        raise PosError(f"Gate input {path} cannot be opened ({exc.strerror or exc}).") from None
    with stream:
        yield from bounded_lines(stream)


@dataclass
class GateCounts:
    accepted: int = 0
    rejected: int = 0
    offline: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


def run_gate(
    rt: Runtime,
    lines: Iterable[str],
    out: TextIO,
    *,
    gate: str | None = None,
    as_json: bool = False,
    color: bool = False,
) -> GateCounts:
    """Check every line until the input ends or Ctrl-C; one verdict line per input line."""
    zone = rt.config.venue.zone
    gate_name = rt.config.terminal.gate if gate is None else gate
    counts = GateCounts()
    try:
        for line in lines:
            result = check_line(rt, line, gate_name)
            if result.reason == "offline":
                counts.offline += 1
            elif result.accepted:
                counts.accepted += 1
            else:
                counts.rejected += 1
            if result.reason:
                counts.by_reason[result.reason] = counts.by_reason.get(result.reason, 0) + 1
            out.write(verdict_line(result, zone, as_json=as_json, color=color) + "\n")
            out.flush()
    except KeyboardInterrupt:
        pass
    return counts


def check_line(rt: Runtime, line: str, gate: str) -> ScanResult:
    """redeem(), but a database failure is an `offline` verdict rather than an exception."""
    try:
        return redeem(rt, line, gate=gate)
    except DatabaseError as exc:
        reason = str(exc).rstrip(".")
        return _not_checked(rt, line, gate, "offline", f"not checked: {reason}; admit by hand or scan again")
    except Exception as exc:  # noqa: BLE001 - a gate must keep answering; the verdict says what went wrong
        return _not_checked(rt, line, gate, "error", f"not checked: unexpected {type(exc).__name__}: {exc}")


def _not_checked(rt: Runtime, line: str, gate: str, reason: str, message: str) -> ScanResult:
    return ScanResult(False, reason, 0, printable(line), rt.now(), gate, message=message)


_GREEN, _RED, _YELLOW, _RESET = "\x1b[1;97;42m", "\x1b[1;97;41m", "\x1b[1;30;43m", "\x1b[0m"


def verdict_line(result: ScanResult, zone: ZoneInfo, *, as_json: bool = False, color: bool = False) -> str:
    """One JSON object, or words for a steward: ACCEPT/REJECT, why, who, which article."""
    if as_json:
        return json.dumps(scan_json(result, zone), ensure_ascii=False)
    if result.accepted:
        word, paint = "ACCEPT", _GREEN
    elif result.reason in ("offline", "error"):
        word, paint = "OFFLINE" if result.reason == "offline" else "ERROR", _YELLOW
    else:
        word, paint = "REJECT", _RED
    label = f"{paint} {word} {_RESET}" if color else word
    parts = [result.message]
    parts += [printable(text) for text in (result.holder, result.article) if text]
    if result.ticket_id is None and result.code:
        parts.append(f"code {result.code}")
    return f"{label}  " + " | ".join(part for part in parts if part)
