"""`pos gate`: a headless door gate. Codes in, one per line; verdicts out, one per line, whatever comes in.

Lines come from a line source, any iterable of str: standard input, a file or device path, or a scanner from
pos.devices.scanners. Bad input (garbage, empty lines, invalid UTF-8, endless lines) becomes a `malformed`
verdict; a failure the door service cannot turn into a verdict becomes an `error` line, so a steward always
gets an answer and the gate never stops until its input ends or Ctrl-C. The checking itself is the door
service's (`pos.services.door.scan`), the same the door screen and `pos redeem` call.

The services are imported inside the functions: every `pos` command loads this module at start, and only the
gate and `pos redeem` need the database layer.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, TextIO

import typer

from pos.commands.common import JsonOption, PosGroup, app, load_runtime, print_json
from pos.errors import PosError

if TYPE_CHECKING:
    from pos.runtime import Runtime
    from pos.services.base import Actor
    from pos.services.door import DoorVerdict

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
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed when the generator ends
    except OSError as exc:
        raise PosError(
            "Gate input {path} cannot be opened ({why}).", path=path, why=exc.strerror or exc
        ) from None
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
    actor: Actor,
    lines: Iterable[str],
    out: TextIO,
    *,
    gate: str | None = None,
    as_json: bool = False,
    color: bool = False,
) -> GateCounts:
    """Check every line until the input ends or Ctrl-C; one verdict line per input line."""
    gate_name = rt.config.terminal.gate if gate is None else gate
    counts = GateCounts()
    try:
        for line in lines:
            verdict = check_line(rt, actor, line, gate_name)
            if verdict.offline:
                counts.offline += 1
            if verdict.accepted:
                counts.accepted += 1
            else:
                counts.rejected += 1
            if verdict.reason:
                counts.by_reason[verdict.reason] = counts.by_reason.get(verdict.reason, 0) + 1
            out.write(verdict_line(rt, verdict, as_json=as_json, color=color) + "\n")
            out.flush()
    except KeyboardInterrupt:
        pass
    return counts


def check_line(rt: Runtime, actor: Actor, line: str, gate: str) -> DoorVerdict:
    """The door service's verdict; anything unexpected is an `error` verdict rather than an exception."""
    from pos.services.door import not_checked, scan  # lean start-up of the other commands (see the top)

    try:
        return scan(rt, actor, line, gate=gate)
    except Exception as exc:  # noqa: BLE001 - a gate must keep answering; the verdict says what went wrong
        return not_checked(rt, line, gate, "error", f"unexpected {type(exc).__name__}: {exc}")


_GREEN, _RED, _YELLOW, _RESET = "\x1b[1;97;42m", "\x1b[1;97;41m", "\x1b[1;30;43m", "\x1b[0m"


def verdict_line(rt: Runtime, verdict: DoorVerdict, *, as_json: bool = False, color: bool = False) -> str:
    """One JSON object, or words for a steward: ACCEPT/REJECT, why, who, which article."""
    from pos.services.door import printable  # lean start-up of the other commands (see the top)

    if as_json:
        return json.dumps(verdict.json(rt), ensure_ascii=False)
    if verdict.accepted:
        word, paint = "ACCEPT", _GREEN
    elif verdict.reason in ("offline", "error"):
        word, paint = "OFFLINE" if verdict.reason == "offline" else "ERROR", _YELLOW
    else:
        word, paint = "REJECT", _RED
    label = f"{paint} {word} {_RESET}" if color else word
    if verdict.offline and verdict.reason not in ("offline", "error"):
        label += " (offline)"
    parts = [verdict.message]
    parts += [printable(text) for text in (verdict.shown_holder, verdict.article) if text]
    if verdict.ticket_id is None and verdict.code:
        parts.append(f"code {verdict.code}")
    return f"{label}  " + " | ".join(part for part in parts if part)


gate_app = typer.Typer(
    cls=PosGroup,
    help="A headless door gate; `pos gate sync` and `pos gate upload` for its local copy and offline queue.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(gate_app, name="gate")
GateOption = typer.Option(None, "--gate", help="Gate name; default [terminal] gate.")


@gate_app.callback(invoke_without_command=True)
def gate_(
    ctx: typer.Context,
    gate: str | None = GateOption,
    input_: str | None = typer.Option(
        None,
        "--input",
        help="'stdin' or a device/file path; default the [scanner] config (stdin for a keyboard).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """A headless gate: one code per line in, one verdict per line out, until end of input or Ctrl-C.

    While it runs it refreshes its local copy every [gate] sync_seconds; when the database does not answer
    within [gate] offline_after_ms it decides from that copy (the verdict says offline) and uploads the
    queued scans as soon as the database is back.
    """
    if ctx.invoked_subcommand is not None:
        return
    # Imported here, not at the top: every `pos` command loads this module, and only the gate needs these.
    from pos.devices.scanners import scanner_lines
    from pos.services.database import keep_database_tidy
    from pos.services.door import door_actor, keep_in_sync

    rt = load_runtime()
    rt.config.brand_secret()  # a missing secret is one sentence now, not one per scan
    actor = door_actor(rt)
    color = not as_json and sys.stdout.isatty()
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # a name the terminal cannot show must not stop the gate
    stop = keep_in_sync(rt, actor, gate)
    stop_tidying = keep_database_tidy(rt)
    try:
        if input_ is None:
            with scanner_lines(rt.config.scanner, stdin_lines) as lines:
                run_gate(rt, actor, lines, sys.stdout, gate=gate, as_json=as_json, color=color)
        else:
            lines = stdin_lines() if input_ in ("stdin", "-") else path_lines(input_)
            run_gate(rt, actor, lines, sys.stdout, gate=gate, as_json=as_json, color=color)
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:  # the reader of our verdicts went away: nothing left to tell
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush stays quiet
    finally:
        stop()
        stop_tidying()


@gate_app.command("sync")
def sync_(gate: str | None = GateOption, as_json: bool = JsonOption) -> None:
    """Refresh the gate's local copy of the tickets now (only what changed since the last refresh)."""
    from pos.services.door import door_actor, sync  # lean start-up of the other commands (see the top)

    rt = load_runtime()
    result = sync(rt, door_actor(rt), gate)
    if as_json:
        print_json(
            {
                "full": result.full,
                "tickets": result.tickets,
                "entries": result.entries,
                "seconds": round(result.seconds, 3),
                "copy_tickets": result.copy_tickets,
            }
        )
    else:
        kind = "Full copy" if result.full else "Refreshed"
        typer.echo(
            f"{kind}: {result.tickets} ticket(s) with {result.entries} entries in {result.seconds:.1f} s;"
            f" the copy holds {result.copy_tickets} ticket(s)."
        )


@gate_app.command("upload")
def upload_(gate: str | None = GateOption, as_json: bool = JsonOption) -> None:
    """Send the scans this gate decided offline to the database now (each is recorded once)."""
    from pos.services.door import door_actor, upload  # lean start-up of the other commands (see the top)

    rt = load_runtime()
    result = upload(rt, door_actor(rt), gate)
    if as_json:
        print_json(
            {
                "recorded": result.recorded,
                "conflicts": result.conflicts,
                "duplicates": result.duplicates,
                "pending": result.pending,
            }
        )
    else:
        typer.echo(
            f"Uploaded: {result.recorded} recorded, {result.conflicts} conflict(s),"
            f" {result.duplicates} already there; {result.pending} still queued."
        )
