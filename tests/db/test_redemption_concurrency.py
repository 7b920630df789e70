"""Gates racing for the same ticket: real processes, released together by a barrier, on SQLite and PostgreSQL.

Each single-use round must admit exactly one of eight gates; a 10-ride card scanned twenty times at
once must admit exactly ten, numbered 1 to 10.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from typing import Any

from sqlalchemy import case, func, select

from pos.db.engine import transaction
from pos.db.models import Entry
from tests.factories import issue_tickets, ticket_article

GATES = 8
SINGLE_USE_ROUNDS = 12
TEN_RIDE_SCANS = 20


def _gate_process(db_url: str, index: int, rounds: list[list[str]], barrier: Any, results: Any) -> None:
    from pos.db.redemption import redeem
    from pos.runtime import Runtime
    from tests.conftest import test_config

    rt = Runtime(test_config(), db_url, operator=f"gate-{index}")
    try:
        redeem(rt, "warm-up")  # connect and compile before the races start
        for number, codes in enumerate(rounds):
            barrier.wait(timeout=60)
            verdicts = [redeem(rt, code, gate=f"gate-{index}") for code in codes]
            results.put((number, index, [(v.accepted, v.reason, v.entry) for v in verdicts]))
    except BaseException as exc:  # the parent must hear about it instead of waiting for a missing result
        results.put((-1, index, repr(exc)))
        barrier.abort()
    finally:
        rt.engine.dispose()


def test_gates_racing_never_admit_twice(rt) -> None:
    single_use = [t.code for t in issue_tickets(rt, ticket_article(rt, "Concert"), SINGLE_USE_ROUNDS)]
    card = issue_tickets(rt, ticket_article(rt, "10-ride card", repeat="anytime", repeat_limit=9))[0].code
    # round r: every gate scans single_use[r] once; the last round: the card, 20 scans spread over 8 gates
    card_share = [TEN_RIDE_SCANS // GATES + (1 if i < TEN_RIDE_SCANS % GATES else 0) for i in range(GATES)]
    plans = [[[code] for code in single_use] + [[card] * card_share[i]] for i in range(GATES)]

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(GATES)
    results = context.Queue()
    processes = [
        context.Process(target=_gate_process, args=(rt.database_url, i, plans[i], barrier, results))
        for i in range(GATES)
    ]
    for process in processes:
        process.start()
    collected = [results.get(timeout=120) for _ in range(GATES * (SINGLE_USE_ROUNDS + 1))]
    for process in processes:
        process.join(timeout=60)
    failures = [item for item in collected if item[0] == -1]
    assert failures == []

    by_round: dict[int, list[tuple[bool, str | None, int]]] = {}
    for number, _gate, verdicts in collected:
        by_round.setdefault(number, []).extend(verdicts)
    for number in range(SINGLE_USE_ROUNDS):
        outcome = Counter((accepted, reason) for accepted, reason, _ in by_round[number])
        assert outcome == {(True, None): 1, (False, "already_redeemed"): GATES - 1}, number
    card_verdicts = by_round[SINGLE_USE_ROUNDS]
    assert sorted(entry for accepted, _, entry in card_verdicts if accepted) == list(range(1, 11))
    assert Counter(reason for accepted, reason, _ in card_verdicts if not accepted) == {"limit_reached": 10}

    with transaction(rt.engine) as session:
        per_ticket = session.execute(
            select(Entry.ticket_id, func.count(), func.sum(case((Entry.first, 1), else_=0))).group_by(
                Entry.ticket_id
            )
        ).all()
    counts = sorted(count for _, count, _ in per_ticket)
    assert counts == [1] * SINGLE_USE_ROUNDS + [10]
    assert all(firsts == 1 for _, _, firsts in per_ticket)
