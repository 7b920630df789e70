"""The database side (SQLAlchemy, SQLModel, the tables) is imported by one thread; the others wait for it.

The cashier app loads it in the background while its first screens are up, and a worker or a key may need it at
the same moment. Two threads importing SQLAlchemy at once can each see it half-initialised (Python breaks the
import lock cycle by handing one of them the unfinished module), so every face's path to the services goes
through `load_database_side()` first; once loaded, it costs a check.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_loaded = False  # once True, a call costs one check: the scan and the cart's quote pass here every time


def load_database_side() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        import pos.db.engine
        import pos.db.models  # noqa: F401

        _loaded = True
