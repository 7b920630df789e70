"""Shared fixtures: a real SQLite file per test, a fresh PostgreSQL database per test when POS_TEST_PG_URL is set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pos.config import Config, parse_config
from pos.runtime import Runtime

pytest_plugins = ["tests.printing.fixtures"]

PG_URL = os.environ.get("POS_TEST_PG_URL")
TEST_SECRET = "test-secret-0123456789abcdef"

CONFIG_TOML = f"""
[venue]
timezone = "Europe/Berlin"
day_starts_at = "05:00"
language = "en"

[brand]
id = "1000"
secret = "{TEST_SECRET}"

[printer]
kind = "dummy"

[cart_links]
secret = "cart-link-secret-0123456789"

[terminal]
name = "test-terminal"
gate = "north"
"""


def test_config(**overrides: Any) -> Config:
    import tomllib

    data = tomllib.loads(CONFIG_TOML)
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    return parse_config(data)


@pytest.fixture
def config() -> Config:
    return test_config()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "pos.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return path


def _upgrade(url: str) -> None:
    from pos.db.migrate import upgrade

    upgrade(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'pos.db'}"
    _upgrade(url)
    return url


def fresh_pg_database() -> Iterator[str]:
    """A new empty database on the test server, dropped afterwards."""
    assert PG_URL
    name = f"pos_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("POS_TEST_PG_URL is not set")
    for url in fresh_pg_database():
        _upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Runs a test on SQLite and, when POS_TEST_PG_URL is set, on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pos.db'}"
        _upgrade(url)
        yield url
        return
    if not PG_URL:
        pytest.skip("POS_TEST_PG_URL is not set")
    for url in fresh_pg_database():
        _upgrade(url)
        yield url


class FixedClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 31, 20, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def rt(db_url: str, config: Config, clock: FixedClock) -> Iterator[Runtime]:
    runtime = Runtime(config=config, database_url=db_url, operator="tester", clock=clock)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def sqlite_rt(sqlite_url: str, config: Config, clock: FixedClock) -> Iterator[Runtime]:
    runtime = Runtime(config=config, database_url=sqlite_url, operator="tester", clock=clock)
    yield runtime
    runtime.engine.dispose()


class PosCommand:
    """Runs the real `pos` console script in a subprocess against one database and config."""

    def __init__(self, db_url: str, config_file: Path) -> None:
        self.env = {**os.environ, "POS_DB": db_url, "POS_CONFIG": str(config_file), "PYTHONUTF8": "1"}
        self.exe = str(Path(sys.executable).with_name("pos"))

    def __call__(
        self, *args: str, input: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.exe, *args], env=self.env, input=input, capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(f"pos {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        result = self(*args, "--json", check=True)
        return json.loads(result.stdout)


@pytest.fixture
def pos(db_url: str, config_file: Path) -> PosCommand:
    return PosCommand(db_url, config_file)


@pytest.fixture
def pos_sqlite(sqlite_url: str, config_file: Path) -> PosCommand:
    return PosCommand(sqlite_url, config_file)
