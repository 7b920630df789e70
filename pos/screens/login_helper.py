"""A head start for `pos run` on the till's second core: a forked process loads the database side meanwhile.

Start-up is CPU-bound and Python runs one thread at a time, so in one process the login screen (Textual) and the
database side (SQLAlchemy and the tables, most of a start) load one after the other. `pos run` forks before it
loads either. The child loads the database side, checks that no other app runs under this terminal's name,
fetches this terminal's articles, and then checks the logins typed on the login screen (name and PIN through a
pipe) until one succeeds; then it ends. Meanwhile the app starts Textual and shows the login screen; it shows the
first sale screen from what the child sent and loads its own database side in the background: at once while
the PIN is still being typed, or once the next screen is painted when the login came first.

The child runs the same use cases as the app (pos/services), and what it sends is plain data
(pos/services/views.py) that loads without SQLAlchemy. When the child failed or is gone, the app does the same
work in-process, as it does without the child (the tests' apps, `--db` into memory, systems without fork).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pos.runtime import Runtime
    from pos.services.views import ArticleView, Login

_HEADER = struct.Struct(">I")


class LoginHelper:
    """The app's end of the pipes to the child; its methods block (call them from a thread, not the event loop)."""

    def __init__(self, pid: int, requests: int, replies: int) -> None:
        self.pid = pid
        self._requests = requests
        self._replies = replies
        self._lock = threading.Lock()  # one exchange at a time; the first reply is read once
        self._first: tuple[str, Any] | None = None
        self.gone = False
        self.logged_in = False  # a login succeeded through the child, which has ended then
        self.logins_asked = 0  # logins handed to the child, answered or not
        self._logins_answered = 0
        self._answered = threading.Condition()
        self._closed = False

    @classmethod
    def start(cls, runtime: Callable[[], Runtime]) -> LoginHelper | None:
        """Fork the child, which builds its runtime with `runtime()`; None where there is no fork."""
        if not hasattr(os, "fork"):
            return None
        requests_read, requests_write = os.pipe()
        replies_read, replies_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the app's code
            try:
                os.close(requests_write)
                os.close(replies_read)
                _detach_from_terminal()
                _serve(runtime, requests_read, replies_write)
            finally:
                os._exit(0)
        os.close(requests_read)
        os.close(replies_write)
        return cls(pid, requests_write, replies_read)

    def articles(self) -> list[ArticleView] | None:
        """This terminal's articles as the child found them (it waits for the child, and for a login under
        way); None when the child failed. Raises the refusal when another app runs under this terminal's name."""
        with self._lock:
            kind, value = self._first_reply()
        if kind == "busy":
            raise value
        return value if kind == "ready" else None

    def log_in(self, name: str, pin: str) -> Login | None:
        """The login checked by the child: raises its refusal (a wrong PIN); None when the child cannot check it
        (failed, gone, or done after a login), so the app checks it itself."""
        with self._answered:
            self.logins_asked += 1
        try:
            with self._lock:
                return self._log_in(name, pin)
        finally:
            with self._answered:
                self._logins_answered += 1
                self._answered.notify_all()

    def _log_in(self, name: str, pin: str) -> Login | None:
        if self._first_reply()[0] != "ready" or self.gone:
            return None
        try:
            _send(self._requests, (name, pin))
        except OSError:
            self.gone = True
            return None
        kind, value = self._receive()
        if kind == "refused":
            raise value
        if kind != "login":
            return None
        self.logged_in = True
        self.gone = True  # it ends after a login: collected in the background, not waited for here
        threading.Thread(target=self._collect, name="login-helper-exit", daemon=True).start()
        return value  # type: ignore[no-any-return]

    def wait_for_logins(self) -> None:
        """Return once every login handed to the child has its answer."""
        with self._answered:
            self._answered.wait_for(lambda: self._logins_answered >= self.logins_asked)

    def close(self) -> None:
        """End the child if it still runs (the app quit on its login screen) and collect it; once."""
        if self._closed:  # the descriptors' numbers may belong to other files by now
            return
        self._closed = True
        for descriptor in (self._requests, self._replies):
            with contextlib.suppress(OSError):
                os.close(descriptor)
        with contextlib.suppress(ChildProcessError, ProcessLookupError):
            if os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                os.kill(self.pid, signal.SIGTERM)
                os.waitpid(self.pid, 0)

    def _collect(self) -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def _first_reply(self) -> tuple[str, Any]:
        if self._first is None:
            self._first = self._receive()
        return self._first

    def _receive(self) -> tuple[str, Any]:
        try:
            return _receive(self._replies)  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 - ended, killed or garbled: the app does the work itself
            self.gone = True
            return ("gone", None)


def _serve(runtime: Callable[[], Runtime], requests: int, replies: int) -> None:
    """The child: the first reply says what it found (ready with the articles, busy, or gone), then one reply
    per login until a login succeeds or the app closes the pipe."""
    from pos.errors import PosError

    try:
        rt = runtime()
        from pos.services.articles import list_articles
        from pos.services.base import system_actor
        from pos.services.till import claim_terminal, log_in

        try:
            claim_terminal(rt).release()  # the app claims it for good once it has loaded the database side
        except PosError as busy:
            _send(replies, ("busy", busy))
            return
        articles = list_articles(rt, system_actor(rt), this_terminal=True)
    except Exception:  # noqa: BLE001 - the app loads and reports it itself
        _send(replies, ("gone", None))
        return
    _send(replies, ("ready", articles))
    while True:
        try:
            name, pin = _receive(requests)
        except EOFError:
            return
        try:
            login = log_in(rt, name, pin)
        except PosError as refused:
            _send(replies, ("refused", refused))
            continue
        except Exception:  # noqa: BLE001 - as above
            _send(replies, ("gone", None))
            return
        _send(replies, ("login", login))
        rt.engine.dispose()
        return


def _detach_from_terminal() -> None:
    """The child never writes to the terminal the app draws on, nor reads its keys."""
    null = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1, 2):
        os.dup2(null, descriptor)
    os.close(null)


def _send(descriptor: int, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(descriptor, view) :]


def _receive(descriptor: int) -> Any:
    (size,) = _HEADER.unpack(_read(descriptor, _HEADER.size))
    return pickle.loads(_read(descriptor, size))  # noqa: S301 - our own child, through our own pipe


def _read(descriptor: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(descriptor, size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
