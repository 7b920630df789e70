"""Shared fixtures: a real SQLite file per test, a fresh PostgreSQL database per test when POS_TEST_PG_URL is set."""

from __future__ import annotations

import json
import os
import shutil
import signal
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

# A shell without job control starts background commands with Ctrl+C ignored (POSIX), and Python then never
# installs its own handler: the tests that stop a `pos` process with SIGINT, or check that the kiosk till gives
# Ctrl+C back, need it as an interactive run has it, in this process and in the processes it starts.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own data directory (gate copies, crash logs), for itself and the `pos` it runs."""
    path = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("XDG_DATA_HOME", str(path))
    return path


def test_config(**overrides: Any) -> Config:
    import tomllib

    data = tomllib.loads(CONFIG_TOML)
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    return parse_config(data)


test_config.__test__ = False  # type: ignore[attr-defined]  # a helper: modules import it, pytest must not collect it


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


# Every test gets its own database, migrated to head. Running the migrations takes about 0.4 s on SQLite and more on
# PostgreSQL, so each test process migrates one template once and every test starts from a copy of it: a file copy
# on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL. What the copy holds is exactly what `upgrade` wrote.
_templates: dict[str, str] = {}


def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if "sqlite" not in _templates:
        path = tmp_path_factory.mktemp("template") / "pos.db"
        _upgrade(f"sqlite:///{path}")
        _templates["sqlite"] = str(path)
    return Path(_templates["sqlite"])


def migrated_sqlite_url(
    tmp_path_factory: pytest.TempPathFactory, directory: Path, name: str = "pos.db"
) -> str:
    """A new SQLite file at head in `directory` (mode 600, as `pos db upgrade` leaves it)."""
    target = directory / name
    shutil.copyfile(_sqlite_template(tmp_path_factory), target)
    os.chmod(target, 0o600)
    return f"sqlite:///{target}"


def _pg_template() -> str:
    if "postgres" not in _templates:
        assert PG_URL
        name = f"pos_template_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        _upgrade(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
        _templates["postgres"] = name
    return _templates["postgres"]


def fresh_pg_database(*, migrated: bool = False) -> Iterator[str]:
    """A new database on the test server (empty, or at head from the template), dropped afterwards."""
    assert PG_URL
    template = _pg_template() if migrated else None
    name = f"pos_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if template:
            # A template must have no other session; the migration's own connections are gone by now.
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        else:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_template() -> Iterator[None]:
    yield
    name = _templates.pop("postgres", None)
    if name and PG_URL:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return migrated_sqlite_url(tmp_path_factory, tmp_path)


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("POS_TEST_PG_URL is not set")
    yield from fresh_pg_database(migrated=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Runs a test on SQLite and, when POS_TEST_PG_URL is set, on PostgreSQL."""
    if request.param == "sqlite":
        yield migrated_sqlite_url(tmp_path_factory, tmp_path)
        return
    if not PG_URL:
        pytest.skip("POS_TEST_PG_URL is not set")
    yield from fresh_pg_database(migrated=True)


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
    """`pos ARGS` against one database and config: in this process through Click's test runner (the same app,
    arguments, environment, stdin, exit code and streams, without 0.6 s of interpreter start and imports per
    call), or as the real console script in a subprocess (`real_process=True`, and `exe` for tests that drive
    the process themselves: signals, pipes, raw argv bytes)."""

    def __init__(self, db_url: str, config_file: Path, *, real_process: bool = False) -> None:
        self.env = {**os.environ, "POS_DB": db_url, "POS_CONFIG": str(config_file), "PYTHONUTF8": "1"}
        self.exe = str(Path(sys.executable).with_name("pos"))
        self.real_process = real_process

    def __call__(
        self, *args: str, input: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        if self.real_process:
            result = subprocess.run(
                [self.exe, *args], env=self.env, input=input, capture_output=True, text=True, timeout=120
            )
        else:
            from tests.hostile import run_cli

            ran = run_cli(list(args), self.env, input=input)
            result = subprocess.CompletedProcess([self.exe, *args], ran.exit_code, ran.stdout, ran.stderr)
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


# The tests that take 10-30 s each (on two cores, six workers) go first: they start at once instead of at the
# end, where one of them ran on while the other processes had nothing left (work stealing takes the short tests
# from behind them). Back to back on two cores: 245 s -> 234 s.
LONG_TESTS = (
    "tests/test_no_leaks.py",
    "tests/screens/test_german.py",
    "tests/cli/test_gate_scanner.py",
    "tests/test_cli_fuzz.py",
    "tests/test_load_postgres.py",
    "tests/test_crash_safety.py",
    "tests/screens/test_kiosk.py",
    "tests/screens/test_shift.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_TESTS))
