"""Attendance export and door report against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, update

from pos.db.engine import make_engine, transaction
from pos.db.export import export_attendance, xml_text
from pos.db.models import Entry, Ticket
from pos.domain.clock import business_day, iso_local
from pos.errors import NotFound, Refused
from pos.runtime import Runtime
from tests.conftest import test_config as config_with
from tests.export_data import BERLIN, HOSTILE_NAME, Scenario, local, register, reject, seed
from tests.factories import bulk_issue_tickets, issue_tickets, ticket_article


def export(rt: Runtime, fmt: str, **options: Any) -> str:
    out = io.StringIO(newline="")
    export_attendance(rt, out, fmt=fmt, **options)
    return out.getvalue()


def csv_rows(rt: Runtime, **options: Any) -> tuple[list[str], dict[str, list[str]]]:
    """Header and rows by ticket code."""
    rows = list(csv.reader(io.StringIO(export(rt, "csv", **options), newline="")))
    return rows[0], {row[0]: row for row in rows[1:]}


def registrations(rt: Runtime, **options: Any) -> dict[str, list[dict[str, Any]]]:
    return {p["code"]: p["registrations"] for p in json.loads(export(rt, "json", **options))}


def iso(text: str) -> str:
    return iso_local(local(text), BERLIN) or ""


@pytest.fixture
def scenario(rt: Runtime) -> Scenario:
    return seed(rt)


def test_csv_exact_gives_every_registration_its_own_column_and_the_busiest_participant_decides(
    rt: Runtime, scenario: Scenario
) -> None:
    header, rows = csv_rows(rt)
    assert header == ["code", "name", "email", "article", "first_validation"] + [
        f"registration_{n}" for n in range(1, 6)
    ]
    assert all(len(row) == len(header) for row in rows.values())
    regular = rows[scenario.codes[scenario.regular]]
    assert regular[1:5] == [HOSTILE_NAME, "anna@example.org", "Silvester", iso("2026-12-31T21:00:10")]
    assert regular[5:] == [
        iso("2026-12-31T21:00:10"),
        iso("2026-12-31T21:40:00"),
        iso("2026-12-31T23:30:00"),
        iso("2027-01-01T02:00:00"),
        iso("2027-01-01T06:00:00"),
    ]
    assert regular[5] == "2026-12-31T21:00:10+01:00"
    assert rows[scenario.codes[scenario.single]][5:] == [iso("2026-12-31T22:15:00"), "", "", "", ""]
    assert rows[scenario.codes[scenario.no_show]][4:] == [""] * 6


def test_voided_tickets_are_never_listed(rt: Runtime, scenario: Scenario) -> None:
    voided = scenario.codes[scenario.voided]
    for options in ({}, {"exclude_no_shows": True}, {"articles": ["Konzert"]}, {"precision": "day"}):
        assert voided not in csv_rows(rt, **options)[1]
        assert voided not in registrations(rt, **options)
    assert export_attendance(rt, io.StringIO(), fmt="csv") == 4


def test_day_precision_merges_a_night_past_midnight_into_one_business_day(
    rt: Runtime, scenario: Scenario
) -> None:
    merged = registrations(rt, precision="day", count=True)
    assert merged[scenario.codes[scenario.regular]] == [
        {"at": iso("2026-12-31T21:00:10"), "count": 4},  # 21:00 .. 02:00: one business day from 05:00
        {"at": iso("2027-01-01T06:00:00"), "count": 1},
    ]
    header, rows = csv_rows(rt, precision="day", count=True)
    assert header[5:] == ["registration_1", "count_1", "registration_2", "count_2"]
    assert rows[scenario.codes[scenario.regular]][5:] == [
        iso("2026-12-31T21:00:10"),
        "4",
        iso("2027-01-01T06:00:00"),
        "1",
    ]


def test_day_precision_splits_at_day_start_not_at_midnight(rt: Runtime, scenario: Scenario) -> None:
    rt.config = config_with(venue={"day_starts_at": "00:00"})
    merged = registrations(rt, precision="day", count=True)
    assert [r["count"] for r in merged[scenario.codes[scenario.regular]]] == [3, 2]


def test_hour_precision_merges_registrations_of_one_local_hour(rt: Runtime, scenario: Scenario) -> None:
    merged = registrations(rt, precision="hour", count=True)
    assert merged[scenario.codes[scenario.regular]] == [
        {"at": iso("2026-12-31T21:00:10"), "count": 2},
        {"at": iso("2026-12-31T23:30:00"), "count": 1},
        {"at": iso("2027-01-01T02:00:00"), "count": 1},
        {"at": iso("2027-01-01T06:00:00"), "count": 1},
    ]
    header, _ = csv_rows(rt, precision="hour")
    assert len(header) == 5 + 4


def test_count_key_only_when_asked(rt: Runtime, scenario: Scenario) -> None:
    plain = registrations(rt)
    assert plain[scenario.codes[scenario.single]] == [{"at": iso("2026-12-31T22:15:00")}]


def test_no_shows_are_listed_unless_excluded(rt: Runtime, scenario: Scenario) -> None:
    no_show = scenario.codes[scenario.no_show]
    everyone = json.loads(export(rt, "json"))
    listed = {p["code"]: p for p in everyone}
    assert listed[no_show]["registrations"] == [] and listed[no_show]["first_validation"] is None
    assert listed[no_show]["name"] == "Nobody Came" and listed[no_show]["email"] is None
    present = registrations(rt, exclude_no_shows=True)
    assert no_show not in present
    assert len(present) == 3
    assert no_show not in csv_rows(rt, exclude_no_shows=True)[1]


def test_article_filter_by_name_or_id(rt: Runtime, scenario: Scenario) -> None:
    assert set(registrations(rt, articles=["Konzert"])) == {scenario.codes[scenario.concert]}
    party = {scenario.codes[t] for t in (scenario.regular, scenario.single, scenario.no_show)}
    assert set(registrations(rt, articles=["Silvester"])) == party
    with transaction(rt.engine) as session:
        concert_id = session.get(Ticket, scenario.concert).article_id
    assert set(registrations(rt, articles=[f"#{concert_id}", "Silvester"])) == party | {
        scenario.codes[scenario.concert]
    }
    assert set(registrations(rt, articles=[concert_id])) == {scenario.codes[scenario.concert]}
    with pytest.raises(NotFound, match="'Nope'"):
        export(rt, "csv", articles=["Nope"])


def test_xml_is_well_formed_whatever_the_names_contain(rt: Runtime, scenario: Scenario) -> None:
    with transaction(rt.engine) as session:
        session.execute(
            update(Ticket)
            .where(Ticket.id == scenario.no_show)
            .values(holder_name="</participant>\x08&amp;\r\n\t")
        )
    root = ET.fromstring(export(rt, "xml", count=True).encode("utf-8"))
    assert root.tag == "attendance"
    participants = {p.get("code"): p for p in root.iter("participant")}
    assert len(participants) == 4
    regular = participants[scenario.codes[scenario.regular]]
    assert regular.get("name") == "Anna <&>\"'  Müller & Söhne]]>"  # control characters dropped
    assert regular.get("name") == xml_text(HOSTILE_NAME)
    assert regular.get("email") == "anna@example.org" and regular.get("article") == "Silvester"
    assert [(r.get("at"), r.get("count")) for r in regular.iter("registration")][0] == (
        iso("2026-12-31T21:00:10"),
        "1",
    )
    assert participants[scenario.codes[scenario.no_show]].get("name") == "</participant>&amp;\r\n\t"
    assert list(participants[scenario.codes[scenario.no_show]]) == []


def test_xml_without_count_has_no_count_attribute(rt: Runtime, scenario: Scenario) -> None:
    root = ET.fromstring(export(rt, "xml", precision="day"))
    regs = [r.attrib for r in root.iter("registration")]
    assert regs and all(set(r) == {"at"} for r in regs)


def test_json_is_one_array_of_participants(rt: Runtime, scenario: Scenario) -> None:
    participants = json.loads(export(rt, "json", count=True))
    regular = next(p for p in participants if p["code"] == scenario.codes[scenario.regular])
    assert set(regular) == {"code", "name", "email", "article", "first_validation", "registrations"}
    assert regular["name"] == HOSTILE_NAME
    assert [p["code"] for p in participants] == sorted(p["code"] for p in participants)


def test_empty_database_exports_valid_documents(rt: Runtime) -> None:
    assert json.loads(export(rt, "json")) == []
    assert list(ET.fromstring(export(rt, "xml"))) == []
    assert export(rt, "csv") == "code,name,email,article,first_validation\r\n"


def test_excel_csv_has_a_byte_order_mark_and_semicolons(rt: Runtime, scenario: Scenario) -> None:
    text = export(rt, "csv", excel=True)
    assert text.startswith("\ufeffcode;name;email;article;first_validation;registration_1;")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))
    assert {row[0] for row in rows[1:]} == {
        scenario.codes[t] for t in (scenario.regular, scenario.single, scenario.no_show, scenario.concert)
    }
    with pytest.raises(Refused):
        export(rt, "json", excel=True)


def test_bad_format_and_precision_are_one_sentence(rt: Runtime) -> None:
    with pytest.raises(Refused, match="format 'yaml'"):
        export(rt, "yaml")
    with pytest.raises(Refused, match="Precision 'minute'"):
        export(rt, "csv", precision="minute")


def test_period_selects_registrations_by_business_day(rt: Runtime, scenario: Scenario) -> None:
    new_year = date(2026, 12, 31)
    found = registrations(rt, date_from=new_year, date_to=new_year)
    assert len(found[scenario.codes[scenario.regular]]) == 4  # 06:00 on 1 January is the next business day
    assert found[scenario.codes[scenario.concert]] == []  # attended another day: a no-show in this period
    present = registrations(rt, date_from=new_year, date_to=new_year, exclude_no_shows=True)
    assert set(present) == {scenario.codes[scenario.regular], scenario.codes[scenario.single]}
    header, rows = csv_rows(rt, date_from=date(2027, 1, 1), date_to=date(2027, 1, 2))
    assert len(header) == 6
    assert rows[scenario.codes[scenario.regular]][4:] == [
        iso("2026-12-31T21:00:10"),
        iso("2027-01-01T06:00:00"),
    ]
    since = registrations(rt, date_from=local("2027-01-01T01:00"))
    assert [r["at"] for r in since[scenario.codes[scenario.regular]]] == [
        iso("2027-01-01T02:00:00"),
        iso("2027-01-01T06:00:00"),
    ]
    until = registrations(rt, date_to=local("2026-12-31T21:40:00").astimezone(UTC))  # an instant: excluded
    assert len(until[scenario.codes[scenario.regular]]) == 1


def test_period_end_before_start_is_refused(rt: Runtime) -> None:
    with pytest.raises(Refused, match="start of the period must lie before its end"):
        export(rt, "csv", date_from=date(2027, 1, 2), date_to=date(2027, 1, 1))


def _instants_around_transitions() -> list[datetime]:
    """Every 20 minutes over the days around the 2026 DST changes in Europe and North America."""
    times = []
    for day in (
        datetime(2026, 3, 7, tzinfo=UTC),
        datetime(2026, 3, 28, tzinfo=UTC),
        datetime(2026, 10, 24, tzinfo=UTC),
        datetime(2026, 10, 31, tzinfo=UTC),
    ):
        times += [day + timedelta(minutes=20 * n, seconds=7, microseconds=999_999) for n in range(3 * 72)]
    return times


@pytest.mark.parametrize(
    ("zone", "day_start"),
    [
        ("Europe/Berlin", "05:00"),
        ("Europe/Berlin", "02:30"),  # the day starts inside the DST gap / the repeated hour
        ("Europe/Berlin", "00:00"),
        ("Asia/Kathmandu", "05:00"),  # +05:45: no hour of UTC is an hour of local time
        ("America/St_Johns", "00:00"),  # -03:30 with DST
    ],
)
def test_times_days_and_hours_agree_with_the_clock_rules_across_dst(
    rt: Runtime, zone: str, day_start: str
) -> None:
    rt.config = config_with(venue={"timezone": zone, "day_starts_at": day_start})
    venue = rt.config.venue
    (ticket,) = issue_tickets(rt, ticket_article(rt, "Saison", repeat="anytime"), 1)
    times = _instants_around_transitions()
    register(rt, ticket.id, *times)

    def runs(key: Any) -> list[dict[str, Any]]:
        merged: list[dict[str, Any]] = []
        last = object()
        for at in times:
            if key(at) == last:
                merged[-1]["count"] += 1
            else:
                merged.append({"at": iso_local(at, venue.zone), "count": 1})
                last = key(at)
        return merged

    exact = registrations(rt, count=True)[ticket.code]
    assert exact == [{"at": iso_local(at, venue.zone), "count": 1} for at in times]
    days = runs(lambda at: business_day(at, venue.zone, venue.day_start_minutes))
    assert registrations(rt, precision="day", count=True)[ticket.code] == days
    hours = runs(lambda at: at.astimezone(venue.zone).replace(minute=0, second=0, tzinfo=None))
    assert registrations(rt, precision="hour", count=True)[ticket.code] == hours
    assert len(csv_rows(rt, precision="day")[0]) == 5 + len(days)
    assert len(csv_rows(rt, precision="hour")[0]) == 5 + len(hours)


class CountingSink(io.TextIOBase):
    """Discards what is written; counts characters (a stand-in for a huge output file)."""

    def __init__(self) -> None:
        self.characters = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.characters += len(text)
        return len(text)


def test_export_streams_through_a_server_side_cursor_in_small_batches(rt: Runtime) -> None:
    tickets = bulk_issue_tickets(rt, ticket_article(rt, "Saison", repeat="anytime"), 3000, holder_name="X")
    start = datetime(2026, 12, 1, 18, tzinfo=UTC)
    entries = [
        {
            "ticket_id": t.id,
            "at": start + timedelta(minutes=n + i),
            "gate": "g",
            "first": n == 0,
            "terminal": "t",
        }
        for i, t in enumerate(tickets)
        for n in range(4)
    ]
    with transaction(rt.engine) as session:
        session.execute(insert(Entry), entries)
    executions: list[tuple[str, dict[str, Any], str]] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        executions.append((statement, dict(context.execution_options), type(cursor).__name__))

    event.listen(rt.engine, "before_cursor_execute", seen)
    progress: dict[str, list[tuple[int, int]]] = {}
    for fmt in ("csv", "json", "xml"):
        calls = progress.setdefault(fmt, [])
        written = export_attendance(
            rt,
            CountingSink(),
            fmt=fmt,
            yield_per=100,
            progress=lambda d, t, calls=calls: calls.append((d, t)),
        )
        assert written == 3000
    event.remove(rt.engine, "before_cursor_execute", seen)
    streamed = [e for e in executions if "ORDER BY" in e[0]]
    assert len(streamed) == 3
    assert all(
        options.get("stream_results") and options.get("yield_per") == 100 for _, options, _ in streamed
    )
    if rt.engine.dialect.name == "postgresql":
        assert all(cursor == "ServerCursor" for *_, cursor in streamed)
    for calls in progress.values():
        assert calls == [(0, 3000), (1000, 3000), (2000, 3000), (3000, 3000), (3000, 3000)]

    # memory stays flat: 12,000 rows and 840 kB written, about 90 kB held at the peak (fetchall: megabytes)
    peak, characters = export_peak_in_a_fresh_process(rt.database_url)
    assert characters > 800_000
    assert peak < characters / 4


# Run in its own process: tracemalloc counts every thread's allocations, and a background thread another test
# left in this worker (a gate's copy refresh, say) can allocate during the export.
PEAK_SCRIPT = """
import json, sys, tracemalloc
from pos.db.export import export_attendance
from pos.runtime import Runtime
from tests.conftest import test_config
from tests.db.test_export import CountingSink

rt = Runtime(config=test_config(), database_url=sys.argv[1])
export_attendance(rt, CountingSink(), fmt="json", yield_per=100)  # imports and compiled SQL out of the count
sink = CountingSink()
tracemalloc.start()
export_attendance(rt, sink, fmt="json", yield_per=100)
print(json.dumps([tracemalloc.get_traced_memory()[1], sink.characters]))
"""


def export_peak_in_a_fresh_process(database_url: str) -> tuple[int, int]:
    """(peak bytes traced, characters written) of one JSON export of everything."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, database_url],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    peak, characters = json.loads(done.stdout.splitlines()[-1])
    return peak, characters


def test_export_reads_a_snapshot_and_never_blocks_the_tills(rt: Runtime, scenario: Scenario) -> None:
    """A write during the export goes through at once; the export shows the state it started with."""
    other = make_engine(rt.database_url)
    wrote: list[bool] = []

    def scan_meanwhile(done: int, total: int) -> None:
        if not wrote:
            with transaction(other) as session:
                session.add(
                    Entry(ticket_id=scenario.no_show, at=local("2027-01-03T20:00"), gate="x", first=True)
                )
            wrote.append(True)

    out = io.StringIO()
    export_attendance(rt, out, fmt="json", progress=scan_meanwhile)
    other.dispose()
    assert wrote
    listed = {p["code"]: p for p in json.loads(out.getvalue())}
    assert listed[scenario.codes[scenario.no_show]]["registrations"] == []
    assert registrations(rt)[scenario.codes[scenario.no_show]] == [{"at": iso("2027-01-03T20:00:00")}]


def test_name_falls_back_to_the_customer_or_guest_of_the_order(rt: Runtime) -> None:
    from pos.db.models import Customer, Order

    art = ticket_article(rt, "Konzert")
    (guest,) = issue_tickets(rt, art, 1, holder_name=None)
    (customer,) = issue_tickets(rt, art, 1, holder_name=None)
    with transaction(rt.engine) as session:
        session.execute(
            update(Order).where(Order.id == guest.order_id).values(guest_name="Gast", guest_email="g@x")
        )
        buyer = Customer(name="Kundin", email="k@x")
        session.add(buyer)
        session.flush()
        session.execute(update(Order).where(Order.id == customer.order_id).values(customer_id=buyer.id))
    listed = {p["code"]: p for p in json.loads(export(rt, "json"))}
    assert (listed[guest.code]["name"], listed[guest.code]["email"]) == ("Gast", "g@x")
    assert (listed[customer.code]["name"], listed[customer.code]["email"]) == ("Kundin", "k@x")


def test_door_report_counts_entries_per_hour_and_gate_and_rejections_per_reason(
    rt: Runtime, scenario: Scenario
) -> None:
    from pos.db.export import door_report

    reject(rt, local("2026-12-31T21:05"), "forged")
    reject(rt, local("2026-12-31T21:06"), "forged", gate="south")
    reject(rt, local("2026-12-31T22:30"), "already_redeemed")
    reject(rt, local("2027-01-05T22:30"), "expired")
    report = door_report(rt, date_from=date(2026, 12, 31), date_to=date(2026, 12, 31))
    assert report["from"] == "2026-12-31T05:00:00+01:00" and report["to"] == "2027-01-01T05:00:00+01:00"
    # regular 4 (21:00, 21:40, 23:30, 02:00), single 22:15, voided 22:00: entries happened at the door
    assert (report["entries"], report["first_entries"], report["re_entries"]) == (6, 3, 3)
    assert report["entries_by_hour"] == [
        {"hour": "2026-12-31T21:00:00+01:00", "entries": 2},
        {"hour": "2026-12-31T22:00:00+01:00", "entries": 2},
        {"hour": "2026-12-31T23:00:00+01:00", "entries": 1},
        {"hour": "2027-01-01T02:00:00+01:00", "entries": 1},
    ]
    offline = {
        "offline_entries": 0,
        "conflicts": 0,
        "open_conflicts": 0,
    }  # see tests/services/test_offline_gate.py
    assert report["entries_by_gate"] == [
        {"gate": "north", "entries": 5, "first_entries": 2, "re_entries": 3, **offline},
        {"gate": "south", "entries": 1, "first_entries": 1, "re_entries": 0, **offline},
    ]
    assert report["rejections"] == 3
    assert report["rejections_by_reason"] == [
        {"reason": "forged", "count": 2},
        {"reason": "already_redeemed", "count": 1},
    ]
    everything = door_report(rt)
    assert everything["entries"] == 8 and everything["rejections"] == 4
    assert everything["from"] is None and everything["to"] is None


def test_door_report_hours_follow_local_time_across_dst(rt: Runtime) -> None:
    from pos.db.export import door_report

    (ticket,) = issue_tickets(rt, ticket_article(rt, "Saison", repeat="anytime"), 1)
    # 00:30 and 01:30 UTC on 25 October 2026 are both 02:30 local (summer, then winter time)
    register(
        rt, ticket.id, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    )
    hours = door_report(rt)["entries_by_hour"]
    assert hours == [
        {"hour": "2026-10-25T02:00:00+02:00", "entries": 1},
        {"hour": "2026-10-25T02:00:00+01:00", "entries": 1},
    ]


def test_any_object_with_a_text_write_method_will_do(rt: Runtime, scenario: Scenario) -> None:
    class Collector:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, text: str) -> int:
            self.parts.append(text)
            return len(text)

    outputs = {}
    for fmt in ("csv", "json", "xml"):
        collector = Collector()
        export_attendance(rt, collector, fmt=fmt)  # type: ignore[arg-type]
        outputs[fmt] = "".join(collector.parts)
    assert len(ET.fromstring(outputs["xml"]).findall("participant")) == 4
    assert len(json.loads(outputs["json"])) == 4
    assert outputs["csv"] == export(rt, "csv")
