"""Attendance export at scale: 100,000 tickets with 1,000,000 registrations on SQLite.

Each export runs as the real `pos export attendance ... -o FILE` in a fresh process, so its wall time and
its own peak RSS (os.wait4) are measured, for every format and precision. Targets: CSV exact <= 10 s,
peak RSS <= 150 MB for every run. `--quick`: 10,000 tickets, 100,000 registrations.

The database is built in a child process and this process imports nothing heavy: a child's peak RSS
includes the parent's memory it was forked from (until exec), which would hide the export's own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SECRET = "bench-secret-0123456789abcdef"
BRAND = "1000"
CONFIG = f"""
[venue]
timezone = "Europe/Berlin"
day_starts_at = "05:00"
[brand]
id = "{BRAND}"
secret = "{SECRET}"
"""
CSV_EXACT_SECONDS = 10.0
PEAK_RSS_MB = 150.0
QUICK_TOTAL_SECONDS = 30.0
SEASON_START = datetime(2026, 9, 1, 16, 0, tzinfo=UTC)  # spans the end of summer time on 25 October
SEASON_DAYS = 120


def stamp(at: datetime) -> str:
    """The SQLite storage format of SQLAlchemy's DateTime (naive UTC)."""
    return at.strftime("%Y-%m-%d %H:%M:%S.%f")


def registrations_per_ticket(rng: random.Random, tickets: int, registrations: int) -> list[int]:
    """10 % no-shows, a few season cards with 150 visits, the rest spread at random."""
    counts = [0] * tickets
    attending = [i for i in range(tickets) if rng.random() >= 0.10]
    season = attending[:: max(1, len(attending) // 50)]
    for index in season:
        counts[index] = 150
    left = registrations - sum(counts)
    for index in rng.choices(attending, k=left):
        counts[index] += 1
    return counts


def build(path: Path, tickets: int, registrations: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from pos.db.migrate import upgrade
    from pos.domain.ticket_code import make_code

    started = time.monotonic()
    upgrade(f"sqlite:///{path}")
    rng = random.Random(7)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    secret = SECRET.encode()
    created = stamp(SEASON_START - timedelta(days=30))
    with db:
        db.executemany(
            'INSERT INTO article (id, name, price_cents, vat_bp, "group", shop_group, assortment, is_ticket,'
            " hidden, sold, repeat, position, created_at) VALUES (?, ?, 1000, 1900, 'Tickets', 'Events',"
            " 'default', 1, 0, 0, ?, 0, ?)",
            [
                (1, "Tageskarte", "daily", created),
                (2, "Saisonkarte", "anytime", created),
                (3, "Konzert", "none", created),
            ],
        )
        customers = tickets // 10
        db.executemany(
            "INSERT INTO customer (id, name, email, created_at) VALUES (?, ?, ?, ?)",
            (
                (i, f"Kundin {i} <Müller & Söhne>", f"kundin{i}@example.org", created)
                for i in range(1, customers + 1)
            ),
        )
        orders = tickets // 2
        db.executemany(
            "INSERT INTO orders (id, created_at, terminal, operator, customer_id, guest_name, guest_email, total_cents,"
            " payment_method, given_cents, change_cents, status, link_promo) VALUES"
            " (?, ?, 'bench', 'bench', ?, ?, ?, 2000, 'cash', 2000, 0, 'paid', 0)",
            (
                (i, created, i if i <= customers else None, f"Gast {i}", f"gast{i}@example.org")
                for i in range(1, orders + 1)
            ),
        )
        counts = registrations_per_ticket(rng, tickets, registrations)
        ticket_rows = []
        entry_rows = []
        entry_id = 0
        for serial in range(1, tickets + 1):
            visits = counts[serial - 1]
            times = sorted(
                SEASON_START + timedelta(seconds=rng.randrange(SEASON_DAYS * 86400)) for _ in range(visits)
            )
            first = stamp(times[0]) if times else None
            holder = f'Inhaber {serial} "Q" & <x>' if serial % 3 == 0 else None
            ticket_rows.append(
                (
                    serial,
                    BRAND,
                    make_code(BRAND, serial, secret),
                    (serial + 1) // 2,
                    1 + serial % 3,
                    holder,
                    serial % 100 == 0,
                    first,
                    created,
                )
            )
            for number, at in enumerate(times):
                entry_id += 1
                entry_rows.append(
                    (entry_id, serial, stamp(at), "north" if number % 2 else "south", number == 0)
                )
        db.executemany(
            "INSERT INTO ticket (id, brand, code, order_id, article_id, holder_name, repeat, voided,"
            " first_redeemed_at, printed, created_at) VALUES (?, ?, ?, ?, ?, ?, 'anytime', ?, ?, 1, ?)",
            ticket_rows,
        )
        del ticket_rows
        db.executemany(
            "INSERT INTO entry (id, ticket_id, at, gate, first, terminal) VALUES (?, ?, ?, ?, ?, 'gate')",
            entry_rows,
        )
    db.execute("ANALYZE")
    db.close()
    return {
        "tickets": tickets,
        "registrations": len(entry_rows),
        "load_seconds": round(time.monotonic() - started, 1),
    }


def run_export(db: Path, config: Path, out: Path, *args: str) -> dict[str, float]:
    """One export in a fresh process: its wall time and its own peak RSS."""
    command = [
        str(Path(sys.executable).with_name("pos")),
        "export",
        "attendance",
        *args,
        "-o",
        str(out),
        "--json",
    ]
    env = {**os.environ, "POS_DB": f"sqlite:///{db}", "POS_CONFIG": str(config)}
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    stdout, stderr = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"export {' '.join(args)} failed: {stderr.decode().strip()}")
    summary = json.loads(stdout)
    result = {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "participants": summary["participants"],
        "megabytes": round(out.stat().st_size / 1e6, 1),
    }
    out.unlink()
    return result


def export_variants(quick: bool) -> list[tuple[str, list[str]]]:
    """Every format with every precision, plus --count/--excel and --exclude-no-shows; --quick: fewer."""
    variants = [
        (f"{fmt}_{precision}", ["--format", fmt, "--precision", precision])
        for fmt in ("csv", "json", "xml")
        for precision in ("exact", "day", "hour")
        if not quick or fmt == "csv" or precision == "exact"
    ]
    variants.append(("csv_exact_count_excel", ["--format", "csv", "--count", "--excel"]))
    if not quick:
        variants.append(
            ("csv_day_exclude_no_shows", ["--format", "csv", "--precision", "day", "--exclude-no-shows"])
        )
    return variants


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 tickets, 100,000 registrations")
    parser.add_argument(
        "--build", nargs=3, metavar=("DB", "TICKETS", "REGISTRATIONS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build(Path(args.build[0]), int(args.build[1]), int(args.build[2]))))
        return 0
    started = time.monotonic()
    tickets, registrations = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    with tempfile.TemporaryDirectory(prefix="pos-bench-export-") as folder:
        db, config = Path(folder) / "bench.db", Path(folder) / "pos.toml"
        config.write_text(CONFIG, encoding="utf-8")
        built = subprocess.run(
            [sys.executable, __file__, "--build", str(db), str(tickets), str(registrations)],
            capture_output=True,
            text=True,
            check=True,
        )
        data = json.loads(built.stdout)
        runs: dict[str, dict[str, float]] = {}
        for name, options in export_variants(args.quick):
            fmt = options[options.index("--format") + 1]
            runs[name] = run_export(db, config, Path(folder) / f"out.{fmt}", *options)
    total = round(time.monotonic() - started, 1)
    peak = max(run["peak_rss_mb"] for run in runs.values())
    checks = [
        {
            "name": "csv exact seconds (full size)" if not args.quick else "csv exact seconds (quick size)",
            "target": f"<= {CSV_EXACT_SECONDS}",
            "measured": runs["csv_exact"]["seconds"],
            "pass": runs["csv_exact"]["seconds"] <= CSV_EXACT_SECONDS,
        },
        {
            "name": "peak RSS MB, any run",
            "target": f"<= {PEAK_RSS_MB}",
            "measured": peak,
            "pass": peak <= PEAK_RSS_MB,
        },
    ]
    if args.quick:
        checks.append(
            {
                "name": "quick run seconds",
                "target": f"< {QUICK_TOTAL_SECONDS}",
                "measured": total,
                "pass": total < QUICK_TOTAL_SECONDS,
            }
        )
    print(json.dumps({"data": data, "runs": runs, "total_seconds": total, "checks": checks}))
    return 0 if all(check["pass"] for check in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
