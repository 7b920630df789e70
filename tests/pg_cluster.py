"""A throwaway PostgreSQL cluster a test may stop, start and freeze (never the shared test server), and a TCP
proxy that delays or swallows traffic, for the offline-gate tests and bench/redeem.py."""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PGBIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def available() -> bool:
    return (PGBIN / "initdb").exists() and (os.geteuid() != 0 or shutil.which("runuser") is not None)


class Cluster:
    """initdb on a free port in a temporary directory; `stop`/`start` like a crash and a restart."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="pos-test-pg-"))
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.base, "postgres")
        self.port = free_port()
        self.data = self.base / "data"
        subprocess.run(
            [*self.as_postgres, str(PGBIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
        )
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.start()

    def _ctl(self, *args: str) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base} -c max_connections=100 -c fsync=off"
        )
        subprocess.run(
            [
                *self.as_postgres,
                str(PGBIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.base / "log"),
                "-o",
                options,
                "-w",
                *args,
            ],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        """Down at once, connections cut (as a server that crashed or was switched off)."""
        self._ctl("-m", "immediate", "stop")

    def pids(self) -> list[int]:
        """The postmaster and every process it started."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[1]) == postmaster:
                        children.append(int(entry.name))
        return [postmaster, *children]

    def freeze(self) -> None:
        """Every server process stopped (SIGSTOP): connections stay open, nothing answers."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def database(self, server: str | None = None) -> str:
        """A new database, migrated to head; `server` reaches the cluster another way (a proxy)."""
        from pos.db.migrate import upgrade

        name = f"pos_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(server or self.url).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        return url

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.thaw()
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


class Proxy:
    """127.0.0.1:port -> target: each chunk delayed by `delay` seconds each way; `swallow()` stops
    forwarding (connections stay open, nothing arrives: a network that stalls without closing)."""

    def __init__(self, target_port: int, *, delay: float = 0.0) -> None:
        self.target_port = target_port
        self.delay = delay
        self.swallowing = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database_url: str) -> str:
        return make_url(database_url).set(port=self.port).render_as_string(hide_password=False)

    def swallow(self) -> None:
        self.swallowing = True

    def release(self) -> None:
        self.swallowing = False

    def close(self) -> None:
        self._stop = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        """Read, wait until `delay` after the read, send: latency without cutting bandwidth."""
        pending: list[tuple[float, bytes]] = []
        selector = selectors.DefaultSelector()
        selector.register(source, selectors.EVENT_READ)
        try:
            while not self._stop:
                if self.swallowing:
                    timeout = 0.05
                else:
                    timeout = max(pending[0][0] - time.monotonic(), 0) if pending else 0.5
                if selector.select(timeout):
                    data = source.recv(65536)
                    if not data:
                        break
                    pending.append((time.monotonic() + self.delay, data))
                while pending and pending[0][0] <= time.monotonic() and not self.swallowing:
                    sink.sendall(pending.pop(0)[1])
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    made = Cluster()
    try:
        yield made
    finally:
        made.destroy()
