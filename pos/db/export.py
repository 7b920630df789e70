"""Attendance list export and the door report.

The export streams: ONE ordered query (tickets outer-joined with their registrations, ordered by ticket id
and time) is read in batches through a server-side cursor, grouped per ticket and written at once, so a
hundred thousand tickets with a million registrations export in constant memory. Everything runs in one
`read_snapshot`: the CSV column count from the cheap first pass matches the rows that follow, and no till
waits for the export.

Date filter (`date_from`/`date_to`): a `date` is a venue-local business day (inclusive at both ends), a
`datetime` an instant (`date_to` exclusive). The filter selects REGISTRATIONS, not tickets: a ticket with no
registration in the window is listed without registrations (a no-show for that window) unless no-shows are
excluded. `first_validation` is always the ticket's own first validation, whenever it was.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO
from xml.sax.saxutils import XMLGenerator
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    cast,
    exists,
    extract,
    false,
    func,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, type_coerce
from sqlmodel import Session

from pos.config import Venue
from pos.db import conflicts as door_conflicts
from pos.db.articles import find_article
from pos.db.engine import read_snapshot
from pos.db.models import Article, Customer, Entry, Order, ScanLog, Ticket
from pos.domain.clock import business_day, iso_local, period_bounds
from pos.domain.values import shown
from pos.errors import Refused
from pos.runtime import Runtime

FORMATS = ("csv", "json", "xml")
PRECISIONS = ("exact", "day", "hour")
YIELD_PER = 5000
PROGRESS_EVERY = 1000
BASE_COLUMNS = ("code", "name", "email", "article", "first_validation")

Progress = Callable[[int, int], None]

_EPOCH = datetime(1970, 1, 1)
# Characters XML 1.0 cannot carry at all, not even escaped: dropped from names and e-mails.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_ticket = Ticket.__table__  # type: ignore[attr-defined]
_entry = Entry.__table__  # type: ignore[attr-defined]
_article = Article.__table__  # type: ignore[attr-defined]
_order = Order.__table__  # type: ignore[attr-defined]
_customer = Customer.__table__  # type: ignore[attr-defined]
_scan_log = ScanLog.__table__  # type: ignore[attr-defined]


# --- the window -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Registrations counted: start inclusive, end exclusive (aware UTC; None = open)."""

    start: datetime | None = None
    end: datetime | None = None


def registration_window(venue: Venue, date_from: date | None, date_to: date | None) -> Window:
    """A date is a whole business day; a datetime an instant (see pos.domain.clock.period_bounds)."""
    return Window(*period_bounds(date_from, date_to, venue.zone, venue.day_start_minutes))


def _entry_conditions(window: Window) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if window.start is not None:
        conditions.append(_entry.c.at >= window.start)
    if window.end is not None:
        conditions.append(_entry.c.at < window.end)
    return conditions


# --- venue time --------------------------------------------------------------------------------------------


class VenueTimes:
    """Stored UTC timestamps as text ("YYYY-MM-DD HH:MM:SS[.ffffff]") -> venue-local ISO, business day, hour.

    A time-zone conversion costs microseconds; a million registrations span only a few thousand UTC hours.
    So the zone is consulted once per UTC hour and each registration is a dictionary lookup and a string
    concatenation. An hour with a DST change or a business-day start inside it, or a zone whose offset is
    not whole hours, takes the exact path (iso_local, business_day) for its rows: same answers (tested).
    """

    MAX_CACHED_HOURS = 100_000  # 11 years of hours; the caches stay small whatever the number of rows

    def __init__(self, zone: ZoneInfo, day_start_minutes: int) -> None:
        self.zone = zone
        self.day_start_minutes = day_start_minutes
        self._seen: set[str] = set()  # UTC hours ("YYYY-MM-DD HH") described below
        self._iso: dict[str, tuple[str, str]] = {}  # local "YYYY-MM-DDTHH" and offset, if steady all hour
        self._days: dict[str, date] = {}  # business day, if the hour lies inside one

    def _learn(self, text: str) -> bool:
        """Describe the UTC hour of `text` once; False when it was known already (the exact path applies)."""
        key = text[:13]
        if key in self._seen:
            return False
        if len(self._seen) >= self.MAX_CACHED_HOURS:
            for cache in (self._seen, self._iso, self._days):
                cache.clear()
        self._seen.add(key)
        start = _utc(key + ":00:00")
        end = start + timedelta(hours=1, microseconds=-1)
        first, last = start.astimezone(self.zone), end.astimezone(self.zone)
        offset = first.utcoffset()
        if offset == last.utcoffset() and offset is not None and offset % timedelta(hours=1) == timedelta(0):
            self._iso[key] = (first.strftime("%Y-%m-%dT%H"), first.isoformat()[19:])
        day = business_day(start, self.zone, self.day_start_minutes)
        if day == business_day(end, self.zone, self.day_start_minutes):
            self._days[key] = day
        return True

    def iso(self, text: str) -> str:
        """As iso_local: seconds precision (fractions cut), venue offset."""
        parts = self._iso.get(text[:13])
        if parts is None:
            if self._learn(text):
                return self.iso(text)
            return iso_local(_utc(text), self.zone) or ""
        return parts[0] + text[13:19] + parts[1]

    def day(self, text: str) -> date:
        """As business_day."""
        day = self._days.get(text[:13])
        if day is None:
            if self._learn(text):
                return self.day(text)
            return business_day(_utc(text), self.zone, self.day_start_minutes)
        return day

    def local_hour(self, text: str) -> str:
        """The local wall-clock hour, e.g. "2026-12-31T23" (both 02:00 hours of a DST change are one)."""
        parts = self._iso.get(text[:13])
        if parts is None:
            if self._learn(text):
                return self.local_hour(text)
            return _utc(text).astimezone(self.zone).strftime("%Y-%m-%dT%H")
        return parts[0]

    def merge_key(self, precision: str) -> Callable[[str], Any] | None:
        """Registrations with equal keys merge; None for exact (nothing merges)."""
        return {"exact": None, "day": self.day, "hour": self.local_hour}[precision]


def _utc(text: str) -> datetime:
    """A stored UTC timestamp (text, fractions cut) -> aware UTC datetime."""
    return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)


def _utc_text(connection: Connection, column: Any) -> ColumnElement[str]:
    """A timestamp column as stored UTC text "YYYY-MM-DD HH:MM:SS...": what VenueTimes reads."""
    if connection.dialect.name == "sqlite":
        return type_coerce(column, String())  # SQLite stores this text already: no conversion per row
    return func.to_char(column, "YYYY-MM-DD HH24:MI:SS", type_=String)


# --- the participants -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Participant:
    code: str
    name: str | None
    email: str | None
    article: str
    first_validation: str | None
    registrations: list[list[Any]] = field(default_factory=list)  # [at (ISO), merged count]


@dataclass(frozen=True)
class _Selection:
    article_ids: tuple[int, ...]
    window: Window
    exclude_no_shows: bool

    def ticket_conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [_ticket.c.voided == false()]
        if self.article_ids:
            conditions.append(_ticket.c.article_id.in_(self.article_ids))
        return conditions

    def entry_join(self) -> ColumnElement[bool]:
        return and_(_entry.c.ticket_id == _ticket.c.id, *_entry_conditions(self.window))


def _blank_to_null(column: Any) -> Any:
    return func.nullif(column, "")


def _participant_rows(
    connection: Connection, selection: _Selection, yield_per: int
) -> Iterator[Sequence[Any]]:
    """The one ordered query, read through a server-side cursor in batches of yield_per rows.

    Row: ticket id, code, name, e-mail, article, first validation, registration time (both UTC text).
    """
    name = func.coalesce(
        _blank_to_null(_ticket.c.holder_name), _blank_to_null(_customer.c.name), _order.c.guest_name
    )
    email = func.coalesce(
        _blank_to_null(_ticket.c.holder_email), _blank_to_null(_customer.c.email), _order.c.guest_email
    )
    source = (
        _ticket.join(_article, _article.c.id == _ticket.c.article_id)
        .join(_order, _order.c.id == _ticket.c.order_id)
        .outerjoin(_customer, _customer.c.id == _order.c.customer_id)
        .join(_entry, selection.entry_join(), isouter=not selection.exclude_no_shows)
    )
    statement = (
        select(
            _ticket.c.id,
            _ticket.c.code,
            name,
            email,
            _article.c.name,
            _utc_text(connection, _ticket.c.first_redeemed_at),
            _utc_text(connection, _entry.c.at),
        )
        .select_from(source)
        .where(*selection.ticket_conditions())
        .order_by(_ticket.c.id, _entry.c.at, _entry.c.id)
    )
    result = connection.execute(statement, execution_options={"stream_results": True, "yield_per": yield_per})
    for batch in result.partitions():
        yield from batch


def _group(rows: Iterable[Sequence[Any]], times: VenueTimes, precision: str) -> Iterator[Participant]:
    """Consecutive rows of one ticket become one participant; merged registrations keep their first time."""
    key_of = times.merge_key(precision)
    iso = times.iso
    current: Participant | None = None
    registrations: list[list[Any]] = []
    current_id = last_key = None
    for ticket_id, code, name, email, article, first, at in rows:
        if ticket_id != current_id:
            if current is not None:
                yield current
            current = Participant(code or "", name, email, article, iso(first) if first is not None else None)
            registrations = current.registrations
            current_id, last_key = ticket_id, None
        if at is None:
            continue
        if key_of is None:
            registrations.append([iso(at), 1])
            continue
        key = key_of(at)
        if key == last_key:
            registrations[-1][1] += 1
        else:
            registrations.append([iso(at), 1])
            last_key = key
    if current is not None:
        yield current


def _count_participants(connection: Connection, selection: _Selection) -> int:
    statement = select(func.count()).select_from(_ticket).where(*selection.ticket_conditions())
    if selection.exclude_no_shows:
        statement = statement.where(exists().where(selection.entry_join()))
    return int(connection.execute(statement).scalar_one())


def _widest(
    connection: Connection, selection: _Selection, times: VenueTimes, precision: str, yield_per: int
) -> int:
    """The CSV first pass: the most registrations (after merging) any participant has.

    Exact: one grouped count in SQL. Day or hour: the merge keys come from VenueTimes (so they match the
    rows exactly), streamed over a narrow query of ticket id and time only.
    """
    key_of = times.merge_key(precision)
    if key_of is None:
        counts = (
            select(func.count().label("n"))
            .select_from(_entry.join(_ticket, selection.entry_join()))
            .where(*selection.ticket_conditions())
            .group_by(_entry.c.ticket_id)
            .subquery()
        )
        return int(connection.execute(select(func.max(counts.c.n))).scalar() or 0)
    statement = (
        select(_entry.c.ticket_id, _utc_text(connection, _entry.c.at))
        .select_from(_entry.join(_ticket, selection.entry_join()))
        .where(*selection.ticket_conditions())
        .order_by(_entry.c.ticket_id, _entry.c.at)
    )
    result = connection.execute(statement, execution_options={"stream_results": True, "yield_per": yield_per})
    widest = merged = 0
    current_id = last_key = None
    for batch in result.partitions():
        for ticket_id, at in batch:
            key = key_of(at)
            if ticket_id != current_id:
                widest = max(widest, merged)
                current_id, last_key, merged = ticket_id, key, 1
            elif key != last_key:
                last_key, merged = key, merged + 1
    return max(widest, merged)


# --- the writers ------------------------------------------------------------------------------------------


class _PaddedLines:
    """Where csv.writer writes its lines: appends a row's empty trailing columns as bare delimiters.

    The widest participant decides the column count (150 in the bench); passing that many empty fields
    through the csv module for every row costs more than the rest of the row.
    """

    def __init__(self, out: TextIO, delimiter: str) -> None:
        self.out = out
        self.delimiter = delimiter
        self.padding = ""

    def write(self, line: str) -> None:
        if self.padding:
            line = line[: -len(_CSV_LINE_END)] + self.padding + _CSV_LINE_END
        self.out.write(line)


_CSV_LINE_END = "\r\n"


class _CsvWriter:
    def __init__(self, out: TextIO, *, count: bool, excel: bool, columns: int) -> None:
        if excel:
            out.write("\ufeff")
        delimiter = ";" if excel else ","
        self.lines = _PaddedLines(out, delimiter)
        self.rows = csv.writer(self.lines, delimiter=delimiter, lineterminator=_CSV_LINE_END)
        self.count = count
        header = list(BASE_COLUMNS)
        for number in range(1, columns + 1):
            header.append(f"registration_{number}")
            if count:
                header.append(f"count_{number}")
        self.width = len(header)
        self.rows.writerow(header)

    def write(self, participant: Participant) -> None:
        row: list[Any] = [
            participant.code,
            participant.name or "",
            participant.email or "",
            participant.article,
            participant.first_validation or "",
        ]
        if self.count:
            for at, merged in participant.registrations:
                row += (at, merged)
        else:
            row.extend(at for at, _ in participant.registrations)
        self.lines.padding = self.lines.delimiter * (self.width - len(row))
        self.rows.writerow(row)

    def close(self) -> None:
        pass


class _JsonWriter:
    """A JSON array written element by element."""

    def __init__(self, out: TextIO, *, count: bool) -> None:
        self.out = out
        self.count = count
        self.separator = "\n"
        out.write("[")

    def write(self, participant: Participant) -> None:
        if self.count:
            registrations = [{"at": at, "count": merged} for at, merged in participant.registrations]
        else:
            registrations = [{"at": at} for at, _ in participant.registrations]
        element = {
            "code": participant.code,
            "name": participant.name,
            "email": participant.email,
            "article": participant.article,
            "first_validation": participant.first_validation,
            "registrations": registrations,
        }
        self.out.write(self.separator + json.dumps(element, ensure_ascii=False))
        self.separator = ",\n"

    def close(self) -> None:
        self.out.write("\n]\n")


def xml_text(value: str | None) -> str:
    """XML 1.0 cannot carry most control characters even as references: they are dropped."""
    return _XML_ILLEGAL.sub("", value) if value else ""


class _TextStream(io.TextIOBase):
    """XMLGenerator takes any writer that is not an io.TextIOBase for a byte stream; this one forwards text."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.out.write(text)
        return len(text)


class _XmlWriter:
    """Well-formed whatever the names contain: XMLGenerator escapes, xml_text drops the unrepresentable."""

    def __init__(self, out: TextIO, *, count: bool) -> None:
        stream = out if isinstance(out, io.TextIOBase) else _TextStream(out)
        self.xml = XMLGenerator(stream, encoding="utf-8", short_empty_elements=True)
        self.count = count
        self.xml.startDocument()
        self.xml.startElement("attendance", {})  # type: ignore[arg-type]

    def write(self, participant: Participant) -> None:
        attributes = {
            "code": participant.code,
            "name": xml_text(participant.name),
            "email": xml_text(participant.email),
            "article": xml_text(participant.article),
        }
        if participant.first_validation:
            attributes["first_validation"] = participant.first_validation
        xml = self.xml
        xml.ignorableWhitespace("\n  ")
        xml.startElement("participant", attributes)  # type: ignore[arg-type]
        for at, merged in participant.registrations:
            xml.ignorableWhitespace("\n    ")
            xml.startElement("registration", {"at": at, "count": str(merged)} if self.count else {"at": at})  # type: ignore[arg-type]
            xml.endElement("registration")
        if participant.registrations:
            xml.ignorableWhitespace("\n  ")
        xml.endElement("participant")

    def close(self) -> None:
        self.xml.ignorableWhitespace("\n")
        self.xml.endElement("attendance")
        self.xml.ignorableWhitespace("\n")
        self.xml.endDocument()


# --- the use cases ----------------------------------------------------------------------------------------


def export_attendance(
    rt: Runtime,
    out: TextIO,
    *,
    fmt: str,
    precision: str = "exact",
    count: bool = False,
    exclude_no_shows: bool = False,
    articles: Sequence[str | int] = (),
    date_from: date | None = None,
    date_to: date | None = None,
    excel: bool = False,
    progress: Progress | None = None,
    yield_per: int = YIELD_PER,
) -> int:
    """Write the attendance list to `out` (a text stream); returns the number of participants written."""
    if fmt not in FORMATS:
        raise Refused(
            "Export format {fmt} is not one of {choices}.", fmt=shown(fmt), choices=", ".join(FORMATS)
        )
    if precision not in PRECISIONS:
        raise Refused(
            "Precision {precision} is not one of {choices}.",
            precision=shown(precision),
            choices=", ".join(PRECISIONS),
        )
    if excel and fmt != "csv":
        raise Refused("--excel only applies to the CSV format.")
    venue = rt.config.venue
    window = registration_window(venue, date_from, date_to)
    with read_snapshot(rt.engine) as connection:
        selection = _Selection(_article_ids(connection, articles), window, exclude_no_shows)
        times = VenueTimes(venue.zone, venue.day_start_minutes)
        total = _count_participants(connection, selection)
        writer: _CsvWriter | _JsonWriter | _XmlWriter
        if fmt == "csv":
            columns = _widest(connection, selection, times, precision, yield_per)
            writer = _CsvWriter(out, count=count, excel=excel, columns=columns)
        elif fmt == "json":
            writer = _JsonWriter(out, count=count)
        else:
            writer = _XmlWriter(out, count=count)
        written = 0
        if progress:
            progress(0, total)
        rows = _participant_rows(connection, selection, yield_per)
        for participant in _group(rows, times, precision):
            writer.write(participant)
            written += 1
            if progress and written % PROGRESS_EVERY == 0:
                progress(written, total)
        writer.close()
        if progress:
            progress(written, max(total, written))
    return written


def _article_ids(connection: Connection, articles: Sequence[str | int]) -> tuple[int, ...]:
    if not articles:
        return ()
    ids: list[int] = []
    with Session(bind=connection) as session:
        for ref in articles:
            article = find_article(session, f"#{ref}" if isinstance(ref, int) else ref)
            assert article.id is not None
            ids.append(article.id)
    return tuple(ids)


def door_report(rt: Runtime, *, date_from: date | None = None, date_to: date | None = None) -> dict[str, Any]:
    """Entries per local hour and per gate, rejections per reason, over a period (same filter as the export)."""
    venue = rt.config.venue
    window = registration_window(venue, date_from, date_to)
    with read_snapshot(rt.engine) as connection:
        by_gate = connection.execute(
            select(_entry.c.gate, _entry.c.first, func.count())
            .where(*_entry_conditions(window))
            .group_by(_entry.c.gate, _entry.c.first)
        ).all()
        by_hour = _entries_by_hour(connection, venue.zone, window)
        rejections = connection.execute(
            select(_scan_log.c.reason, func.count())
            .where(*_scan_conditions(window))
            .group_by(_scan_log.c.reason)
            .order_by(func.count().desc(), _scan_log.c.reason)
        ).all()
        offline = door_conflicts.per_gate(connection, window.start, window.end)  # offline entries, conflicts
    gates: dict[str, Counter[str]] = {gate: Counter() for gate in offline}
    for gate, first, number in by_gate:
        gates.setdefault(gate, Counter())["first" if first else "re_entries"] += number
    first_total = sum(g["first"] for g in gates.values())
    re_total = sum(g["re_entries"] for g in gates.values())
    return {
        "from": iso_local(window.start, venue.zone),
        "to": iso_local(window.end, venue.zone),
        "entries": first_total + re_total,
        "first_entries": first_total,
        "re_entries": re_total,
        "entries_by_hour": by_hour,
        "entries_by_gate": [
            {
                "gate": gate,
                "entries": counts["first"] + counts["re_entries"],
                "first_entries": counts["first"],
                "re_entries": counts["re_entries"],
                **offline.get(gate, {"offline_entries": 0, "conflicts": 0, "open_conflicts": 0}),
            }
            for gate, counts in sorted(gates.items())
        ],
        "offline_entries": sum(row["offline_entries"] for row in offline.values()),
        "conflicts": sum(row["conflicts"] for row in offline.values()),
        "open_conflicts": sum(row["open_conflicts"] for row in offline.values()),
        "rejections": sum(number for _, number in rejections),
        "rejections_by_reason": [{"reason": reason, "count": number} for reason, number in rejections],
    }


def _scan_conditions(window: Window) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if window.start is not None:
        conditions.append(_scan_log.c.at >= window.start)
    if window.end is not None:
        conditions.append(_scan_log.c.at < window.end)
    return conditions


_SLOT_SECONDS = 900  # every UTC offset in use is a multiple of 15 minutes


def _epoch_sql(connection: Connection, column: Any) -> ColumnElement[int]:
    """Whole seconds since 1970 of a naive-UTC timestamp column, in SQL."""
    if connection.dialect.name == "sqlite":
        return cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)  # see _shifted_text
    return cast(func.floor(extract("epoch", column)), BigInteger)


def _entries_by_hour(connection: Connection, zone: ZoneInfo, window: Window) -> list[dict[str, Any]]:
    """Counted per quarter hour in SQL, folded into local hours here (half-hour zones stay right)."""
    slot = _epoch_sql(connection, _entry.c.at) // _SLOT_SECONDS
    rows = connection.execute(
        select(slot.label("slot"), func.count()).where(*_entry_conditions(window)).group_by(slot)
    ).all()
    hours: Counter[datetime] = Counter()
    for number, entries in rows:
        local = (_EPOCH + timedelta(seconds=int(number) * _SLOT_SECONDS)).replace(tzinfo=UTC).astimezone(zone)
        hours[local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)] += entries
    return [{"hour": iso_local(hour, zone), "entries": hours[hour]} for hour in sorted(hours)]
