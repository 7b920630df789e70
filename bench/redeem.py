"""Door check: scan-to-verdict latency on SQLite at scale, and gate throughput on PostgreSQL.

SQLite: a database with 1,000,000 tickets and 5,000,000 registrations (single-use tickets, 10-ride cards,
daily attendance cards, season cards), loaded with sqlite3 executemany. Then `redeem()` is timed for a mix
of first entries, re-entries, rejections after the lookup and rejections of bad codes, interleaved with a
minimal raw sqlite3 lookup-and-insert (same WAL + synchronous=FULL) as the floor, so both see the same
disk and the same machine load. Targets: p99 <= 5 ms, and p50/p99 <= 3x the floor.

PostgreSQL (POS_TEST_PG_URL's server, or a throwaway cluster): 8 gate processes scan the same single-use
tickets and 10-ride cards at once through the door service; verdicts per second (target >= 1,500) and double
admissions (target 0).

The offline gate, on a throwaway cluster this script starts itself (never POS_TEST_PG_URL's server):
- the verdict time when the database stops answering, frozen with SIGSTOP and as a network that stalls
  without closing (a proxy that stops forwarding): p99 <= offline_after_ms + 50 ms;
- the online scan through a local TCP proxy adding 20 ms each way: p50 <= 90 ms (two round trips).

`--quick`: 100,000 tickets and 500,000 registrations, fewer samples; under 30 s (and the offline parts small).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pos.config import parse_config  # noqa: E402
from pos.db.migrate import upgrade  # noqa: E402
from pos.domain.ticket_code import make_code  # noqa: E402
from pos.runtime import Runtime  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"
BRAND = "1000"
CONFIG = {
    "venue": {"timezone": "Europe/Berlin", "day_starts_at": "05:00"},
    "brand": {"id": BRAND, "secret": SECRET},
    "terminal": {"name": "bench", "gate": "bench"},
}
SCAN_AT = datetime(2027, 1, 15, 19, 0, tzinfo=UTC)  # 20:00 in Berlin
P99_MS = 5.0
FLOOR_FACTOR = 3.0
PG_VERDICTS_PER_S = 1500.0
GATES = 8
OFFLINE_AFTER_MS = 800
OFFLINE_SLACK_MS = 50
PROXY_DELAY_S = 0.020
PROXY_P50_MS = 90.0

# ticket kinds by id % 10: 0-3 single use, 4-5 10-ride card, 6-7 daily attendance card, 8-9 season card
ARTICLES = [
    (1, "Konzert", "none", None),
    (2, "10er-Karte", "anytime", 9),
    (3, "Anwesenheit", "daily", None),
    (4, "Saisonkarte", "anytime", None),
]


def kind_of(serial: int) -> int:
    return (1, 1, 1, 1, 2, 2, 3, 3, 4, 4)[serial % 10]


def base_entries(serial: int) -> int:
    """Registrations of every ticket but the season cards (those take the rest)."""
    kind, step = kind_of(serial), serial // 10
    if kind == 1:
        return step % 2  # half of the single-use tickets are used
    if kind == 2:
        return step % 11  # 0..10 rides; 10 is a used-up card
    if kind == 3:
        return step % 13  # 0..12 days, the last one today for every third card
    return 0


def daily_today(serial: int) -> bool:
    return kind_of(serial) == 3 and base_entries(serial) > 0 and (serial // 10) % 3 == 0


def stamp(at: datetime) -> str:
    """The SQLite storage format of SQLAlchemy's DateTime (naive UTC)."""
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def build_sqlite(path: Path, tickets: int, registrations: int) -> dict[str, Any]:
    started = time.monotonic()
    upgrade(f"sqlite:///{path}")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-200000")
    created = stamp(SCAN_AT - timedelta(days=60))
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN ('ticket','entry')"
    ).fetchall()
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")  # rebuilt after the load: sorting once beats random inserts
    triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'").fetchall()
    for name, _ in triggers:
        db.execute(f"DROP TRIGGER {name}")  # the change marker is set once after the load
    db.execute("BEGIN")
    db.executemany(
        'INSERT INTO article (id, name, price_cents, vat_bp, "group", shop_group, assortment, is_ticket, hidden, sold,'
        " repeat, repeat_limit, position, created_at) VALUES (?, ?, 1000, 1900, 'Tickets', 'Events', 'default', 1, 0,"
        " 0, ?, ?, 0, ?)",
        [(i, name, repeat, limit, created) for i, name, repeat, limit in ARTICLES],
    )
    db.execute(
        "INSERT INTO orders (id, created_at, terminal, operator, total_cents, payment_method, given_cents,"
        " change_cents, status, link_promo) VALUES (1, ?, 'bench', 'bench', 0, 'cash', 0, 0, 'paid', 0)",
        (created,),
    )
    db.execute("COMMIT")
    seasons = sum(1 for s in range(1, tickets + 1) if kind_of(s) == 4)
    others = sum(base_entries(s) for s in range(1, tickets + 1))
    per_season, extra = divmod(max(registrations - others, 0), max(seasons, 1))
    days = [stamp(SCAN_AT - timedelta(days=k + 1, hours=1)) for k in range(13)]
    visits = [stamp(SCAN_AT - timedelta(hours=7 * (k + 1))) for k in range(per_season + 2)]
    today = stamp(SCAN_AT - timedelta(hours=1))
    secret = SECRET.encode()
    entry_total, season_seen, chunk = 0, 0, 50_000
    for first_serial in range(1, tickets + 1, chunk):
        ticket_rows, entry_rows = [], []
        for serial in range(first_serial, min(first_serial + chunk, tickets + 1)):
            kind = kind_of(serial)
            _, _, repeat, limit = ARTICLES[kind - 1]
            if kind == 4:
                count = per_season + (1 if season_seen < extra else 0)
                season_seen += 1
                times = visits[:count]
            else:
                count = base_entries(serial)
                times = days[:count]
                if daily_today(serial):
                    times = [today, *days[: count - 1]]
            times = list(reversed(times))  # oldest first: the first validation
            for index, at in enumerate(times):
                entry_rows.append((serial, at, "gate-a", 1 if index == 0 else 0, "bench"))
            first_at = times[0] if times else None
            ticket_rows.append(
                (
                    serial,
                    BRAND,
                    make_code(BRAND, serial, secret),
                    kind,
                    repeat,
                    limit,
                    first_at,
                    first_at and "gate-a",
                    created,
                )
            )
            entry_total += count
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO ticket (id, brand, code, order_id, article_id, holder_name, repeat, repeat_limit, voided,"
            " first_redeemed_at, first_gate, printed, created_at) VALUES (?, ?, ?, 1, ?, 'Bench Guest', ?, ?, 0, ?, ?,"
            " 1, ?)",
            ticket_rows,
        )
        db.executemany(
            'INSERT INTO entry (ticket_id, at, gate, "first", terminal) VALUES (?, ?, ?, ?, ?)', entry_rows
        )
        db.execute("COMMIT")
    db.execute("UPDATE ticket SET changed_at = ?", (created,))
    for _, sql in indexes:
        db.execute(sql)
    for _, sql in triggers:
        db.execute(sql)
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {
        "tickets": tickets,
        "registrations": entry_total,
        "build_seconds": round(time.monotonic() - started, 1),
    }


def scan_plan(tickets: int, samples: int, rng: random.Random) -> list[tuple[str, str, bool]]:
    """(category, code, expected accepted) for `samples` scans, each ticket at most once."""
    secret = SECRET.encode()
    pools: dict[str, list[int]] = {"first_entry": [], "re_entry": [], "rejected_after_lookup": []}
    for serial in rng.sample(range(1, tickets + 1), min(tickets, samples * 12)):
        kind, count = kind_of(serial), base_entries(serial)
        if kind == 1:
            pools["first_entry" if count == 0 else "rejected_after_lookup"].append(serial)
        elif kind == 2:
            pools[
                "first_entry" if count == 0 else "re_entry" if count < 10 else "rejected_after_lookup"
            ].append(serial)
        elif kind == 3:
            pools["rejected_after_lookup" if daily_today(serial) else "re_entry"].append(serial)
        else:
            pools["re_entry"].append(serial)
    plan: list[tuple[str, str, bool]] = []
    shares = {"first_entry": 0.3, "re_entry": 0.3, "rejected_after_lookup": 0.3}
    for category, share in shares.items():
        wanted = int(samples * share)
        chosen = pools[category][:wanted]
        if len(chosen) < wanted:
            raise SystemExit(f"not enough {category} tickets for {samples} samples")
        plan += [(category, make_code(BRAND, s, secret), category != "rejected_after_lookup") for s in chosen]
    bad_codes = samples - len(plan)
    for index in range(bad_codes):
        kind = index % 4
        if kind == 0:
            code = make_code(BRAND, tickets + 1 + index, secret)  # well-formed, unknown serial: a lookup
            plan.append(("rejected_after_lookup", code, False))
            continue
        if kind == 1:
            code = make_code(BRAND, index + 1, b"a-guessed-secret-0123456789")  # forged
        elif kind == 2:
            code = make_code("2000", index + 1, secret)  # another brand
        else:
            code = f"{rng.randrange(10**23):024d}"[:23] + "x"  # damaged
        plan.append(("rejected_code", code, False))
    rng.shuffle(plan)
    return plan


class Floor:
    """The least any gate must do: lock, read the ticket and its entries, insert one row, commit durably."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=10000")

    def scan(self, serial: int, at: str) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "SELECT id, voided, valid_from, valid_until, event_date, repeat, repeat_limit, holder_name"
            " FROM ticket WHERE id = ?",
            (serial,),
        ).fetchone()
        db.execute("SELECT at, gate FROM entry WHERE ticket_id = ?", (serial,)).fetchall()
        db.execute(
            'INSERT INTO entry (ticket_id, at, gate, "first", terminal) VALUES (?, ?, ?, 0, ?)',
            (serial, at, "floor", "bench"),
        )
        db.execute("COMMIT")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(values_ns: list[int]) -> dict[str, float]:
    ms = [v / 1e6 for v in values_ns]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 0.50), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def measure_sqlite(path: Path, tickets: int, samples: int) -> dict[str, Any]:
    """The door service as a gate calls it (its worker thread and bounded wait included)."""
    from pos.services.door import door_actor, scan

    rng = random.Random(11)
    warm_up = 40
    plan = scan_plan(tickets, samples * 2 + warm_up, rng)
    warm_plan, plan = plan[:warm_up], plan[warm_up:]
    ours_plan, floor_plan = plan[0::2], plan[1::2]
    config = parse_config({**CONFIG, "gate": {"local_path": str(path.with_suffix(".gate"))}})
    rt = Runtime(config, f"sqlite:///{path}", operator="bench", clock=lambda: SCAN_AT)
    actor = door_actor(rt)

    def redeem(rt: Runtime, code: str, *, at: datetime, gate: str) -> Any:
        return scan(rt, actor, code, at=at, gate=gate)

    floor = Floor(path)
    floor_at = stamp(SCAN_AT)
    for _, code, _ in warm_plan:  # connections, statement caches, page cache; every path once
        redeem(rt, code, at=SCAN_AT, gate="bench")
        floor.scan(tickets + 10_000_000, floor_at)  # no such ticket: the floor does not care
    ours: dict[str, list[int]] = {}
    floors: list[int] = []
    mismatches = offline = 0
    for (category, code, expected), (_, floor_code, _) in zip(ours_plan, floor_plan, strict=False):
        started = time.perf_counter_ns()
        result = redeem(rt, code, at=SCAN_AT, gate="bench")
        ours.setdefault(category, []).append(time.perf_counter_ns() - started)
        mismatches += result.accepted != expected
        offline += result.offline
        serial = int(floor_code[4:14]) if floor_code.isdigit() else 1
        started = time.perf_counter_ns()
        floor.scan(serial, floor_at)
        floors.append(time.perf_counter_ns() - started)
    rt.engine.dispose()
    every = [v for values in ours.values() for v in values]
    return {
        "redeem": summary(every),
        "by_category": {category: summary(values) for category, values in sorted(ours.items())},
        "floor_raw_sqlite3": summary(floors),
        "verdict_mismatches": mismatches,
        "offline_verdicts": offline,
    }


def _pg_gate(url: str, index: int, codes: list[str], barrier: Any, results: Any, copy: str) -> None:
    from pos.services.door import door_actor, scan

    config = parse_config({**CONFIG, "terminal": {"name": f"bench-{index}", "gate": f"gate-{index}"}})
    config.gate.local_path = copy
    rt = Runtime(config, url, operator=f"gate-{index}")
    actor = door_actor(rt)
    try:
        scan(rt, actor, "warm-up")
        scan(rt, actor, make_code(BRAND, 10**9, SECRET.encode()))  # connect: an unknown ticket
        barrier.wait(timeout=120)
        started = time.time()
        accepted: dict[str, int] = {}
        latencies = []
        offline = 0
        for code in codes:
            t0 = time.perf_counter_ns()
            verdict = scan(rt, actor, code)
            latencies.append(time.perf_counter_ns() - t0)
            offline += verdict.offline
            if verdict.accepted:
                accepted[code] = accepted.get(code, 0) + 1
        results.put((index, started, time.time(), accepted, latencies, None, offline))
    except BaseException as exc:
        results.put((index, 0.0, 0.0, {}, [], repr(exc), 0))
        barrier.abort()
    finally:
        rt.engine.dispose()


def measure_postgres(admin_url: str, single_use: int, cards: int) -> dict[str, Any]:
    from sqlalchemy import create_engine, insert, text
    from sqlalchemy.engine import make_url

    from pos.db.models import Article, Order, Ticket

    name = f"pos_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        engine = create_engine(url)
        secret = SECRET.encode()
        single_codes = [make_code(BRAND, s, secret) for s in range(1, single_use + 1)]
        card_codes = [make_code(BRAND, s, secret) for s in range(single_use + 1, single_use + cards + 1)]
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(
                insert(Article),
                [
                    {
                        "id": 1,
                        "name": "Konzert",
                        "price_cents": 1000,
                        "is_ticket": True,
                        "repeat": "none",
                        "created_at": now,
                    },
                    {
                        "id": 2,
                        "name": "10er-Karte",
                        "price_cents": 8000,
                        "is_ticket": True,
                        "repeat": "anytime",
                        "repeat_limit": 9,
                        "created_at": now,
                    },
                ],
            )
            conn.execute(insert(Order).values(id=1, created_at=now, terminal="bench", operator="bench"))
            rows = [
                {
                    "id": s,
                    "brand": BRAND,
                    "code": code,
                    "order_id": 1,
                    "article_id": 1 if s <= single_use else 2,
                    "repeat": "none" if s <= single_use else "anytime",
                    "repeat_limit": None if s <= single_use else 9,
                    "voided": False,
                    "printed": True,
                    "created_at": now,
                }
                for s, code in enumerate(single_codes + card_codes, start=1)
            ]
            conn.execute(insert(Ticket), rows)
        engine.dispose()
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(GATES)
        results = context.Queue()
        processes = []
        copies = tempfile.mkdtemp(prefix="pos-bench-gates-")
        for index in range(GATES):
            codes = single_codes + card_codes * 2
            random.Random(index).shuffle(codes)
            copy = str(Path(copies) / f"gate-{index}.db")
            processes.append(
                context.Process(target=_pg_gate, args=(url, index, codes, barrier, results, copy))
            )
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=600) for _ in range(GATES)]
        for process in processes:
            process.join(timeout=60)
        errors = [o[5] for o in outcomes if o[5]]
        if errors:
            raise SystemExit(f"a gate process failed: {errors[0]}")
        started, finished = min(o[1] for o in outcomes), max(o[2] for o in outcomes)
        scans = sum(len(o[4]) for o in outcomes)
        admitted: dict[str, int] = {}
        for outcome in outcomes:
            for code, count in outcome[3].items():
                admitted[code] = admitted.get(code, 0) + count
        engine = create_engine(url)
        with engine.connect() as conn:
            stored = dict(
                conn.execute(text("SELECT ticket_id, count(*) FROM entry GROUP BY ticket_id")).all()
            )
        engine.dispose()
        allowed = {s: (1 if s <= single_use else 10) for s in range(1, single_use + cards + 1)}
        double = sum(max(0, stored.get(s, 0) - allowed[s]) for s in allowed)
        reported_double = sum(max(0, admitted.get(c, 0) - 1) for c in single_codes) + sum(
            max(0, admitted.get(c, 0) - 10) for c in card_codes
        )
        missed = sum(1 for s in allowed if stored.get(s, 0) < allowed[s])
        latencies = [v for o in outcomes for v in o[4]]
        return {
            "gates": GATES,
            "tickets": {"single_use": single_use, "ten_ride_cards": cards},
            "scans": scans,
            "seconds": round(finished - started, 2),
            "verdicts_per_s": round(scans / (finished - started), 1),
            "latency": summary(latencies),
            "double_admissions": max(double, reported_double),
            "missed_admissions": missed,
            "offline_verdicts": sum(o[6] for o in outcomes),
        }
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _gate(url: str, name: str, copy_dir: Path, offline_after_ms: int) -> Runtime:
    config = parse_config(
        {
            **CONFIG,
            "terminal": {"name": name, "gate": name},
            "gate": {"offline_after_ms": offline_after_ms, "local_path": str(copy_dir / f"{name}.db")},
        }
    )
    return Runtime(config, url, operator=name)


def _wait_online(rt: Runtime, seconds: float = 60.0) -> float:
    from pos.services.door import door_actor, gate_status

    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if gate_status(rt, door_actor(rt)).online:
            return time.monotonic() - started
        time.sleep(0.05)
    raise SystemExit("the gate did not come back online")


def measure_offline(quick: bool) -> dict[str, Any]:
    """Verdict times when the database stops answering, and the online scan through a 20 ms proxy."""
    from pos.services.door import door_actor, scan, sync
    from tests.factories import issue_tickets, ticket_article
    from tests.pg_cluster import Cluster, Proxy, available

    if not available():
        return {"skipped": "the PostgreSQL 15 server binaries are not installed"}
    cycles, per_cycle, proxied = (1, 10, 30) if quick else (8, 25, 400)
    cluster = Cluster()
    copies = Path(tempfile.mkdtemp(prefix="pos-bench-offline-"))
    stall = Proxy(cluster.port)
    slow = Proxy(cluster.port, delay=PROXY_DELAY_S)
    try:
        url = cluster.database()
        seller = Runtime(parse_config(CONFIG), url, operator="seller", clock=lambda: datetime.now(UTC))
        article = ticket_article(seller, "Konzert")
        needed = 2 * cycles * (per_cycle + 1) + proxied + 10
        codes = [t.code for t in issue_tickets(seller, article, needed)]
        card = ticket_article(seller, "Saisonkarte", repeat="anytime")
        season = [t.code for t in issue_tickets(seller, card, 20)]
        seller.engine.dispose()
        figures: dict[str, Any] = {"offline_after_ms": OFFLINE_AFTER_MS}
        for scenario, stop, resume, gate_url in (
            ("frozen", cluster.freeze, cluster.thaw, url),
            ("network_stall", stall.swallow, stall.release, stall.url(url)),
        ):
            rt = _gate(gate_url, scenario, copies, OFFLINE_AFTER_MS)
            actor = door_actor(rt)
            sync(rt, actor)
            times, first_times, back = [], [], []
            for _cycle in range(cycles):
                assert not scan(rt, actor, codes.pop()).offline  # online, with a pooled connection
                stop()
                try:
                    for index in range(per_cycle):
                        t0 = time.perf_counter()
                        verdict = scan(rt, actor, codes.pop())
                        took = (time.perf_counter() - t0) * 1000
                        if not verdict.offline:
                            raise SystemExit(f"{scenario}: an online verdict while the database was away")
                        times.append(took)
                        if index == 0:
                            first_times.append(took)
                finally:
                    resume()
                back.append(_wait_online(rt))
            figures[scenario] = {
                "verdict": summary([int(t * 1e6) for t in times]),
                "first_verdict_max_ms": round(max(first_times), 1),
                "back_online_s_max": round(max(back), 2),
            }
            rt.engine.dispose()
        rt = _gate(slow.url(url), "proxied", copies, 5000)
        actor = door_actor(rt)
        for code in season[:3]:  # connect and prepare through the proxy first
            scan(rt, actor, code)
        latencies: dict[str, list[int]] = {"first_entry": [], "re_entry": [], "rejected": []}
        used: list[str] = []
        for index in range(proxied):
            kind = ("first_entry", "re_entry", "rejected")[index % 3]
            if kind == "first_entry":
                code = codes.pop()
                used.append(code)
            elif kind == "re_entry":
                code = season[index % len(season)]
            else:
                code = used[index % len(used)]  # a single-use ticket admitted above: already redeemed
            t0 = time.perf_counter_ns()
            verdict = scan(rt, actor, code)
            latencies[kind].append(time.perf_counter_ns() - t0)
            if verdict.offline or verdict.accepted != (kind != "rejected"):
                raise SystemExit(f"proxied: an unexpected verdict {verdict.reason}")
        every = [v for values in latencies.values() for v in values]
        figures["proxy_20ms_each_way"] = {
            "scan": summary(every),
            "by_kind": {kind: summary(values) for kind, values in latencies.items()},
        }
        rt.engine.dispose()
        return figures
    finally:
        stall.close()
        slow.close()
        cluster.destroy()
        shutil.rmtree(copies, ignore_errors=True)


def check(name: str, target: str, measured: Any, passed: bool) -> dict[str, Any]:
    return {"name": name, "target": target, "measured": measured, "pass": bool(passed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k tickets / 500k registrations, under 30 s")
    parser.add_argument(
        "--only",
        choices=("sqlite", "postgresql", "offline"),
        help="run one part only (the others are skipped)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    tickets, registrations, samples = (100_000, 500_000, 1000) if args.quick else (1_000_000, 5_000_000, 3000)
    report: dict[str, Any] = {"bench": "redeem", "quick": args.quick}
    checks: list[dict[str, Any]] = []
    if args.only in (None, "sqlite"):
        checks += run_sqlite(report, tickets, registrations, samples)
    if args.only in (None, "postgresql"):
        checks += run_postgres(report, args.quick)
    if args.only in (None, "offline"):
        checks += run_offline(report, args.quick)
    report["total_seconds"] = round(time.monotonic() - started, 1)
    if args.quick and args.only is None:
        checks.append(
            check("quick run seconds", "< 30", report["total_seconds"], report["total_seconds"] < 30)
        )
    report["checks"] = checks
    print(json.dumps(report))


def run_sqlite(
    report: dict[str, Any], tickets: int, registrations: int, samples: int
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="pos-bench-redeem-") as tmp:
        path = Path(tmp) / "door.db"
        report["sqlite"] = build_sqlite(path, tickets, registrations)
        report["sqlite"].update(measure_sqlite(path, tickets, samples))
    sq = report["sqlite"]
    p50, p99 = sq["redeem"]["p50_ms"], sq["redeem"]["p99_ms"]
    floor50, floor99 = sq["floor_raw_sqlite3"]["p50_ms"], sq["floor_raw_sqlite3"]["p99_ms"]
    checks = [
        check("sqlite redeem p99 ms", f"<= {P99_MS}", p99, p99 <= P99_MS),
        check(
            "sqlite p50 vs raw floor",
            f"<= {FLOOR_FACTOR}x",
            round(p50 / floor50, 2),
            p50 <= FLOOR_FACTOR * floor50,
        ),
        check(
            "sqlite p99 vs raw floor",
            f"<= {FLOOR_FACTOR}x",
            round(p99 / floor99, 2),
            p99 <= FLOOR_FACTOR * floor99,
        ),
        check(
            "sqlite verdicts as expected",
            "0 mismatches",
            sq["verdict_mismatches"],
            sq["verdict_mismatches"] == 0,
        ),
    ]
    return checks


def run_postgres(report: dict[str, Any], quick: bool) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    pg_url = os.environ.get("POS_TEST_PG_URL")
    if pg_url:
        single_use, cards = (300, 40) if quick else (2000, 250)
        pg = report["postgresql"] = measure_postgres(pg_url, single_use, cards)
        checks += [
            check(
                "pg verdicts/s, 8 gates",
                f">= {PG_VERDICTS_PER_S:.0f}",
                pg["verdicts_per_s"],
                pg["verdicts_per_s"] >= PG_VERDICTS_PER_S,
            ),
            check("pg double admissions", "0", pg["double_admissions"], pg["double_admissions"] == 0),
            check("pg missed admissions", "0", pg["missed_admissions"], pg["missed_admissions"] == 0),
        ]
    else:
        report["postgresql"] = {"skipped": "POS_TEST_PG_URL is not set"}
    return checks


def run_offline(report: dict[str, Any], quick: bool) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    offline = report["offline_gate"] = measure_offline(quick)
    if "skipped" not in offline:
        bound = OFFLINE_AFTER_MS + OFFLINE_SLACK_MS
        for scenario in ("frozen", "network_stall"):
            p99 = offline[scenario]["verdict"]["p99_ms"]
            checks.append(
                check(f"offline verdict p99 ms, database {scenario}", f"<= {bound}", p99, p99 <= bound)
            )
        proxied = offline["proxy_20ms_each_way"]["scan"]["p50_ms"]
        checks.append(
            check("scan p50 ms via 20 ms proxy", f"<= {PROXY_P50_MS:.0f}", proxied, proxied <= PROXY_P50_MS)
        )
    return checks


if __name__ == "__main__":
    main()
