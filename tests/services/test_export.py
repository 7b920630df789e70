"""The attendance export to a file: complete or absent, mode 600."""

from __future__ import annotations

import json
import stat

import pytest

from pos.db.redemption import redeem
from pos.errors import Refused
from pos.services.export import AttendanceOptions, export_attendance_file
from tests.factories import ADMIN, issue_tickets, ticket_article


def test_export_to_file_is_complete_private_or_absent(sqlite_rt, tmp_path) -> None:
    ticket = issue_tickets(sqlite_rt, ticket_article(sqlite_rt, "Konzert"))[0]
    redeem(sqlite_rt, ticket.code)
    target = tmp_path / "list.json"
    seen = []
    written = export_attendance_file(
        sqlite_rt,
        ADMIN,
        target,
        AttendanceOptions(fmt="json"),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert written == 1 and seen[-1] == (1, 1)
    assert json.loads(target.read_text(encoding="utf-8"))[0]["code"] == ticket.code
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(Refused, match="does not exist"):
        export_attendance_file(
            sqlite_rt, ADMIN, tmp_path / "missing" / "list.csv", AttendanceOptions(fmt="csv")
        )
    with pytest.raises(Refused):
        export_attendance_file(sqlite_rt, ADMIN, tmp_path / "bad.csv", AttendanceOptions(fmt="pdf"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.json", "pos.db", "pos.db-shm", "pos.db-wal"]


def test_export_never_overwrites_unless_asked(sqlite_rt, tmp_path) -> None:
    """Issue 16 problem 11: the admin screen asks before an existing list is replaced."""
    from pos.services.export import ExportExists

    target = tmp_path / "data" / "list.csv"
    assert export_attendance_file(sqlite_rt, ADMIN, target, AttendanceOptions(), make_directory=True) == 0
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    target.write_text("keep", encoding="utf-8")
    with pytest.raises(ExportExists, match="exists already"):
        export_attendance_file(sqlite_rt, ADMIN, target, AttendanceOptions(), overwrite=False)
    assert target.read_text(encoding="utf-8") == "keep"
    assert sorted(p.name for p in target.parent.iterdir()) == ["list.csv"]  # no temporary file left
    export_attendance_file(sqlite_rt, ADMIN, target, AttendanceOptions(), overwrite=True)
    assert target.read_text(encoding="utf-8") != "keep"
