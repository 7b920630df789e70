"""A terminal that never stops: sells or scans in a loop until the crash test SIGKILLs it.

Run as `python -m tests.crash_worker sell|redeem DB_URL CODES_FILE SEED`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from pos.db.redemption import redeem
from pos.errors import PosError
from pos.runtime import Runtime
from pos.services.checkout import CartLine, SaleRequest
from tests.conftest import test_config
from tests.factories import cancel_order, sell


def main() -> None:
    kind, url, codes_file, seed = sys.argv[1:5]
    rng = random.Random(int(seed))
    rt = Runtime(config=test_config(), database_url=url, operator="crash", clock=_clock())
    codes = Path(codes_file).read_text().split()
    print("ready", flush=True)
    while True:
        try:
            if kind == "sell":
                request = SaleRequest(
                    [CartLine("Gig", rng.randint(1, 3)), CartLine("Beer", rng.randint(0, 2) or 1)],
                    promo_codes=["HALF"] if rng.random() < 0.5 else [],
                    print_tickets=False,
                )
                result = sell(rt, request)
                if rng.random() < 0.2:
                    cancel_order(rt, result.order_id)
            else:
                redeem(rt, rng.choice(codes), gate=f"g{seed}")
        except PosError:
            pass


def _clock():
    from datetime import UTC, datetime

    fixed = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
    return lambda: fixed


if __name__ == "__main__":
    main()
