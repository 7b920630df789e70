"""Schema migrations through Alembic, driven from code so `pos db upgrade` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

from pos.db.engine import normalise_url, secure_sqlite_file

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate to `revision`; the one command that may create a new SQLite file (and its directory): the
    migration environment opens the database with `make_engine(url, create=True)`."""
    command.upgrade(alembic_config(url), revision)
    secure_sqlite_file(url)


def current_heads(url: str) -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def revision(url: str, message: str) -> None:
    """Developer helper: autogenerate a new migration against an up-to-date database."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
