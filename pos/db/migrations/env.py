"""Alembic environment: the URL comes from pos (config or --db), the metadata from the SQLModel tables."""

from alembic import context

import pos.db.models  # noqa: F401  (registers the tables)
from pos.db.engine import is_sqlite, make_engine
from pos.db.models import metadata

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable, url)
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection, url)
    engine.dispose()


def _run(connection, url: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=is_sqlite(url),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `pos db upgrade`")
run_migrations_online()
