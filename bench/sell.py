"""Sale commit latency on a large SQLite database, and 8 cashiers racing for one quota on PostgreSQL.

SQLite: bulk-builds a database holding 1,000,000 tickets (--quick: 50,000), then commits orders of 4 ticket
lines through `sell()` (print jobs included, as a default sale does) and reports p50/p99 latency per sale.
PostgreSQL (POS_TEST_PG_URL's server, or a throwaway local cluster): 8 processes, each with its own engine,
sell one unit at a time until the quota is sold out; reports orders/s and how many units were oversold.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._pg import fresh_database, server_url  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"
BRAND = "1000"
TICKETS_PER_ORDER = 4
BATCH = 50_000
P99_TARGET_MS = 15.0
P99_SIGNED_TARGET_MS = 25.0  # with the simulated Test-TSE signing every sale
ORDERS_PER_SECOND_TARGET = 100.0
RACERS = 8


def _runtime(url: str, *, tse_key: Path | None = None) -> Any:
    from pos.config import parse_config
    from pos.runtime import Runtime

    data: dict[str, Any] = {"brand": {"id": BRAND, "secret": SECRET}, "terminal": {"name": "bench"}}
    if tse_key is not None:
        data["fiscal"] = {"signer": "simulated", "key_path": str(tse_key)}
    return Runtime(config=parse_config(data), database_url=url, operator="bench")


# --- building a large SQLite database ------------------------------------------------------------------


def _stamp(at: datetime) -> str:
    """How SQLAlchemy stores a naive UTC datetime in SQLite."""
    return at.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def build_sqlite(path: Path, tickets: int) -> tuple[str, list[int], float]:
    """Schema by migration, articles by the service, then history by plain INSERTs in big transactions."""
    from pos.db.migrate import upgrade
    from pos.domain.ticket_code import make_code
    from tests.factories import add_article

    started = time.perf_counter()
    url = f"sqlite:///{path}"
    upgrade(url)
    rt = _runtime(url)
    article_ids = [
        add_article(rt, name=f"Event {n}", price_cents=2000 + 500 * n, vat_bp=700, is_ticket=True).id or 0
        for n in range(TICKETS_PER_ORDER)
    ]
    rt.engine.dispose()
    secret = SECRET.encode()
    created = _stamp(datetime(2026, 6, 1, tzinfo=UTC))
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    orders = tickets // TICKETS_PER_ORDER
    serial = 0
    for first in range(1, orders + 1, BATCH // TICKETS_PER_ORDER):
        order_rows, line_rows, ticket_rows = [], [], []
        for order_id in range(first, min(first + BATCH // TICKETS_PER_ORDER, orders + 1)):
            total = 0
            for n, article_id in enumerate(article_ids):
                serial += 1
                price = 2000 + 500 * n
                total += price
                line_rows.append((serial, order_id, article_id, f"Event {n}", price))
                ticket_rows.append((serial, make_code(BRAND, serial, secret), order_id, serial, article_id))
            order_rows.append((order_id, total, total))
        with connection:
            connection.executemany(
                "INSERT INTO orders (id, created_at, terminal, operator, total_cents, payment_method, given_cents,"
                " change_cents, status, link_promo) VALUES (?, ?, 'bulk', 'bulk', ?, 'cash', ?, 0, 'paid', 0)",
                [(o, created, t, g) for o, t, g in order_rows],
            )
            connection.executemany(
                "INSERT INTO order_line (id, order_id, article_id, article_name, article_group, quantity,"
                " unit_price_cents, discount_cents, total_cents, vat_bp)"
                " VALUES (?, ?, ?, ?, 'Tickets', 1, ?, 0, ?, 700)",
                [(i, o, a, name, p, p) for i, o, a, name, p in line_rows],
            )
            connection.executemany(
                "INSERT INTO ticket (id, brand, code, order_id, order_line_id, article_id, repeat, voided,"
                " printed, created_at) VALUES (?, ?, ?, ?, ?, ?, 'none', 0, 1, ?)",
                [(i, BRAND, code, o, line, a, created) for i, code, o, line, a in ticket_rows],
            )
    with connection:
        connection.execute("UPDATE article SET sold = ?", (orders,))
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return url, article_ids, time.perf_counter() - started


def sqlite_latency(
    url: str, article_ids: list[int], orders: int, *, tse_key: Path | None = None
) -> dict[str, Any]:
    """Sales into an open shift, each journalled (and signed by the Test-TSE when `tse_key` is given)."""
    from pos.services import till
    from pos.services.checkout import CartLine, SaleRequest
    from tests.factories import ADMIN, sell

    rt = _runtime(url, tse_key=tse_key)
    shift = till.open_shift(rt, ADMIN, 0)
    request = SaleRequest(lines=[CartLine(article_id) for article_id in article_ids], print_tickets=True)
    for _ in range(5):  # warm-up: imports, connection, statement caches
        sell(rt, request)
    latencies, cpu = [], []
    for _ in range(orders):
        started, started_cpu = time.perf_counter(), time.process_time()
        sell(rt, request)
        latencies.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    till.close_shift(rt, ADMIN, shift.id, till.shift_report(rt, ADMIN, shift.id).expected_cash_cents)
    rt.engine.dispose()
    return {
        "orders": orders,
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
        "cpu_p50_ms": _percentile(
            cpu, 50
        ),  # this process's CPU time: what the machine's load does not inflate
        "cpu_p99_ms": _percentile(cpu, 99),
        "load_average": round(os.getloadavg()[0], 2),
    }


def _percentile(values: list[float], pct: int) -> float:
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 2)


# --- the PostgreSQL race -------------------------------------------------------------------------------


def _racer(url: str, article_id: int, warmup_id: int, ready: Any, start: Any, results: Any) -> None:
    from pos.errors import Refused
    from pos.services.checkout import CartLine, SaleRequest
    from tests.factories import sell

    rt = _runtime(url)
    sell(rt, SaleRequest([CartLine(warmup_id)], print_tickets=False))
    ready.wait()
    start.wait()
    request = SaleRequest([CartLine(article_id)], print_tickets=False)
    sold = 0
    latencies = []
    while True:
        began = time.perf_counter()
        try:
            sell(rt, request)
        except Refused:
            break
        latencies.append((time.perf_counter() - began) * 1000)
        sold += 1
    results.put((sold, time.time(), latencies))
    rt.engine.dispose()


def postgres_race(quota: int) -> dict[str, Any] | None:
    with server_url() as server:
        if server is None:
            return None
        with fresh_database(server) as url:
            return _race(url, quota)


def _race(url: str, quota: int) -> dict[str, Any]:
    from sqlmodel import Session, col, func, select

    from pos.db.models import Article, Ticket
    from tests.factories import add_article

    rt = _runtime(url)
    article_id = add_article(rt, name="Quota", price_cents=3000, is_ticket=True, stock_limit=quota).id
    warmup_id = add_article(rt, name="Warm-up", price_cents=100).id
    context = multiprocessing.get_context("spawn")
    ready, start, results = context.Barrier(RACERS + 1), context.Barrier(RACERS + 1), context.Queue()
    racers = [
        context.Process(target=_racer, args=(url, article_id, warmup_id, ready, start, results))
        for _ in range(RACERS)
    ]
    for racer in racers:
        racer.start()
    ready.wait()
    began = time.time()
    start.wait()
    outcomes = [results.get(timeout=300) for _ in racers]
    for racer in racers:
        racer.join()
    elapsed = max(finished for _, finished, _ in outcomes) - began
    with Session(rt.engine) as session:
        sold = session.exec(select(Article.sold).where(Article.id == article_id)).one()
        tickets = session.exec(
            select(func.count(col(Ticket.id))).where(Ticket.article_id == article_id)
        ).one()
    rt.engine.dispose()
    orders = sum(count for count, _, _ in outcomes)
    latencies = [ms for _, _, values in outcomes for ms in values]
    return {
        "quota": quota,
        "processes": RACERS,
        "orders": orders,
        "seconds": round(elapsed, 2),
        "orders_per_second": round(orders / elapsed, 1),
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
        "oversold": max(sold - quota, tickets - quota, 0),
        "sold": sold,
        "tickets": tickets,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50,000 tickets and a small quota (< 30 s)")
    args = parser.parse_args()
    tickets = 50_000 if args.quick else 1_000_000
    orders = 200 if args.quick else 1000
    quota = 400 if args.quick else 2000
    with tempfile.TemporaryDirectory(prefix="pos-bench-sell-") as tmp:
        url, article_ids, build_seconds = build_sqlite(Path(tmp) / "pos.db", tickets)
        sqlite = {"tickets_before": tickets, "build_seconds": round(build_seconds, 1)}
        sqlite |= sqlite_latency(url, article_ids, orders)
        signed = sqlite_latency(url, article_ids, orders, tse_key=Path(tmp) / "tse" / "key.pem")
    postgres = postgres_race(quota)
    checks = [
        {
            "name": f"sqlite p99 sale commit, {TICKETS_PER_ORDER} lines, {tickets:,} tickets (ms)",
            "target": f"<= {P99_TARGET_MS}",
            "measured": sqlite["p99_ms"],
            "pass": sqlite["p99_ms"] <= P99_TARGET_MS,
        },
        {
            "name": f"sqlite p99 sale commit signed by the simulated TSE, {tickets:,} tickets (ms)",
            "target": f"<= {P99_SIGNED_TARGET_MS}",
            "measured": signed["p99_ms"],
            "pass": signed["p99_ms"] <= P99_SIGNED_TARGET_MS,
        },
    ]
    if postgres is not None:
        checks += [
            {
                "name": f"postgres {RACERS} processes racing for one quota (orders/s)",
                "target": f">= {ORDERS_PER_SECOND_TARGET:g}",
                "measured": postgres["orders_per_second"],
                "pass": postgres["orders_per_second"] >= ORDERS_PER_SECOND_TARGET,
            },
            {
                "name": "postgres units oversold",
                "target": "0",
                "measured": postgres["oversold"],
                "pass": postgres["oversold"] == 0 and postgres["sold"] == postgres["tickets"] == quota,
            },
        ]
    print(json.dumps({"sqlite": sqlite, "sqlite_signed": signed, "postgres": postgres, "checks": checks}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
