"""The door check against a real database (SQLite and PostgreSQL): verdicts, what is recorded, corrections.

The scan itself is the adapter `pos.db.redemption.redeem`; the corrections and the verdict's words go through
the services (`pos.services.tickets`, `pos.services.door`) as every face calls them.

The test config has day_starts_at 05:00 in Europe/Berlin, so a party past midnight is one business day.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select
from stdnum import damm

from pos.db.engine import transaction
from pos.db.models import AuditLog, Entry, ScanLog, Ticket
from pos.db.redemption import redeem
from pos.domain.roles import Role
from pos.domain.ticket_code import make_code
from pos.errors import Forbidden, NotFound, Refused
from pos.services import door, tickets
from pos.services.base import Actor
from pos.services.tickets import Selection
from tests.conftest import TEST_SECRET
from tests.factories import bulk_issue_tickets, issue_tickets, ticket_article

BERLIN = ZoneInfo("Europe/Berlin")
ADMIN = Actor("tester", Role.ADMIN)
CASHIER = Actor("kasse", Role.CASHIER)


def show_ticket(rt, code: str) -> dict:
    return tickets.show_ticket(rt, CASHIER, code)


def protocol_delete(rt, code: str, entry_id: int) -> dict:
    return tickets.protocol_delete(rt, ADMIN, code, entry_id)


def reset(rt, selection: Selection, *, full: bool = False) -> dict:
    return tickets.reset(rt, ADMIN, selection, full=full)


def set_repeat(rt, selection: Selection, repeat: str, limit: int | None) -> dict:
    return tickets.set_repeat(rt, ADMIN, selection, repeat, limit)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def one_ticket(rt, name: str = "Ticket", **article) -> str:
    return issue_tickets(rt, ticket_article(rt, name, **article))[0].code


def verdicts(rt, code: str, *times: str, gate: str = "north") -> list[str]:
    return [
        "ok" if (r := redeem(rt, code, at=local(t), gate=gate)).accepted else str(r.reason) for t in times
    ]


def entries_of(rt, code: str) -> list[Entry]:
    with transaction(rt.engine) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.code == code)).one()
        return list(session.scalars(select(Entry).where(Entry.ticket_id == ticket.id).order_by(Entry.id)))


def test_single_use_is_accepted_once_and_tells_when_and_where(rt) -> None:
    code = one_ticket(rt)
    first = redeem(rt, code, at=local("2026-12-31T19:42"), gate="North")
    assert first.accepted and first.reason is None and first.entry == 1 and first.allowed_entries == 1
    assert first.holder == "Erika Mustermann" and first.article == "Ticket" and first.previous_at is None
    again = door.scan(rt, CASHIER, code, at=local("2026-12-31T21:00"), gate="South")
    assert not again.accepted and again.reason == "already_redeemed" and again.entry == 1
    assert again.previous_at == local("2026-12-31T19:42") and again.previous_gate == "North"
    assert "19:42 at gate North" in again.message
    with transaction(rt.engine) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.code == code)).one()
        assert ticket.first_redeemed_at == local("2026-12-31T19:42") and ticket.first_gate == "North"
        logged = session.scalars(select(ScanLog)).all()
        assert [(s.reason, s.gate, s.code, s.ticket_id) for s in logged] == [
            ("already_redeemed", "South", code, ticket.id)
        ]
        assert logged[0].terminal == "test-terminal"
    assert [(e.first, e.gate) for e in entries_of(rt, code)] == [(True, "North")]


def test_anytime_unlimited_and_limited(rt) -> None:
    season = one_ticket(rt, "Season", repeat="anytime")
    times = [f"2027-01-0{d}T1{h}:00" for d in range(1, 4) for h in range(3)]
    assert verdicts(rt, season, *times) == ["ok"] * 9
    assert redeem(rt, season, at=local("2027-01-05T10:00")).entry == 10
    card = one_ticket(rt, "Card", repeat="anytime", repeat_limit=2)
    assert verdicts(rt, card, *times[:4]) == ["ok", "ok", "ok", "limit_reached"]
    no_repeat = one_ticket(rt, "Zero", repeat="anytime", repeat_limit=0)
    assert verdicts(rt, no_repeat, *times[:2]) == ["ok", "already_redeemed"]


def test_daily_across_midnight_with_day_start_at_five(rt) -> None:
    code = one_ticket(rt, "Attendance", repeat="daily")
    assert verdicts(rt, code, "2026-12-31T22:00", "2027-01-01T02:00", "2027-01-01T04:59") == [
        "ok",
        "already_today",
        "already_today",
    ]
    assert verdicts(rt, code, "2027-01-01T05:00", "2027-01-01T23:00", "2027-01-02T05:01") == [
        "ok",
        "already_today",
        "ok",
    ]
    rejected = door.scan(rt, CASHIER, code, at=local("2027-01-03T01:00"), gate="east")
    assert rejected.reason == "already_today" and rejected.entry == 3
    assert rejected.previous_at == local("2027-01-02T05:01") and rejected.message.startswith(
        "already used today at 05:01"
    )


def test_ten_ride_card_daily_stops_after_ten(rt) -> None:
    code = one_ticket(rt, "10-ride", repeat="daily", repeat_limit=9)
    days = [f"2027-01-{d:02d}T18:00" for d in range(1, 13)]
    assert verdicts(rt, code, *days) == ["ok"] * 10 + ["limit_reached"] * 2
    assert redeem(rt, code, at=local("2027-02-01T18:00")).entry == 10


def test_same_day_re_entry_until_the_business_day_ends(rt) -> None:
    code = one_ticket(rt, "Day ticket", repeat="same-day")
    assert verdicts(
        rt, code, "2026-12-31T20:00", "2026-12-31T23:30", "2027-01-01T04:30", "2027-01-01T05:00"
    ) == [
        "ok",
        "ok",
        "ok",
        "not_same_day",
    ]
    late = redeem(rt, code, at=local("2027-01-02T12:00"))
    assert late.reason == "not_same_day" and late.previous_at == local("2026-12-31T20:00")


def test_validity_window_and_event_day(rt) -> None:
    window = one_ticket(
        rt,
        "Window",
        valid_from=local("2027-01-01T10:00"),
        valid_until=local("2027-01-01T12:00"),
        repeat="anytime",
    )
    assert verdicts(
        rt, window, "2027-01-01T09:59", "2027-01-01T10:00", "2027-01-01T12:00", "2027-01-01T12:01"
    ) == [
        "not_yet_valid",
        "ok",
        "ok",
        "expired",
    ]
    party = one_ticket(rt, "Silvester 31.12.2026", event_date=date(2026, 12, 31), repeat="same-day")
    assert verdicts(
        rt, party, "2026-12-31T04:59", "2026-12-31T05:00", "2027-01-01T04:59", "2027-01-01T05:00"
    ) == [
        "not_yet_valid",
        "ok",
        "ok",
        "expired",
    ]


def test_voided_unknown_other_brand_forged_and_typos(rt) -> None:
    article = ticket_article(rt, "Concert")
    voided = issue_tickets(rt, article, voided=True)[0].code
    good = issue_tickets(rt, article)[0].code
    secret = TEST_SECRET.encode()
    cases = {
        voided: "voided",
        make_code("1000", 999_999, secret): "unknown",
        make_code("2000", 1, secret): "foreign_brand",
        make_code("2000", 1, b"another brand's secret"): "foreign_brand",
        make_code("1000", 2, b"guessed-secret-0123456789"): "forged",
    }
    body = good[:14] + ("1" if good[14] != "1" else "2") + good[15:23]
    cases[body + damm.calc_check_digit(body)] = "forged"  # a changed MAC digit with a right check digit
    for position in range(24):
        typo = good[:position] + str((int(good[position]) + 3) % 10) + good[position + 1 :]
        cases[typo] = "malformed"
    for position in range(23):
        if good[position] != good[position + 1]:
            cases[good[:position] + good[position + 1] + good[position] + good[position + 2 :]] = "malformed"
    for code, reason in cases.items():
        result = redeem(rt, code)
        assert (result.accepted, result.reason) == (False, reason), code
    assert redeem(rt, good).accepted
    with transaction(rt.engine) as session:
        reasons = session.scalars(select(ScanLog.reason)).all()
        assert sorted(reasons) == sorted(cases.values())
        unknown = session.scalars(select(ScanLog).where(ScanLog.reason == "unknown")).one()
        assert unknown.ticket_id is None and unknown.code == make_code("1000", 999_999, secret)


GARBAGE = [
    "",
    " ",
    "x" * 5000,
    "9" * 5000,
    "\x1b[2J\x1b[31mREJECT\x07",
    "１０００" + "０" * 20,  # full-width digits
    "١٠٠٠" + "٠" * 20,  # Arabic-Indic digits
    "1000000000000001529150500４",
    "'; DROP TABLE ticket; --",
    "1 OR 1=1",
    "100000000000015291505004\x00",
    "\x00" * 30,
    "\udcff\udcfe" * 12,  # undecodable bytes kept as surrogates
    " 100000000000015291505004",
    "100000000000015291505004\n",
]


def test_garbage_is_malformed_and_logged_printable(rt) -> None:
    one_ticket(rt)
    for scanned in GARBAGE:
        result = redeem(rt, scanned)
        assert (result.accepted, result.reason, result.entry) == (False, "malformed", 0), repr(scanned)
        assert len(result.code) <= 64 and "\x1b" not in result.code and "\x00" not in result.code
    with transaction(rt.engine) as session:
        logged = session.scalars(select(ScanLog).order_by(ScanLog.id)).all()
        assert [s.reason for s in logged] == ["malformed"] * len(GARBAGE)
        assert max(len(s.code) for s in logged) == 64 and all(s.code.isprintable() for s in logged)
        assert session.execute(select(func.count()).select_from(Ticket)).scalar_one() == 1


class Statements(list[str]):
    """SQLite reports a statement again for every step its triggers run: one entry per statement here."""

    def append(self, statement: str) -> None:
        if not self or self[-1] != statement:
            super().append(statement)


def trace(rt) -> list[str]:
    """Every statement SQLite runs from now on, the hot path's driver-level ones included."""
    statements = Statements()
    event.listen(rt.engine, "checkout", lambda dbapi, *_: dbapi.set_trace_callback(statements.append))
    return statements


def test_bad_codes_are_refused_without_a_ticket_lookup(sqlite_rt) -> None:
    one_ticket(sqlite_rt)
    secret = TEST_SECRET.encode()
    statements = trace(sqlite_rt)
    bad = [*GARBAGE, make_code("2000", 1, secret), make_code("1000", 1, b"guessed-secret-0123456789")]
    assert [redeem(sqlite_rt, code).reason for code in bad[-2:]] == ["foreign_brand", "forged"]
    for scanned in bad[:-2]:
        redeem(sqlite_rt, scanned)
    touched = [s for s in statements if not s.startswith(("PRAGMA", "BEGIN", "COMMIT"))]
    assert len(touched) == len(bad) and all(s.startswith("INSERT INTO scan_log") for s in touched)


def test_the_hot_path_is_a_handful_of_statements(sqlite_rt) -> None:
    code = one_ticket(sqlite_rt, repeat="anytime", repeat_limit=1)
    statements = trace(sqlite_rt)

    def scan() -> list[str]:
        statements.clear()
        redeem(sqlite_rt, code)
        return [" ".join(s.split()[:3]) for s in statements]

    assert scan() == [
        "BEGIN IMMEDIATE",
        "SELECT t.id, t.voided,",
        "SELECT at, gate",
        "INSERT INTO entry",
        "UPDATE ticket SET",
        "COMMIT",
    ]
    assert scan() == [
        "BEGIN IMMEDIATE",
        "SELECT t.id, t.voided,",
        "SELECT at, gate",
        "INSERT INTO entry",
        "COMMIT",
    ]
    # a rejection: the locked read ends without writing, the log is committed without a flush
    assert scan() == [
        "BEGIN IMMEDIATE",
        "SELECT t.id, t.voided,",
        "SELECT at, gate",
        "ROLLBACK",
        "PRAGMA synchronous",
        "PRAGMA synchronous=NORMAL",
        "BEGIN IMMEDIATE",
        "INSERT INTO scan_log",
        "COMMIT",
        "PRAGMA synchronous=2",
    ]
    with sqlite_rt.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL again on the pooled connection
    with transaction(sqlite_rt.engine) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.code == code)).one()
        assert ticket.first_redeemed_at == sqlite_rt.now() and ticket.first_gate == "north"
        assert [s.reason for s in session.scalars(select(ScanLog))] == ["limit_reached"]
    assert [(e.at, e.first, e.terminal) for e in entries_of(sqlite_rt, code)] == [
        (sqlite_rt.now(), True, "test-terminal"),
        (sqlite_rt.now(), False, "test-terminal"),
    ]


def test_at_records_a_scan_made_earlier(rt, clock) -> None:
    code = one_ticket(rt, repeat="daily")
    offline = redeem(rt, code, at=local("2026-12-30T20:00"), gate="offline-gate")
    assert offline.accepted and offline.at == local("2026-12-30T20:00")
    assert redeem(rt, code).accepted  # now is 2026-12-31 21:00, another business day
    assert [(e.at, e.gate, e.first) for e in entries_of(rt, code)] == [
        (local("2026-12-30T20:00"), "offline-gate", True),
        (clock.now, "north", False),
    ]


def test_protocol_credit_then_accept(rt) -> None:
    code = one_ticket(rt, "3-visit card", repeat="anytime", repeat_limit=2)
    assert verdicts(
        rt, code, "2027-01-01T10:00", "2027-01-02T10:00", "2027-01-03T10:00", "2027-01-04T10:00"
    ) == [
        "ok",
        "ok",
        "ok",
        "limit_reached",
    ]
    shown = show_ticket(rt, code)
    assert shown["first_redeemed_at"] == "2027-01-01T10:00:00+01:00"
    assert [p["at"] for p in shown["protocol"]] == ["2027-01-02T10:00:00+01:00", "2027-01-03T10:00:00+01:00"]
    first_entry = entries_of(rt, code)[0]
    with pytest.raises(Refused, match="first validation"):
        protocol_delete(rt, code, first_entry.id)
    with pytest.raises(NotFound, match="no protocol entry"):
        protocol_delete(rt, code, 10_000)
    after = protocol_delete(rt, code, shown["protocol"][0]["id"])
    assert [p["id"] for p in after["protocol"]] == [shown["protocol"][1]["id"]]
    assert verdicts(rt, code, "2027-01-05T10:00", "2027-01-06T10:00") == ["ok", "limit_reached"]
    with transaction(rt.engine) as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "ticket.protocol_delete")).one()
        assert audit.operator == "tester" and audit.terminal == "test-terminal" and audit.at == rt.now()
        assert json.loads(audit.before)["at"] == "2027-01-02T10:00:00+01:00" and audit.after is None


def test_reset_keeps_the_first_validation_and_full_undoes_it(rt) -> None:
    article = ticket_article(rt, "Day pass", repeat="same-day", repeat_limit=1)
    a, b, c = (t.code for t in issue_tickets(rt, article, 3))
    other = one_ticket(rt, "Other", repeat="anytime")
    for code in (a, b, c, other):
        assert verdicts(rt, code, "2026-12-31T20:00", "2026-12-31T21:00") == ["ok", "ok"]
    assert verdicts(rt, a, "2026-12-31T22:00") == ["limit_reached"]
    assert reset(rt, Selection(codes=[a, a])) == {
        "tickets": 1,
        "entries_deleted": 1,
        "first_validations_undone": 0,
    }
    assert verdicts(rt, a, "2026-12-31T22:00", "2027-01-01T22:00") == ["ok", "limit_reached"]
    assert show_ticket(rt, a)["first_redeemed_at"] == "2026-12-31T20:00:00+01:00"

    done = reset(rt, Selection(article="Day pass"), full=True)
    assert done == {"tickets": 3, "entries_deleted": 6, "first_validations_undone": 3}
    for code in (a, b, c):
        assert show_ticket(rt, code)["first_redeemed_at"] is None and entries_of(rt, code) == []
    assert verdicts(rt, b, "2027-01-02T20:00") == ["ok"]  # undone: a new first day
    assert len(entries_of(rt, other)) == 2  # another article is untouched

    everything = reset(rt, Selection(all_tickets=True))
    assert everything["entries_deleted"] == 1 and len(entries_of(rt, other)) == 1
    with transaction(rt.engine) as session:
        audits = session.scalars(
            select(AuditLog).where(AuditLog.action.like("ticket.reset%")).order_by(AuditLog.id)
        )
        rows = [(x.action, x.target, json.loads(x.before), json.loads(x.after)) for x in audits]
    assert [r[:2] for r in rows] == [
        ("ticket.reset", f"tickets #{rows[0][1].split('#')[1]}"),
        ("ticket.reset_full", f"article #{article.id}"),
        ("ticket.reset", "all tickets"),
    ]
    assert rows[0][2]["entries"] == 1 and list(rows[0][2]["by_ticket"].values())[0][0]["first"] is False
    assert rows[1][2] == {"entries": 6} and rows[1][3]["first_validations_undone"] == 3


def test_reset_and_set_repeat_need_exactly_one_selection(rt) -> None:
    code = one_ticket(rt)
    for selection in (Selection(), Selection(codes=[code], all_tickets=True)):
        with pytest.raises(Refused, match="exactly one"):
            reset(rt, selection)
        with pytest.raises(Refused, match="exactly one"):
            set_repeat(rt, selection, "daily", None)
    with pytest.raises(NotFound, match="not a valid code"):
        reset(rt, Selection(codes=["12345"]))
    with pytest.raises(NotFound, match="No ticket"):
        reset(rt, Selection(codes=[make_code("1000", 4711, TEST_SECRET.encode())]))
    with pytest.raises(NotFound, match="does not exist"):
        set_repeat(rt, Selection(article="Nope"), "daily", None)


def test_bulk_set_repeat_after_the_sale(rt) -> None:
    article = ticket_article(rt, "Festival")
    codes = [t.code for t in issue_tickets(rt, article, 4)]
    other = one_ticket(rt, "Other")
    assert verdicts(rt, codes[0], "2027-01-01T20:00", "2027-01-02T20:00") == ["ok", "already_redeemed"]

    changed = set_repeat(rt, Selection(article="Festival"), "daily", 2)
    assert changed == {"tickets": 4, "repeat": "daily", "repeat_limit": 2}
    assert verdicts(
        rt, codes[0], "2027-01-02T20:00", "2027-01-02T21:00", "2027-01-03T20:00", "2027-01-04T20:00"
    ) == [
        "ok",
        "already_today",
        "ok",
        "limit_reached",
    ]
    assert show_ticket(rt, other)["repeat"] == "none"

    assert set_repeat(rt, Selection(codes=codes[1:3]), "anytime", None)["tickets"] == 2
    assert [show_ticket(rt, c)["repeat_limit"] for c in codes] == [2, "unlimited", "unlimited", 2]
    assert set_repeat(rt, Selection(all_tickets=True), "none", 5) == {
        "tickets": 5,
        "repeat": "none",
        "repeat_limit": None,
    }
    assert verdicts(rt, codes[0], "2027-01-05T20:00") == ["already_redeemed"]
    with transaction(rt.engine) as session:
        audits = session.scalars(
            select(AuditLog).where(AuditLog.action == "ticket.set_repeat").order_by(AuditLog.id)
        )
        befores = [json.loads(x.before) for x in audits]
    assert befores[0] == {"none": 4}
    assert sorted(befores[1].values(), key=str) == [{"repeat": "daily", "repeat_limit": 2}] * 2
    assert befores[2] == {"anytime/unlimited": 2, "daily/2": 2, "none": 1}


def test_bulk_issued_tickets_scan_and_later_sales_continue_the_serials(rt) -> None:
    article = ticket_article(rt, "Open air", repeat="daily", repeat_limit=1)
    bulk = bulk_issue_tickets(rt, article, 250, batch=100)
    assert [t.id for t in bulk] == list(range(1, 251)) and len({t.code for t in bulk}) == 250
    assert verdicts(rt, bulk[-1].code, "2027-01-01T20:00", "2027-01-01T21:00") == ["ok", "already_today"]
    later = issue_tickets(rt, article, 2)
    assert [t.id for t in later] == [251, 252]  # the PostgreSQL sequence was moved past the bulk serials
    assert redeem(rt, later[0].code).accepted
    shown = show_ticket(rt, bulk[0].code)
    assert shown["repeat"] == "daily" and shown["repeat_limit"] == 1 and shown["first_redeemed_at"] is None


def test_a_cashier_may_read_but_not_correct(rt) -> None:
    code = one_ticket(rt, repeat="anytime")
    assert door.scan(rt, CASHIER, code).accepted and door.scan(rt, CASHIER, code).entry == 2
    assert tickets.show_ticket(rt, CASHIER, code)["code"] == code
    entry_id = show_ticket(rt, code)["protocol"][0]["id"]
    for correction in (
        lambda: tickets.protocol_delete(rt, CASHIER, code, entry_id),
        lambda: tickets.reset(rt, CASHIER, Selection(codes=[code])),
        lambda: tickets.set_repeat(rt, CASHIER, Selection(all_tickets=True), "none", None),
    ):
        with pytest.raises(Forbidden, match="Only an admin may"):
            correction()
    assert len(entries_of(rt, code)) == 2
