"""A small attendance scenario for the export and door report tests (db and cli), made through the models.

Venue Europe/Berlin, business day from 05:00 (the test config). Times below are venue local.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from pos.db.engine import transaction
from pos.db.models import Entry, ScanLog, Ticket
from pos.runtime import Runtime
from tests.factories import issue_tickets, ticket_article

BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE_NAME = "Anna <&>\"' \x01\x0b\x1f\ufffe Müller & Söhne]]>"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def register(rt: Runtime, ticket_id: int, *times: datetime, gate: str = "north") -> None:
    """Accepted scans as the door leaves them: the first is first=True and stored on the ticket."""
    with transaction(rt.engine) as session:
        has_first = session.get(Ticket, ticket_id).first_redeemed_at is not None
        for number, at in enumerate(sorted(times)):
            first = number == 0 and not has_first
            session.add(Entry(ticket_id=ticket_id, at=at, gate=gate, first=first, terminal="t"))
            if first:
                session.execute(
                    update(Ticket).where(Ticket.id == ticket_id).values(first_redeemed_at=at, first_gate=gate)
                )


def reject(rt: Runtime, at: datetime, reason: str, gate: str = "north") -> None:
    with transaction(rt.engine) as session:
        session.add(ScanLog(at=at, gate=gate, terminal="t", code="123", reason=reason))


@dataclass(frozen=True)
class Scenario:
    regular: int  # 5 registrations: hour precision 4, day precision 2
    single: int  # 1 registration
    no_show: int  # none
    voided: int  # voided, with a registration: never listed
    concert: int  # the other article, 1 registration on 2 January
    codes: dict[int, str]


def seed(rt: Runtime) -> Scenario:
    party = ticket_article(rt, "Silvester", repeat="anytime")
    concert = ticket_article(rt, "Konzert")
    regular, single = issue_tickets(rt, party, 2, holder_name=HOSTILE_NAME, holder_email="anna@example.org")
    (no_show,) = issue_tickets(rt, party, 1, holder_name="Nobody Came", holder_email=None)
    (voided,) = issue_tickets(rt, concert, 1, holder_name="Voided Person", voided=True)
    (concert_ticket,) = issue_tickets(
        rt, concert, 1, holder_name="Carla Concert", holder_email="c@example.org"
    )
    register(
        rt,
        regular.id,
        local("2026-12-31T21:00:10"),
        local("2026-12-31T21:40:00"),
        local("2026-12-31T23:30:00"),
        local("2027-01-01T02:00:00"),  # after midnight, same business day (05:00)
        local("2027-01-01T06:00:00"),  # next business day
        gate="north",
    )
    register(rt, single.id, local("2026-12-31T22:15:00"), gate="south")
    register(rt, voided.id, local("2026-12-31T22:00:00"))
    register(rt, concert_ticket.id, local("2027-01-02T20:00:00"), gate="south")
    tickets = (regular, single, no_show, voided, concert_ticket)
    return Scenario(
        regular.id, single.id, no_show.id, voided.id, concert_ticket.id, {t.id: t.code for t in tickets}
    )
