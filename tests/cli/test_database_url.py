"""A --db that points at nothing usable: one sentence, nothing created, no password shown.

Only `pos db upgrade` creates a database (a new SQLite file and its directory).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, PosCommand


@pytest.fixture
def pos_at(config_file: Path, tmp_path: Path):
    def make(url: str) -> PosCommand:
        pos = PosCommand(url, config_file)
        pos.env["XDG_DATA_HOME"] = str(tmp_path / "data")
        return pos

    return make


def one_sentence(result, code: int = 2) -> str:
    lines = result.stderr.splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


COMMANDS = [
    ("article", "list"),
    ("sell", "Gig"),
    ("export", "attendance", "--format", "csv"),
    ("db", "check"),
]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_sqlite_file_is_one_sentence_and_nothing_is_created(pos_at, tmp_path, command) -> None:
    target = tmp_path / "x" / "a" / "b.db"
    result = pos_at(f"sqlite:///{target}")(*command)
    assert (
        one_sentence(result) == f"Error: Database file {target} does not exist; `pos db upgrade` creates it."
    )
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a database, just some text\n", "is not an SQLite database."),
        (b"", "is empty; `pos db upgrade` sets it up."),
    ],
)
def test_a_file_that_is_not_a_database_is_left_alone(pos_at, tmp_path, content, message) -> None:
    target = tmp_path / "notes.db"
    target.write_bytes(content)
    for command in (("article", "list"), ("db", "upgrade")) if content else (("article", "list"),):
        assert one_sentence(pos_at(f"sqlite:///{target}")(*command)).endswith(message)
    assert target.read_bytes() == content


def test_a_directory_is_not_a_database(pos_at, tmp_path) -> None:
    assert one_sentence(pos_at(f"sqlite:///{tmp_path}")("article", "list")) == (
        f"Error: Database file {tmp_path} is not a regular file."
    )


def test_db_upgrade_creates_the_file_and_its_directory(pos_at, tmp_path) -> None:
    target = tmp_path / "new" / "dir" / "pos.db"
    result = pos_at(f"sqlite:///{target}")("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert target.is_file() and oct(target.stat().st_mode & 0o777) == "0o600"
    assert oct(target.parent.stat().st_mode & 0o777) == "0o700"
    assert pos_at(f"sqlite:///{target}")("article", "list").returncode == 0


def test_a_database_without_the_schema_says_to_upgrade(pos_at, tmp_path) -> None:
    import sqlite3

    target = tmp_path / "other.db"
    sqlite3.connect(target).execute("CREATE TABLE t (x)").connection.close()
    line = one_sentence(pos_at(f"sqlite:///{target}")("article", "list"))
    assert line.startswith("Error: The database has no pos tables (no such table: ")
    assert line.endswith("); run `pos db upgrade` first.")


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_one_sentence_without_the_password(pos_at) -> None:
    if not PG_URL:
        pytest.skip("POS_TEST_PG_URL is not set")
    name = f"pos_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(PG_URL).set(database=name, password="hunter2-secret").render_as_string(hide_password=False)
    for command in COMMANDS + [("db", "upgrade")]:
        result = pos_at(url)(*command)
        line = one_sentence(result)
        assert f'database "{name}" does not exist' in line, line
        assert "hunter2" not in result.stdout + result.stderr


def test_an_unreachable_postgresql_server_is_one_sentence_without_the_password(pos_at) -> None:
    url = "postgresql+psycopg://pos:hunter2-secret@127.0.0.1:1/pos"
    for command in (("article", "list"), ("db", "upgrade"), ("db", "check")):
        result = pos_at(url)(*command)
        line = one_sentence(result)
        assert line.startswith("Error: The database is not reachable or busy:"), line
        assert "hunter2" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://pos:hunter2-secret@db/pos",
            "Error: Database URL mysql://pos:***@db/pos is neither SQLite nor PostgreSQL.",
        ),
        ("not a url at all", "Error: Database URL not a url at all is not a valid SQLAlchemy URL."),
    ],
)
def test_urls_in_messages_have_their_password_masked(pos_at, url, message) -> None:
    result = pos_at(url)("article", "list")
    assert one_sentence(result) == message
    assert "hunter2" not in result.stderr


def test_db_upgrade_shows_the_url_without_its_password(pos_at, db_url) -> None:
    parsed = make_url(db_url)
    if parsed.get_backend_name() == "sqlite":
        shown = pos_at(db_url)("db", "upgrade", "--json")
        assert shown.returncode == 0, shown.stderr
        return
    with_password = parsed.set(password="trusted-auth-ignores-it").render_as_string(hide_password=False)
    result = pos_at(with_password)("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "trusted-auth-ignores-it" not in result.stdout + result.stderr
    assert "***" in result.stdout
    assert os.environ.get("POS_TEST_PG_URL")
