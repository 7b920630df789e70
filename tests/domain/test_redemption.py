"""The door-check rules against a literal reading of DESIGN, over random scan sequences.

The reference finds a scan's business day the slow, obvious way (the day whose [start, next start)
in venue wall-clock time contains it), so midnight, day starts such as 05:00 and DST changes are
checked independently of pos.domain.clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from pos.domain.birthday import is_birthday
from pos.domain.clock import business_day
from pos.domain.redemption import (
    Bound,
    PastEntry,
    Reason,
    TicketState,
    decide,
    entry_count,
    on_scan_day,
    refusing_bound,
)

BERLIN = ZoneInfo("Europe/Berlin")
FIVE_AM = 5 * 60
ZONES = [ZoneInfo(name) for name in ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC")]
# DST changes in 2026: Europe 29 Mar / 25 Oct, US 8 Mar / 1 Nov, Lord Howe 5 Apr / 4 Oct (30 minutes).
PIVOTS = [
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
]


def reference_day(at: datetime, zone: ZoneInfo, start_minutes: int) -> date:
    start_clock = time(start_minutes // 60, start_minutes % 60)
    local_date = at.astimezone(zone).date()
    for offset in (-1, 0, 1):
        day = local_date + timedelta(days=offset)
        opens = datetime.combine(day, start_clock, tzinfo=zone)
        closes = datetime.combine(day + timedelta(days=1), start_clock, tzinfo=zone)
        if opens <= at < closes:
            return day
    raise AssertionError("no business day contains the instant")


def reference(ticket: TicketState, accepted: list[datetime], at: datetime, zone: ZoneInfo, start: int) -> str:
    """DESIGN section 2, 'Redemption', read literally. Returns 'ok' or the reason."""
    if ticket.voided:
        return "voided"
    if ticket.event_date is not None:
        start_clock = time(start // 60, start % 60)
        opens = datetime.combine(ticket.event_date, start_clock, tzinfo=zone)
        closes = datetime.combine(ticket.event_date + timedelta(days=1), start_clock, tzinfo=zone)
    if (ticket.valid_from and at < ticket.valid_from) or (ticket.event_date and at < opens):
        return "not_yet_valid"
    if (ticket.valid_until and at > ticket.valid_until) or (ticket.event_date and at >= closes):
        return "expired"
    if ticket.repeat == "none":
        total = 1
    elif ticket.repeat_limit is None:
        total = 10**9
    else:
        total = ticket.repeat_limit + 1
    if accepted and total == 1:
        return "already_redeemed"
    if len(accepted) >= total:
        return "limit_reached"
    today = reference_day(at, zone, start)
    if ticket.repeat == "daily" and any(reference_day(e, zone, start) == today for e in accepted):
        return "already_today"
    if ticket.repeat == "same-day" and accepted and reference_day(accepted[0], zone, start) != today:
        return "not_same_day"
    return "ok"


def scan_times(pivot: datetime, count: int) -> st.SearchStrategy[list[datetime]]:
    minutes = st.integers(-3 * 24 * 60, 3 * 24 * 60) | st.integers(-180, 180)
    return st.lists(minutes.map(lambda m: pivot + timedelta(minutes=m)), min_size=1, max_size=count)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[TicketState, ZoneInfo, int, list[datetime]]:
    zone = draw(st.sampled_from(ZONES))
    start = draw(st.sampled_from([0, FIVE_AM, 120, 150, 180, 23 * 60 + 30]) | st.integers(0, 24 * 60 - 1))
    pivot = draw(st.sampled_from(PIVOTS))
    repeat = draw(st.sampled_from(["none", "anytime", "daily", "same-day"]))
    limit = draw(st.none() | st.integers(0, 6))
    window = st.none() | st.integers(-4 * 24 * 60, 4 * 24 * 60).map(lambda m: pivot + timedelta(minutes=m))
    valid_from, valid_until = draw(window), draw(window)
    event_date = draw(st.none() | st.integers(-3, 3).map(lambda d: pivot.date() + timedelta(days=d)))
    ticket = TicketState(
        voided=draw(st.integers(0, 9)) == 0,
        valid_from=valid_from,
        valid_until=valid_until,
        event_date=event_date,
        repeat=repeat,
        repeat_limit=None if repeat == "none" else limit,
    )
    scans = draw(scan_times(pivot, 25))
    if draw(st.booleans()):
        scans.sort()  # live gates scan in time order; `--at` may record an older scan later
    return ticket, zone, start, scans


def run_scans(
    ticket: TicketState, zone: ZoneInfo, start: int, scans: list[datetime]
) -> list[tuple[str, int]]:
    """Feed the scans one by one, recording accepted ones as the database would."""
    entries: list[PastEntry] = []
    outcome = []
    for at in scans:
        state = TicketState(**{**_fields(ticket), "entries": tuple(entries)})
        verdict = decide(state, at, zone, start)
        expected = reference(ticket, [e.at for e in entries], at, zone, start)
        got = "ok" if verdict.accepted else str(verdict.reason)
        assert got == expected, (at.isoformat(), [e.at.isoformat() for e in entries])
        assert verdict.entry == len(entries) + (1 if verdict.accepted else 0)
        if verdict.accepted:
            entries.append(PastEntry(at, "north"))
        outcome.append((got, verdict.entry))
    return outcome


def _fields(ticket: TicketState) -> dict[str, object]:
    return {name: getattr(ticket, name) for name in TicketState.__dataclass_fields__}


@settings(max_examples=600, deadline=None)
@given(scenarios())
def test_matches_the_reference_model(scenario: tuple[TicketState, ZoneInfo, int, list[datetime]]) -> None:
    run_scans(*scenario)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_invariants_of_accepted_entries(scenario: tuple[TicketState, ZoneInfo, int, list[datetime]]) -> None:
    ticket, zone, start, scans = scenario
    outcome = run_scans(ticket, zone, start, scans)
    accepted = [at for at, (result, _) in zip(scans, outcome, strict=True) if result == "ok"]
    days = [reference_day(at, zone, start) for at in accepted]
    if ticket.voided:
        assert accepted == []
    if ticket.repeat == "none":
        assert len(accepted) <= 1
    elif ticket.repeat_limit is not None:
        assert len(accepted) <= ticket.repeat_limit + 1
    if ticket.repeat == "daily":
        assert len(days) == len(set(days))
    if ticket.repeat == "same-day":
        assert len(set(days)) <= 1
    for at in accepted:
        assert not ticket.valid_from or at >= ticket.valid_from
        assert not ticket.valid_until or at <= ticket.valid_until
        assert not ticket.event_date or reference_day(at, zone, start) == ticket.event_date


@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.integers(0, 24 * 60 - 1) | st.integers(60, 200),
    st.sampled_from(PIVOTS),
    st.integers(-300, 300),
)
def test_business_day_is_the_day_whose_bounds_hold_the_instant(
    zone: ZoneInfo, start: int, pivot: datetime, minutes: int
) -> None:
    at = pivot + timedelta(minutes=minutes)
    assert business_day(at, zone, start) == reference_day(at, zone, start)


def test_business_day_when_the_day_starts_inside_the_dst_gap() -> None:
    at = datetime(2026, 3, 29, 1, 45, tzinfo=UTC)  # 03:45 CEST; the day starts at 02:50, i.e. 03:50 CEST
    assert business_day(at, BERLIN, 170) == date(2026, 3, 28)


def at_berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def test_a_party_past_midnight_is_one_business_day_from_five_am() -> None:
    daily = TicketState(repeat="daily", entries=(PastEntry(at_berlin("2026-12-31T23:00"), "north"),))
    again = decide(daily, at_berlin("2027-01-01T02:00"), BERLIN, FIVE_AM)
    assert again.reason is Reason.ALREADY_TODAY and again.previous == daily.entries[0]
    assert decide(daily, at_berlin("2027-01-01T05:00"), BERLIN, FIVE_AM).accepted
    same_day = TicketState(repeat="same-day", entries=daily.entries)
    assert decide(same_day, at_berlin("2027-01-01T04:59"), BERLIN, FIVE_AM).entry == 2
    assert decide(same_day, at_berlin("2027-01-01T05:00"), BERLIN, FIVE_AM).reason is Reason.NOT_SAME_DAY
    with_midnight_start = decide(daily, at_berlin("2027-01-01T02:00"), BERLIN, 0)
    assert with_midnight_start.accepted


def test_event_date_means_that_business_day() -> None:
    ticket = TicketState(event_date=date(2026, 12, 31))
    assert decide(ticket, at_berlin("2026-12-31T04:59"), BERLIN, FIVE_AM).reason is Reason.NOT_YET_VALID
    assert decide(ticket, at_berlin("2026-12-31T05:00"), BERLIN, FIVE_AM).accepted
    assert decide(ticket, at_berlin("2027-01-01T04:59"), BERLIN, FIVE_AM).accepted
    assert decide(ticket, at_berlin("2027-01-01T05:00"), BERLIN, FIVE_AM).reason is Reason.EXPIRED


def test_repeat_rules_in_design_order() -> None:
    first = PastEntry(at_berlin("2026-12-31T20:00"), "north")
    later = at_berlin("2027-01-03T20:00")
    assert decide(TicketState(entries=(first,)), later, BERLIN, 0).reason is Reason.ALREADY_REDEEMED
    zero_limit = TicketState(repeat="anytime", repeat_limit=0, entries=(first,))
    assert decide(zero_limit, later, BERLIN, 0).reason is Reason.ALREADY_REDEEMED
    ten_ride = [PastEntry(first.at + timedelta(days=d), "south") for d in range(10)]
    card = TicketState(repeat="daily", repeat_limit=9, entries=tuple(ten_ride[:9]))
    nine = decide(card, first.at + timedelta(days=8, hours=1), BERLIN, 0)
    assert nine.reason is Reason.ALREADY_TODAY and nine.entry == 9
    assert decide(card, first.at + timedelta(days=9), BERLIN, 0).entry == 10
    used_up = TicketState(repeat="daily", repeat_limit=9, entries=tuple(ten_ride))
    full = decide(used_up, first.at + timedelta(days=30), BERLIN, 0)
    assert full.reason is Reason.LIMIT_REACHED and full.entry == 10 and full.allowed_entries == 10
    assert full.previous == ten_ride[-1]
    voided = decide(TicketState(voided=True, valid_from=later), first.at, BERLIN, 0)
    assert voided.reason is Reason.VOIDED
    season = TicketState(repeat="anytime", entries=tuple(ten_ride))
    assert decide(season, first.at, BERLIN, 0).entry == 11
    assert decide(season, first.at, BERLIN, 0).allowed_entries is None


def test_entry_count_shows_nothing_for_single_use() -> None:
    assert entry_count(1, 1) is None
    assert entry_count(3, 10) == (3, 10)
    assert entry_count(3, None) == (3, None)


def test_refusing_bound_names_window_before_event_day() -> None:
    at = at_berlin("2026-12-31T19:00")
    start, end = at_berlin("2026-12-31T20:00"), at_berlin("2026-12-31T18:00")
    day = date(2026, 12, 31)
    assert refusing_bound("not_yet_valid", at, start, None, day) is Bound.FROM
    assert refusing_bound("not_yet_valid", at, None, None, day) is Bound.EVENT_DAY
    assert refusing_bound("expired", at, None, end, day) is Bound.UNTIL
    assert refusing_bound("expired", at, None, None, None) is None
    assert refusing_bound("voided", at, start, end, day) is None


def test_on_scan_day_follows_the_business_day() -> None:
    evening = at_berlin("2026-12-31T23:00")
    assert on_scan_day(evening, at_berlin("2027-01-01T04:59"), BERLIN, FIVE_AM)
    assert not on_scan_day(evening, at_berlin("2027-01-01T05:00"), BERLIN, FIVE_AM)


def test_birthday_on_29_february_is_greeted_on_the_28th_in_other_years() -> None:
    leapling = date(2004, 2, 29)
    assert is_birthday(leapling, date(2027, 2, 28))
    assert not is_birthday(leapling, date(2028, 2, 28))
    assert is_birthday(leapling, date(2028, 2, 29))
    assert is_birthday(date(1990, 12, 31), date(2026, 12, 31))
    assert not is_birthday(date(1990, 12, 30), date(2026, 12, 31))
    assert not is_birthday(None, date(2028, 2, 29))
