"""Small services the cashier screens need besides selling: unlock codes, scanned tickets, article refresh."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from pos.db.engine import transaction
from pos.db.models import Article, Order, PrintJob, Ticket
from pos.errors import NotFound
from pos.runtime import Runtime


def load_articles(rt: Runtime) -> list[Article]:
    """Every article, hidden ones included, in sale-screen order: one query, nothing else on start-up."""
    from pos.db.articles import list_articles

    return list_articles(rt, include_hidden=True)


def unlocked_articles(rt: Runtime, codes: Sequence[str], link_promo: str | None = None) -> frozenset[int]:
    """The hidden articles these unlock codes open; a code that cannot be used raises Refused naming it."""
    from pos.db.promos import load_rules

    with transaction(rt.engine) as session:
        rules = load_rules(session, rt, unlock_codes=codes, link_promo=link_promo)
    return frozenset().union(*(rule.unlocks for rule in rules))


def order_of_ticket(rt: Runtime, code: str) -> dict[str, Any]:
    """The order a scanned ticket code belongs to, as `pos order` prints it."""
    from pos.db.sales import order_json

    with transaction(rt.engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.code == code)).first()
        order = session.get(Order, ticket.order_id) if ticket is not None else None
        if ticket is None or order is None:
            raise NotFound(f"No ticket with code {code} was sold here.")
        return order_json(session, order, rt.config.venue.zone)


@dataclass(frozen=True)
class PrintReport:
    """What a print run did, in words a cashier can act on."""

    printed: int
    not_printed: tuple[tuple[str, str, str | None], ...]  # (kind, reason, ticket code) per failed job
    retry_job_ids: tuple[int, ...]

    @property
    def ok(self) -> bool:
        return not self.not_printed


def print_order(rt: Runtime, order_id: int) -> PrintReport:
    """Print the order's waiting jobs (tickets, order slip, receipt; a cash receipt opens the drawer)."""
    from pos.db.printjobs import run_jobs

    return _report(rt, run_jobs(rt, order_id=order_id))


def retry_print(rt: Runtime, job_ids: Sequence[int]) -> PrintReport:
    from pos.db.printjobs import run_jobs

    return _report(rt, run_jobs(rt, job_ids=list(job_ids)))


def reprint_order(rt: Runtime, order_id: int) -> PrintReport:
    """Queue the whole order again, marked as a reprint, and print it."""
    from pos.db.printjobs import enqueue_order

    with transaction(rt.engine) as session:
        enqueue_order(session, order_id, reprint=True)
    return print_order(rt, order_id)


def print_z_report(rt: Runtime, shift_id: int) -> PrintReport:
    from pos.db.printjobs import enqueue_zreport, run_jobs

    with transaction(rt.engine) as session:
        job_id = enqueue_zreport(session, rt.config, shift_id)
    return _report(rt, run_jobs(rt, job_ids=[job_id]))


def _report(rt: Runtime, outcome: Any) -> PrintReport:
    failed = dict(outcome.failed)
    retry = [*failed, *outcome.stuck]
    if not retry:
        return PrintReport(len(outcome.printed), (), ())
    with transaction(rt.engine) as session:
        jobs = list(
            session.exec(select(PrintJob).where(col(PrintJob.id).in_(retry)).order_by(col(PrintJob.id)))
        )
        codes = {
            t.id: t.code
            for t in session.exec(
                select(Ticket).where(col(Ticket.id).in_([j.ticket_id for j in jobs if j.ticket_id]))
            )
        }
    reasons = {job_id: "interrupted while printing" for job_id in outcome.stuck} | failed
    not_printed = tuple((job.kind, reasons.get(job.id, ""), codes.get(job.ticket_id)) for job in jobs)
    return PrintReport(len(outcome.printed), not_printed, tuple(retry))
