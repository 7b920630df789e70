"""How a command ends when it fails: one sentence on stderr and an exit code, never a traceback.

No Typer here: the cashier app starts through pos/__main__.py without loading the command line (see launch.py).
"""

from __future__ import annotations

import os
import sys
import traceback

from pos.errors import PosError


def report_failure(exc: BaseException) -> int:
    """Say what went wrong in one line on stderr and return the exit code: 2 for an expected refusal, 130 for
    Ctrl+C, 0 for a reader that closed our pipe, 3 for anything unexpected (its frames go to crash.log)."""
    if isinstance(exc, PosError):
        return say(f"Error: {one_line(str(exc))}", 2)
    if isinstance(exc, BrokenPipeError):
        # `pos ... | head` closed the pipe: stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if isinstance(exc, KeyboardInterrupt):
        return say("Interrupted.", 130)
    log = write_crash_log(exc)
    return say(f"Error: unexpected {type(exc).__name__}; the details are in {log}.", 3)


def say(message: str, code: int) -> int:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    return code


def one_line(message: str) -> str:
    """An error stays one line whatever value it repeats: a line break or another control character in a file
    name or a typed value is shown escaped (`\\n`), as Python writes it."""
    if message.isprintable():
        return message
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)


def write_crash_log(exc: BaseException) -> str:
    """Append where the failure happened to crash.log (mode 600 in a 700 directory); say where it went.

    Only exception types and traceback frames (file, line, function, source line) are written, never an
    exception's message or the command line: those can carry SQL parameters, customer names, e-mail addresses
    or PINs, and the log outlives the command.
    """
    from pos.config import default_data_dir
    from pos.files import open_private, private_directory

    directory = default_data_dir()
    path = directory / "crash.log"
    try:
        private_directory(directory)
        with open_private(path, "a", append=True, encoding="utf-8") as handle:
            handle.write(crash_report(exc))
    except OSError:
        return f"nowhere (cannot write {path})"
    return str(path)


def crash_report(exc: BaseException) -> str:
    """Exception types and frames of the whole chain (cause and context), oldest first; no messages."""
    from datetime import UTC, datetime

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    lines = [f"--- {datetime.now(UTC).isoformat(timespec='seconds')} unexpected {_type_name(exc)}"]
    for link in reversed(chain):
        lines.append(f"{_type_name(link)}, raised at:")
        for frame in traceback.extract_tb(link.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
    return "\n".join(lines) + "\n"


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
