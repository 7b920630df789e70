"""SIGKILL at random points of sales and scans: afterwards every invariant holds and nothing is half-written."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from pos.db.invariants import check, violations
from pos.services.checkout import CartLine, SaleRequest
from tests.factories import add_article, add_promo, sell

KILLS = int(os.environ.get("POS_CRASH_KILLS", "3"))  # -m slow: 60
ROOT = Path(__file__).resolve().parent.parent


def _prepare(rt, tmp_path: Path) -> Path:
    add_article(rt, name="Gig", price_cents=2000, is_ticket=True, stock_limit=400)
    add_article(rt, name="Card", price_cents=8000, is_ticket=True, repeat="anytime", repeat_limit=3)
    add_article(rt, name="Beer", price_cents=450)
    add_promo(rt, "HALF", percent_bp=5000, uses=60)
    sold = sell(rt, SaleRequest([CartLine("Gig", 5), CartLine("Card", 5)], print_tickets=False))
    codes = tmp_path / "codes.txt"
    codes.write_text("\n".join(sold.ticket_codes) + "\n")
    return codes


def _start(kind: str, url: str, codes: Path, seed: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.crash_worker", kind, url, str(codes), str(seed)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready", process.stderr.read() if process.stderr else ""
    return process


def _kill_at_random(process: subprocess.Popen[str], rng: random.Random) -> None:
    time.sleep(rng.uniform(0.02, 0.4))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


def test_killed_terminals_leave_consistent_data(rt, tmp_path: Path) -> None:
    codes = _prepare(rt, tmp_path)
    rng = random.Random(20261124)
    for round_ in range(KILLS):
        workers = [
            _start("sell", rt.database_url, codes, round_),
            _start("redeem", rt.database_url, codes, round_),
        ]
        for worker in workers:
            _kill_at_random(worker, rng)
    # a killed `pos sell` CLI process too (import, parse, transaction: wherever it is hit)
    env = {**os.environ, "POS_DB": rt.database_url, "POS_CONFIG": str(_config(tmp_path))}
    pos = str(Path(sys.executable).with_name("pos"))
    for _ in range(max(2, KILLS // 2)):
        cli = subprocess.Popen(
            [pos, "sell", "Gig:2", "--no-print"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _kill_at_random(cli, rng)  # type: ignore[arg-type]

    assert violations(check(rt.engine)) == {}
    with rt.engine.connect() as connection:
        sold = connection.execute(text("SELECT sold FROM article WHERE name = 'Gig'")).scalar_one()
        if rt.database_url.startswith("sqlite"):
            assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    assert sold > 5  # the prepared sale stands and the killed terminals did sell before dying


def _config(tmp_path: Path) -> Path:
    from tests.conftest import CONFIG_TOML

    path = tmp_path / "crash.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return path


@pytest.mark.slow
def test_many_kills(rt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "KILLS", 60)
    test_killed_terminals_leave_consistent_data(rt, tmp_path)
