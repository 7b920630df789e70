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
    engine = make_engine(url, create=True)  # `pos db upgrade` may create a new SQLite file, nothing else may
    with engine.connect() as connection:
        _run(connection, url)
    engine.dispose()


def _run(connection, url: str) -> None:
    sqlite = is_sqlite(url)
    if sqlite:
        # Batch migrations rebuild a table (copy, drop, rename); with foreign keys on, dropping a table that other
        # rows point at fails. Off for the migration (only outside a transaction does SQLite take it), then checked.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:3]}")
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `pos db upgrade`")
run_migrations_online()
