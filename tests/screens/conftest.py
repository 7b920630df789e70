"""Cashier app fixtures: a demo shop on its own SQLite file, in English or German, and pilot helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pos.runtime import Runtime
from pos.services.demo import load_demo
from tests.conftest import FixedClock, migrated_sqlite_url
from tests.conftest import test_config as make_config
from tests.factories import ADMIN

# The pilot leaves ~40 ms between keys (far slower than a scanner), so scans in tests need a wider window.
BURST_MS = 200


@pytest.fixture
def make_shop(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, clock: FixedClock
) -> Iterator[Callable[..., Runtime]]:
    made: list[Runtime] = []

    def make(language: str = "en", **sections: dict[str, Any]) -> Runtime:
        sections.setdefault("scanner", {"burst_ms": BURST_MS})
        config = make_config(venue={"language": language}, **sections)
        url = migrated_sqlite_url(tmp_path_factory, tmp_path, f"shop{len(made)}.db")
        rt = Runtime(config=config, database_url=url, clock=clock)
        load_demo(rt, ADMIN)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.engine.dispose()


@pytest.fixture
def shop(make_shop: Callable[..., Runtime]) -> Runtime:
    return make_shop()
