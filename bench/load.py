"""Multi-terminal load on PostgreSQL: 8 cashier and 8 gate processes at once, then the invariants in SQL.

Reports operations per second and the result of every invariant check (pos/db/invariants.py) as JSON.
Uses POS_TEST_PG_URL's server, or starts a throwaway local cluster.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._pg import fresh_database, server_url  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"


def _runtime(url: str):
    from pos.config import parse_config
    from pos.runtime import Runtime

    config = parse_config({"brand": {"secret": SECRET}, "terminal": {"name": "bench"}})
    return Runtime(config=config, database_url=url, operator="bench")


def _cashier(url: str, seed: int, operations: int, start, results) -> None:
    from pos.errors import PosError
    from pos.services.checkout import CartLine, SaleRequest
    from tests.factories import cancel_order, sell

    rt = _runtime(url)
    rng = random.Random(seed)
    done = refused = 0
    start.wait()
    for _ in range(operations):
        try:
            lines = [CartLine("Quota", rng.randint(1, 2)), CartLine("Beer", rng.randint(1, 3))]
            if rng.random() < 0.3:
                lines.append(CartLine("Ten-ride card", 1))
            codes = ["TENOFF"] if rng.random() < 0.3 else []
            result = sell(rt, SaleRequest(lines, promo_codes=codes, print_tickets=False))
            if rng.random() < 0.1:
                cancel_order(rt, result.order_id)
            done += 1
        except PosError:
            refused += 1
    rt.engine.dispose()
    results.put(("cashier", done, refused))


def _gate(url: str, seed: int, operations: int, codes: list[str], start, results) -> None:
    from pos.db.redemption import redeem

    rt = _runtime(url)
    rng = random.Random(seed)
    accepted = rejected = 0
    start.wait()
    for _ in range(operations):
        if redeem(rt, rng.choice(codes), gate=f"gate-{seed}").accepted:
            accepted += 1
        else:
            rejected += 1
    rt.engine.dispose()
    results.put(("gate", accepted, rejected))


def _prepare(url: str, pool: int) -> list[str]:
    from pos.services.checkout import CartLine, SaleRequest
    from tests.factories import add_article, add_promo, sell

    rt = _runtime(url)
    add_article(rt, name="Quota", price_cents=3000, is_ticket=True, stock_limit=150)
    add_article(rt, name="Ten-ride card", price_cents=8000, is_ticket=True, repeat="anytime", repeat_limit=9)
    add_article(rt, name="Day pass", price_cents=1500, is_ticket=True, repeat="daily")
    add_article(rt, name="Beer", price_cents=450)
    add_promo(rt, "TENOFF", amount_cents=1000, uses=40)
    codes: list[str] = []
    for name in ("Ten-ride card", "Day pass"):
        sold = sell(rt, SaleRequest([CartLine(name, pool // 2)], print_tickets=False))
        codes += list(sold.ticket_codes)
    rt.engine.dispose()
    return codes


def run(url: str, cashiers: int, gates: int, operations: int, pool: int) -> dict:
    from pos.db.invariants import check, violations

    codes = _prepare(url, pool)
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_cashier, args=(url, i, operations, start, results)) for i in range(cashiers)
    ]
    processes += [
        ctx.Process(target=_gate, args=(url, 100 + i, operations, codes, start, results))
        for i in range(gates)
    ]
    for process in processes:
        process.start()
    time.sleep(3.0)  # let every process import and connect before the clock starts
    began = time.perf_counter()
    start.set()
    collected = [results.get(timeout=600) for _ in processes]
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
    totals = {"sales": 0, "sales_refused": 0, "accepted": 0, "rejected": 0}
    for kind, good, bad in collected:
        if kind == "cashier":
            totals["sales"] += good
            totals["sales_refused"] += bad
        else:
            totals["accepted"] += good
            totals["rejected"] += bad
    rt = _runtime(url)
    found = check(rt.engine)
    rt.engine.dispose()
    operations_done = sum(totals.values())
    return {
        "cashiers": cashiers,
        "gates": gates,
        "operations": operations_done,
        "seconds": round(elapsed, 2),
        "operations_per_second": round(operations_done / elapsed, 1),
        **totals,
        "invariants": {name: len(rows) == 0 for name, rows in found.items()},
        "violations": violations(found),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--operations", type=int, default=None, help="operations per process")
    args = parser.parse_args()
    operations = args.operations or (40 if args.quick else 250)
    with server_url() as server:
        if server is None:
            print(json.dumps({"skipped": "no PostgreSQL available", "checks": []}))
            return 0
        with fresh_database(server) as url:
            data = run(url, cashiers=8, gates=8, operations=operations, pool=200)
    data["checks"] = [
        {
            "name": "invariants hold after load",
            "target": "all",
            "measured": "all" if not data["violations"] else ", ".join(data["violations"]),
            "pass": not data["violations"],
        },
        {
            "name": "operations/s (8 cashiers + 8 gates)",
            "target": "reported",
            "measured": data["operations_per_second"],
            "pass": True,
        },
    ]
    print(json.dumps(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
