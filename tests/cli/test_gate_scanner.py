"""`pos gate` reading a serial (CDC-ACM) scanner configured in [scanner]: a pseudo-terminal stands in for it."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
from pathlib import Path

from pos.runtime import Runtime
from tests import conftest
from tests.conftest import CONFIG_TOML, PosCommand
from tests.factories import issue_tickets, ticket_article


class Verdicts:
    """Reads the gate's stdout by file descriptor, so select() never misses lines sitting in a buffer."""

    def __init__(self, gate: subprocess.Popen[bytes]) -> None:
        assert gate.stdout is not None
        self.fd = gate.stdout.fileno()
        self.pending = b""

    def next(self, timeout: float = 20.0) -> dict | None:  # type: ignore[type-arg]
        while b"\n" not in self.pending:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(self.fd, 65536)
            assert chunk, "pos gate ended early"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def wait_until_reading(self, master: int) -> None:
        """Scan junk until a verdict comes back: the gate has opened the port (opening flushes earlier input)."""
        for _ in range(150):
            os.write(master, b"junk\r")
            if self.next(timeout=0.2) is not None:
                return
        raise AssertionError("pos gate never read the scanner")

    def verdict_for(self, code: str) -> dict:  # type: ignore[type-arg]
        while True:
            verdict = self.next()
            assert verdict is not None, "pos gate gave no verdict in time"
            if verdict["code"] == code:
                return verdict
            assert verdict["reason"] == "malformed"


def test_gate_takes_codes_from_the_serial_scanner(sqlite_url: str, tmp_path: Path) -> None:
    rt = Runtime(conftest.test_config(), sqlite_url)
    ticket_article(rt)
    (ticket,) = issue_tickets(rt, "Konzert 15.01.2027")
    rt.engine.dispose()
    master, slave = os.openpty()
    config = tmp_path / "gate.toml"
    config.write_text(
        CONFIG_TOML + f'\n[scanner]\nkind = "serial"\ndevice = "{os.ttyname(slave)}"\nbaudrate = 9600\n',
        encoding="utf-8",
    )
    pos = PosCommand(sqlite_url, config)
    gate = subprocess.Popen(
        [pos.exe, "gate", "--json", "--gate", "West"],
        env=pos.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    verdicts = Verdicts(gate)
    try:
        verdicts.wait_until_reading(master)
        os.write(master, ticket.code.encode() + b"\r")
        first = verdicts.verdict_for(ticket.code)
        os.write(master, ticket.code.encode() + b"\r\n")
        second = verdicts.verdict_for(ticket.code)
    finally:
        gate.send_signal(signal.SIGINT)
        gate.wait(timeout=20)
        os.close(master)
        os.close(slave)
    assert (first["accepted"], first["code"], first["gate"]) == (True, ticket.code, "West")
    assert (second["accepted"], second["reason"]) == (False, "already_redeemed")
    assert gate.stderr is not None and b"Traceback" not in gate.stderr.read()
    assert gate.returncode == 0  # Ctrl-C ends a gate cleanly
