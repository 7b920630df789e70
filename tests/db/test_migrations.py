from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from pos.db.engine import make_engine
from pos.db.models import metadata


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(db_url: str) -> None:
    from pos.db.migrate import upgrade

    upgrade(db_url)
    upgrade(db_url)


def test_sqlite_is_durable_and_strict(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    engine.dispose()


def test_cli_upgrade_on_a_new_file(tmp_path, config_file) -> None:
    from tests.conftest import PosCommand

    db = tmp_path / "new" / "fresh.db"
    pos = PosCommand(f"sqlite:///{db}", config_file)
    result = pos("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert db.exists()
    assert oct(db.stat().st_mode & 0o777) == "0o600"
