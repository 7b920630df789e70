"""The gate when the database is away, against a real PostgreSQL cluster this module starts on a free port and
stops, starts and freezes (SIGSTOP) itself: offline verdicts, the durable queue, uploads, conflicts, bounded
waits. The shared test server is never touched here.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pos.db.invariants import check, violations
from pos.domain.roles import Role
from pos.domain.ticket_code import make_code
from pos.runtime import Runtime
from pos.services import door
from pos.services.base import Actor
from tests import pg_cluster
from tests.conftest import CONFIG_TOML, TEST_SECRET, FixedClock, PosCommand
from tests.conftest import test_config as make_config
from tests.factories import issue_tickets, ticket_article

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not pg_cluster.available(), reason="needs the PostgreSQL 15 server binaries"),
]
STEWARD = Actor("steward", Role.CASHIER)
ADMIN = Actor("admin", Role.ADMIN)
WAIT_MS = 400


@pytest.fixture(scope="module")
def cluster() -> Iterator[pg_cluster.Cluster]:
    with pg_cluster.cluster() as made:
        yield made


@pytest.fixture
def database(cluster: pg_cluster.Cluster) -> str:
    if not (cluster.data / "postmaster.pid").exists():
        cluster.start()
    cluster.thaw()
    return cluster.database()


def gate_runtime(url: str, tmp_path: Path, name: str, clock: FixedClock) -> Runtime:
    config = make_config(
        terminal={"name": f"door-{name}", "gate": name},
        gate={"offline_after_ms": WAIT_MS, "local_path": str(tmp_path / f"gate-{name}.db")},
    )
    return Runtime(config=config, database_url=url, operator=f"door-{name}", clock=clock)


def entries_of(url: str, ticket_id: int) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT gate, first, offline, scan_id FROM entry WHERE ticket_id = :t ORDER BY id"),
            {"t": ticket_id},
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def wait_online(rt: Runtime, gate: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if door.gate_status(rt, STEWARD, gate).online:
            return
        time.sleep(0.1)
    raise AssertionError("the gate did not come back online")


def test_two_gates_offline_admit_one_ticket_then_one_conflict_and_nothing_lost(
    cluster, database, tmp_path, clock
) -> None:
    seller = Runtime(make_config(), database, operator="seller", clock=clock)
    single, other = issue_tickets(seller, ticket_article(seller, "Concert"), 2)
    card = issue_tickets(seller, ticket_article(seller, "10-ride", repeat="anytime", repeat_limit=9))[0]
    voided = issue_tickets(seller, ticket_article(seller, "Cancelled"), voided=True)[0]
    north, south = (gate_runtime(database, tmp_path, name, clock) for name in ("north", "south"))
    for rt, gate in ((north, "north"), (south, "south")):
        assert door.sync(rt, STEWARD, gate).full
    assert door.scan(north, STEWARD, card.code).accepted  # online: entry 1 of the card
    cluster.stop()

    clock.now += timedelta(minutes=1)
    at_north = door.scan(north, STEWARD, single.code)
    at_south = door.scan(south, STEWARD, single.code)
    assert (at_north.accepted, at_north.offline, at_south.accepted, at_south.offline) == (
        True,
        True,
        True,
        True,
    )
    again = door.scan(north, STEWARD, single.code)  # this gate knows its own offline entry
    assert (again.reason, again.offline, again.previous_gate) == ("already_redeemed", True, "north")
    assert door.scan(north, STEWARD, voided.code).reason == "voided"
    card_offline = door.scan(south, STEWARD, card.code)
    assert card_offline.accepted and card_offline.entry == 1  # south's copy predates north's online entry
    assert door.scan(south, STEWARD, other.code).accepted
    assert door.scan(north, STEWARD, "12345").reason == "malformed"
    assert door.gate_status(north, STEWARD, "north").pending == 4

    cluster.start()
    wait_online(north, "north")
    wait_online(south, "south")
    assert door.gate_status(north, STEWARD, "north").pending == 0
    assert door.gate_status(south, STEWARD, "south").pending == 0

    listed = door.conflicts(north, ADMIN)
    assert [(c.reason, c.ticket_id, c.status) for c in listed] == [("already_redeemed", single.id, "open")]
    assert sorted(gate for gate, *_ in entries_of(database, single.id)) == ["north", "south"]
    assert [offline for _g, _f, offline, _s in entries_of(database, single.id)] == [True, True]
    assert len(entries_of(database, card.id)) == 2 and len(entries_of(database, other.id)) == 1
    assert entries_of(database, voided.id) == []
    assert (
        door.scan(north, STEWARD, other.code).reason == "already_redeemed"
    )  # online again, knows the upload

    engine = create_engine(database)
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT reason, offline FROM scan_log ORDER BY id")).all()
        all_conflicts = conn.execute(text("SELECT reason FROM door_conflict ORDER BY id")).scalars().all()
    engine.dispose()
    assert (
        ("malformed", True) in logged and ("already_redeemed", True) in logged and ("voided", True) in logged
    )
    assert all_conflicts == ["already_redeemed"]

    config = tmp_path / "admin.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    pos = PosCommand(database, config)
    shown = pos.json("door", "conflicts")
    assert [(c["id"], c["reason"], c["status"]) for c in shown] == [
        (listed[0].id, "already_redeemed", "open")
    ]
    assert "already used" in pos("door", "conflicts", check=True).stdout
    credited = pos.json("door", "resolve", str(listed[0].id), "credit")
    assert credited["status"] == "credited"
    assert len(entries_of(database, single.id)) == 1
    again = pos("door", "resolve", str(listed[0].id), "accept")
    assert again.returncode == 2 and "already resolved" in again.stderr
    assert violations(check(north.engine)) == {}
    report = pos.json("report", "door")
    by_gate = {row["gate"]: row for row in report["entries_by_gate"]}
    # four offline admissions, the one credited back is gone; its gate counts the conflict
    conflict_gate = "north" if by_gate["north"]["conflicts"] else "south"
    other_gate = "south" if conflict_gate == "north" else "north"
    assert by_gate[conflict_gate]["offline_entries"] == {"north": 0, "south": 2}[conflict_gate]
    assert by_gate[other_gate]["offline_entries"] == {"north": 1, "south": 3}[other_gate]
    assert (by_gate[conflict_gate]["conflicts"], by_gate[conflict_gate]["open_conflicts"]) == (1, 0)
    assert (report["offline_entries"], report["conflicts"], report["open_conflicts"]) == (3, 1, 0)
    assert "conflict(s) (0 open)" in pos("report", "door", check=True).stdout
    for rt in (seller, north, south):
        rt.engine.dispose()


def gate_config_file(tmp_path: Path, name: str, **gate: object) -> Path:
    path = tmp_path / f"{name}.toml"
    settings = {"offline_after_ms": WAIT_MS, "local_path": str(tmp_path / f"gate-{name}.db"), **gate}
    lines = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
    path.write_text(CONFIG_TOML.replace('gate = "north"', f'gate = "{name}"') + f"\n[gate]\n{lines}\n")
    return path


def test_a_gate_killed_right_after_an_offline_verdict_uploads_it_after_restart(
    cluster, database, tmp_path, clock
) -> None:
    seller = Runtime(make_config(), database, operator="seller", clock=clock)
    ticket = issue_tickets(seller, ticket_article(seller, "Club night"))[0]
    pos = PosCommand(database, gate_config_file(tmp_path, "west"))
    assert pos.json("gate", "sync")["tickets"] == 1
    copy = tmp_path / "gate-west.db"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    cluster.stop()
    gate = subprocess.Popen(
        [pos.exe, "gate", "--json"],
        env=pos.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert gate.stdin and gate.stdout
    gate.stdin.write(ticket.code.encode() + b"\n")
    gate.stdin.flush()
    verdict = json.loads(gate.stdout.readline())
    os.kill(gate.pid, signal.SIGKILL)  # right after the verdict: no chance to upload or to flush anything
    gate.wait(timeout=10)
    assert (verdict["accepted"], verdict["offline"], verdict["holder"]) == (True, True, "Erika Mustermann")
    cluster.start()
    uploaded = pos.json("gate", "upload")
    assert (uploaded["recorded"], uploaded["pending"]) == (1, 0)
    assert [(g, first, offline) for g, first, offline, _ in entries_of(database, ticket.id)] == [
        ("west", True, True)
    ]
    assert pos.json("gate", "upload")["recorded"] == 0
    redeemed = pos("redeem", ticket.code, "--json")
    assert redeemed.returncode == 1 and json.loads(redeemed.stdout)["reason"] == "already_redeemed"
    seller.engine.dispose()


def test_an_upload_repeated_after_a_lost_acknowledgement_is_recorded_once(
    cluster, database, tmp_path, clock
) -> None:
    from pos.db.gate_copy import GateCopy
    from pos.services.door_gate import database_identity

    seller = Runtime(make_config(), database, operator="seller", clock=clock)
    used, fresh = issue_tickets(seller, ticket_article(seller, "Matinee"), 2)
    rt = gate_runtime(database, tmp_path, "east", clock)
    door.sync(rt, STEWARD, "east")
    assert door.scan(seller, STEWARD, used.code).accepted  # at another gate, after east's refresh
    cluster.stop()
    assert door.scan(rt, STEWARD, used.code).offline  # east admits it again: a conflict to be
    assert door.scan(rt, STEWARD, fresh.code).offline
    cluster.start()
    first = door.upload(rt, STEWARD, "east")
    assert (first.recorded, first.conflicts, first.pending) == (1, 1, 0)
    # The acknowledgements were lost (say the gate died before it marked them): both go out again.
    copy = GateCopy(tmp_path / "gate-east.db", database_identity(database))
    copy._db.execute("UPDATE queue SET uploaded_at = NULL, outcome = NULL")
    copy.close()
    state = rt.__dict__["_door_gates"]["east"]
    state.pending = 2
    again = door.upload(rt, STEWARD, "east")
    assert (again.recorded, again.conflicts, again.duplicates) == (0, 0, 2)
    assert len(entries_of(database, used.id)) == 2 and len(entries_of(database, fresh.id)) == 1
    assert len(door.conflicts(rt, ADMIN)) == 1
    seller.engine.dispose()


def test_forged_foreign_and_damaged_codes_are_answered_at_once_offline_as_online(
    cluster, database, tmp_path, clock
) -> None:
    rt = gate_runtime(database, tmp_path, "north", clock)
    secret = TEST_SECRET.encode()
    codes = {
        make_code("1000", 5, b"not-our-secret-0123456789"): "forged",
        make_code("2000", 5, secret): "foreign_brand",
        "100000000000015291505004"[:-1] + "x": "malformed",
        "1234": "malformed",
    }
    online = {code: door.scan(rt, STEWARD, code) for code in codes}
    cluster.freeze()
    try:
        stuck = threading.Thread(
            target=door.scan, args=(rt, STEWARD, make_code("1000", 7, secret)), daemon=True
        )
        stuck.start()  # a scan that waits for the frozen database
        time.sleep(0.05)
        for code, reason in codes.items():
            started = time.monotonic()
            verdict = door.scan(rt, STEWARD, code)
            assert time.monotonic() - started < 0.05, "a bad code waited for the database"
            assert (verdict.reason, verdict.accepted) == (reason, False)
            assert (verdict.reason, verdict.message.split(" (")[0]) == (
                online[code].reason,
                online[code].message.split(" (")[0],
            )
        stuck.join(timeout=5)
        assert not stuck.is_alive()
    finally:
        cluster.thaw()


def test_a_frozen_database_gives_an_offline_verdict_within_offline_after_ms(
    cluster, database, tmp_path, clock
) -> None:
    seller = Runtime(make_config(), database, operator="seller", clock=clock)
    tickets = issue_tickets(seller, ticket_article(seller, "Open air", repeat="daily"), 5)
    rt = gate_runtime(database, tmp_path, "north", clock)
    door.sync(rt, STEWARD, "north")
    assert door.scan(rt, STEWARD, tickets[0].code).accepted  # warm: a pooled connection to freeze
    cluster.freeze()
    try:
        timings = []
        for ticket in tickets[1:]:
            started = time.monotonic()
            verdict = door.scan(rt, STEWARD, ticket.code)
            timings.append(time.monotonic() - started)
            assert verdict.accepted and verdict.offline
        assert timings[0] <= WAIT_MS / 1000 + 0.1 and max(timings[1:]) < 0.1, timings
        again = door.scan(rt, STEWARD, tickets[0].code)  # the online entry, remembered: already today
        assert (again.reason, again.offline) == ("already_today", True)
    finally:
        cluster.thaw()
    wait_online(rt, "north")
    online = door.scan(rt, STEWARD, tickets[1].code)
    assert (online.reason, online.offline) == ("already_today", False)
    for ticket in tickets:  # the abandoned attempt committed nothing of its own: one entry each
        assert len(entries_of(database, ticket.id)) == 1
    seller.engine.dispose()


def test_a_row_held_by_another_connection_does_not_keep_the_steward_waiting(
    cluster, database, tmp_path, clock
) -> None:
    seller = Runtime(make_config(), database, operator="seller", clock=clock)
    ticket = issue_tickets(seller, ticket_article(seller, "Late show"))[0]
    rt = gate_runtime(database, tmp_path, "north", clock)
    door.sync(rt, STEWARD, "north")
    engine = create_engine(database)
    with engine.connect() as holder:
        holder.execute(text("SELECT id FROM ticket WHERE id = :t FOR UPDATE"), {"t": ticket.id})
        started = time.monotonic()
        verdict = door.scan(rt, STEWARD, ticket.code)
        assert time.monotonic() - started <= WAIT_MS / 1000 + 0.1
        assert verdict.accepted and verdict.offline
        holder.rollback()
    engine.dispose()
    wait_online(rt, "north")
    assert [offline for _g, _f, offline, _s in entries_of(database, ticket.id)] == [True]
    seller.engine.dispose()


def test_an_online_scan_takes_two_round_trips(cluster, database, tmp_path, clock) -> None:
    proxy = pg_cluster.Proxy(cluster.port, delay=0.05)  # 100 ms a round trip
    try:
        seller = Runtime(make_config(), database, operator="seller", clock=clock)
        tickets = issue_tickets(seller, ticket_article(seller, "Card", repeat="anytime"), 3)
        rt = gate_runtime(proxy.url(database), tmp_path, "north", clock)
        rt.config.gate.offline_after_ms = 2000
        door.scan(rt, STEWARD, tickets[0].code)  # connect (several round trips) before measuring
        for ticket in (tickets[1], tickets[1], tickets[2]):  # a first entry, a re-entry, another first
            started = time.monotonic()
            verdict = door.scan(rt, STEWARD, ticket.code)
            took = time.monotonic() - started
            assert verdict.accepted and not verdict.offline
            assert 0.2 <= took < 0.29, took  # two round trips of 100 ms, not three
        seller.engine.dispose()
    finally:
        proxy.close()
