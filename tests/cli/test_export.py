"""`pos export attendance` and `pos report door` through the real console script."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from pos.config import Config
from pos.runtime import Runtime
from tests.conftest import FixedClock, PosCommand
from tests.export_data import Scenario, local, reject, seed


@pytest.fixture
def scenario(db_url: str, config: Config) -> Scenario:
    rt = Runtime(config=config, database_url=db_url, operator="tester", clock=FixedClock())
    try:
        return seed(rt)
    finally:
        rt.engine.dispose()


def test_export_to_a_file_prints_a_json_summary_and_leaves_no_temporary_file(
    pos: PosCommand, scenario: Scenario, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "attendance.csv"
    target.parent.mkdir()
    target.write_text("an older list", encoding="utf-8")
    summary = pos.json(
        "export", "attendance", "--format", "csv", "--precision", "day", "--count", "-o", str(target)
    )
    assert summary == {"path": str(target.resolve()), "format": "csv", "participants": 4}
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert rows[0][5:] == ["registration_1", "count_1", "registration_2", "count_2"]
    assert len(rows) == 5
    assert [p.name for p in target.parent.iterdir()] == ["attendance.csv"]
    assert target.stat().st_mode & 0o777 == 0o600


def test_export_to_stdout_in_every_format(pos: PosCommand, scenario: Scenario) -> None:
    result = pos(
        "export", "attendance", "--format", "json", "--article", "Silvester", "--exclude-no-shows", check=True
    )
    assert {p["code"] for p in json.loads(result.stdout)} == {
        scenario.codes[scenario.regular],
        scenario.codes[scenario.single],
    }
    xml = pos("export", "attendance", "--format", "xml", "--precision", "hour", "--count", check=True)
    root = ET.fromstring(xml.stdout.encode("utf-8"))
    assert len(root.findall("participant")) == 4
    assert xml.stderr == ""  # no progress bar when stderr is not a terminal
    excel = pos("export", "attendance", "--format", "csv", "--excel", check=True)
    assert excel.stdout.startswith("\ufeffcode;name;email;")


def test_period_options_take_business_days(pos: PosCommand, scenario: Scenario) -> None:
    result = pos(
        "export", "attendance", "--format", "json", "--from", "2026-12-31", "--to", "2026-12-31", check=True
    )
    found = {p["code"]: p["registrations"] for p in json.loads(result.stdout)}
    assert len(found[scenario.codes[scenario.regular]]) == 4
    assert found[scenario.codes[scenario.concert]] == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--format", "yaml"], "--format 'yaml' is not known"),
        (["--format", "csv", "--precision", "minute"], "--precision 'minute' is not known"),
        (["--format", "json", "--excel"], "--excel only applies to --format csv"),
        (["--format", "csv", "--article", "Nope"], "Article 'Nope' does not exist"),
        (["--format", "csv", "--from", "yesterday"], "--from: 'yesterday' is not a date"),
        (["--format", "csv", "--from", "2027-01-02", "--to", "2027-01-01"], "start of the period"),
        (["--format", "csv", "-o", "/nonexistent-dir/list.csv"], "Directory /nonexistent-dir does not exist"),
    ],
)
def test_bad_options_are_one_sentence(
    pos_sqlite: PosCommand, arguments: list[str], message: str, tmp_path: Path
) -> None:
    result = pos_sqlite("export", "attendance", *arguments)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]


def test_a_failed_export_leaves_the_old_file_and_no_half_file(
    tmp_path: Path, sqlite_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pos.db import export
    from pos.services.export import AttendanceOptions, export_attendance_file
    from tests.factories import ADMIN

    target = tmp_path / "list.json"
    target.write_text("complete old list", encoding="utf-8")

    def crash(rt: Runtime, out: io.TextIOBase, **options: object) -> int:
        out.write('[{"code": "1"')
        raise RuntimeError("database went away")

    monkeypatch.setattr(export, "export_attendance", crash)
    with pytest.raises(RuntimeError):
        export_attendance_file(sqlite_rt, ADMIN, target, AttendanceOptions(fmt="json"))
    assert target.read_text(encoding="utf-8") == "complete old list"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("pos.db")) == ["list.json"]


def test_report_door_json_and_text(pos: PosCommand, scenario: Scenario, db_url: str, config: Config) -> None:
    rt = Runtime(config=config, database_url=db_url)
    reject(rt, local("2026-12-31T21:05"), "forged")
    rt.engine.dispose()
    report = pos.json("report", "door", "--from", "2026-12-31", "--to", "2026-12-31")
    assert report["entries"] == 6 and report["rejections_by_reason"] == [{"reason": "forged", "count": 1}]
    assert report["entries_by_hour"][0] == {"hour": "2026-12-31T21:00:00+01:00", "entries": 2}
    text = pos("report", "door", check=True).stdout
    assert text.splitlines()[0] == "8 entries (4 first, 4 re-entries), 1 rejected scan(s)."
    assert "  gate north: 6 (2 first, 4 re)" in text
    assert "  rejected forged: 1" in text


def test_progress_bar_on_a_terminal_only(pos_sqlite: PosCommand, tmp_path: Path) -> None:
    import os
    import pty
    import subprocess

    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [pos_sqlite.exe, "export", "attendance", "--format", "csv", "-o", str(tmp_path / "a.csv")],
            env={**pos_sqlite.env, "TERM": "xterm"},
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=60,
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert b"Exporting" in shown


def test_sales_report_carries_the_door_report(pos: PosCommand, scenario: Scenario) -> None:
    period = ("--from", "2026-12-31", "--to", "2027-01-01")
    sales = pos.json("report", "sales", *period)
    assert sales["door"] == pos.json("report", "door", *period)
    assert sales["door"]["entries"] == 7
    text = pos("report", "sales", check=True).stdout
    assert "Door:\n8 entries (4 first, 4 re-entries), 0 rejected scan(s).\n" in text
