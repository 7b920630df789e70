"""The running app moves SQLite's write-ahead log into the database file in the background (keep_database_tidy),
so no sale or scan commits the 1,000th page and pays for the checkpoint."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from pos.db.engine import checkpoint_wal
from pos.runtime import Runtime
from pos.services.database import keep_database_tidy
from pos.services.operators import add_operator, list_operators
from tests.factories import ADMIN


def names_in_main_file(rt: Runtime, tmp_path: Path) -> set[str]:
    """The operators the database file holds by itself: a copy without its -wal file sees only what was
    checkpointed."""
    database = Path(rt.engine.url.database or "")
    copy = tmp_path / "main-file-only.db"
    shutil.copyfile(database, copy)
    with sqlite3.connect(copy) as db:
        return {name for (name,) in db.execute("SELECT name FROM operator")}


def test_a_checkpoint_moves_committed_rows_into_the_database_file(sqlite_rt: Runtime, tmp_path: Path) -> None:
    add_operator(sqlite_rt, ADMIN, "nachts", "cashier", "4711")
    assert "nachts" not in names_in_main_file(sqlite_rt, tmp_path)  # only in the log so far
    checkpoint_wal(sqlite_rt.engine)
    assert "nachts" in names_in_main_file(sqlite_rt, tmp_path)


def test_the_app_checkpoints_in_the_background_until_stopped(sqlite_rt: Runtime, tmp_path: Path) -> None:
    stop = keep_database_tidy(sqlite_rt, interval=0.05)
    try:
        add_operator(sqlite_rt, ADMIN, "frueh", "cashier", "4711")
        deadline = time.monotonic() + 5
        while "frueh" not in names_in_main_file(sqlite_rt, tmp_path):
            assert time.monotonic() < deadline, "no checkpoint within 5 s"
            time.sleep(0.02)
    finally:
        stop()
    time.sleep(0.2)  # a checkpoint under way ends
    add_operator(sqlite_rt, ADMIN, "spaet", "cashier", "4711")
    time.sleep(0.3)
    assert "spaet" not in names_in_main_file(sqlite_rt, tmp_path)  # stopped: nothing moved it any more
    assert {"frueh", "spaet"} <= {operator.name for operator in list_operators(sqlite_rt, ADMIN)}
