"""python-escpos prints to stdout by itself (e.g. barcode()); the CLI's JSON and the TUI must not see it."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator

log = logging.getLogger("pos.escpos")


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """python-escpos prints to stdout by itself (e.g. barcode()); the CLI's JSON and the TUI must not see it."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        yield
    if captured.getvalue().strip():
        log.debug("python-escpos said: %s", captured.getvalue().strip())
