"""8 cashier and 8 gate processes at once on PostgreSQL; afterwards every invariant holds in SQL."""

import os

from bench.load import run

OPERATIONS = int(os.environ.get("POS_LOAD_OPERATIONS", "12"))


def test_sixteen_terminals_keep_the_invariants(pg_url: str) -> None:
    result = run(pg_url, cashiers=8, gates=8, operations=OPERATIONS, pool=40)
    assert result["violations"] == {}
    assert result["sales"] > 0 and result["accepted"] > 0
    assert result["operations"] == 16 * OPERATIONS
