"""Offline and online verdicts agree: random scans of a mixed set of tickets, each decided by the gate from its
local copy (without recording) and then by the database (recording), on SQLite and PostgreSQL.

The default run checks 600 scans; `-m slow` checks 10,000.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from pos.domain.roles import Role
from pos.domain.ticket_code import make_code
from pos.services import door
from pos.services.base import Actor
from tests.conftest import TEST_SECRET
from tests.factories import issue_tickets, ticket_article

STEWARD = Actor("steward", Role.CASHIER)
BASE = datetime(2027, 1, 10, 18, 0, tzinfo=UTC)
KINDS = [
    {"name": "Single"},
    {"name": "Season", "repeat": "anytime"},
    {"name": "Three visits", "repeat": "anytime", "repeat_limit": 2},
    {"name": "Daily", "repeat": "daily"},
    {"name": "Daily 4", "repeat": "daily", "repeat_limit": 3},
    {"name": "Day ticket", "repeat": "same-day"},
    {"name": "Day ticket twice", "repeat": "same-day", "repeat_limit": 1},
    {"name": "Window", "repeat": "anytime", "valid_from": BASE, "valid_until": BASE + timedelta(days=2)},
    {"name": "Event 11.01.2027", "event_date": date(2027, 1, 11), "repeat": "same-day"},
]


def compare(rt, scans: int, seed: int) -> int:
    rng = random.Random(seed)
    codes: list[str] = []
    for kind in KINDS:
        article = ticket_article(rt, **kind)
        codes += [t.code for t in issue_tickets(rt, article, 6)]
        codes += [t.code for t in issue_tickets(rt, article, 1, voided=True)]
    secret = TEST_SECRET.encode()
    codes += [make_code("1000", 777, b"not-our-secret-0123456789"), make_code("2000", 3, secret), "12345"]
    door.sync(rt, STEWARD)
    checked = 0
    while checked < scans:
        batch = rng.sample(codes, min(len(codes), 25, scans - checked))  # each code once per refresh
        for code in batch:
            at = BASE + timedelta(minutes=rng.randrange(-2 * 24 * 60, 5 * 24 * 60))
            offline = door.offline_verdict(rt, STEWARD, code, at=at)
            online = door.scan(rt, STEWARD, code, at=at)
            assert not online.offline
            got = (offline.accepted, offline.reason, offline.entry, offline.allowed_entries)
            want = (online.accepted, online.reason, online.entry, online.allowed_entries)
            assert got == want, (code, at, offline, online)
            assert (offline.previous_at, offline.previous_gate) == (online.previous_at, online.previous_gate)
            checked += 1
        door.sync(rt, STEWARD)
    return checked


def test_offline_and_online_agree_on_random_scans(rt) -> None:
    assert compare(rt, 600, seed=7) == 600


@pytest.mark.slow
def test_offline_and_online_agree_on_ten_thousand_random_scans(rt) -> None:
    assert compare(rt, 10_000, seed=2027) == 10_000
