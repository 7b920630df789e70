"""8 processes, each with its own engine, race for the last units of one article: never oversold."""

from __future__ import annotations

import multiprocessing
import random
from typing import Any

from sqlmodel import Session, col, func, select

from pos.db.models import Article, Ticket
from pos.runtime import Runtime
from pos.services.articles import set_availability
from tests.factories import ADMIN, add_article

WORKERS = 8
ROUNDS = 10
UNITS_PER_ROUND = 7

_runtime: Runtime | None = None


def _worker_runtime(url: str) -> Runtime:
    global _runtime
    if _runtime is None or _runtime.database_url != url:
        from tests.conftest import test_config

        _runtime = Runtime(config=test_config(), database_url=url, operator="racer")
    return _runtime


def _race(args: tuple[str, int, int]) -> tuple[int, int]:
    """Sell 1 or 2 units at a time until refused as sold out; returns (units sold, tickets issued)."""
    from pos.errors import Refused
    from pos.services.checkout import CartLine, SaleRequest
    from tests.factories import sell

    url, article_id, seed = args
    rt = _worker_runtime(url)
    rng = random.Random(seed)
    units = tickets = 0
    while True:
        quantity = rng.choice((1, 2))
        request = SaleRequest(lines=[CartLine(article_id, quantity)], print_tickets=False)
        try:
            result = sell(rt, request)
        except Refused as exc:
            if "sold out" in str(exc):
                return units, tickets
            if "left" in str(exc):
                continue
            raise
        units += quantity
        tickets += len(result.ticket_codes)


def _state(rt: Runtime, article_id: int) -> tuple[int, int]:
    with Session(rt.engine) as session:
        sold = session.exec(select(Article.sold).where(Article.id == article_id)).one()
        issued = session.exec(
            select(func.count(col(Ticket.id))).where(
                Ticket.article_id == article_id, col(Ticket.voided).is_(False)
            )
        ).one()
    return sold, issued


def test_racing_processes_never_oversell(rt: Runtime) -> None:
    article = add_article(rt, name="Last row", price_cents=1000, is_ticket=True, stock_limit=0)
    assert article.id is not None
    rt.engine.dispose()
    context = multiprocessing.get_context("spawn")
    results: list[Any] = []
    with context.Pool(WORKERS) as pool:
        for round_ in range(ROUNDS):
            limit = (round_ + 1) * UNITS_PER_ROUND
            set_availability(rt, ADMIN, f"#{article.id}", limit)
            jobs = [(rt.database_url, article.id, round_ * WORKERS + n) for n in range(WORKERS)]
            outcome = pool.map(_race, jobs, chunksize=1)
            sold, issued = _state(rt, article.id)
            assert sold == limit, f"round {round_}: sold {sold} of {limit}"
            assert issued == sold
            assert sum(units for units, _ in outcome) == UNITS_PER_ROUND
            assert sum(tickets for _, tickets in outcome) == UNITS_PER_ROUND
            results.append(outcome)
    winners = {n for outcome in results for n, (units, _) in enumerate(outcome) if units}
    assert len(winners) > 1  # the race really had several sellers
