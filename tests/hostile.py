"""Helpers for hostile-input tests: the whole database as data, and the CLI run in-process.

`database_state` shows that a refused command changed nothing. `run_cli` runs `pos` through Typer's CliRunner
in this process (ten times faster than the console script on a busy machine) with its own environment, and
collects the engine the command made, so thousands of runs do not pile up database connections.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, select

from pos.db.models import metadata


def database_state(url: str, *, ignore: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order (`ignore` names tables a command may append to)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            state = {}
            for table in metadata.sorted_tables:
                if table.name in ignore:
                    continue
                order = list(table.primary_key.columns) or list(table.columns)
                rows = connection.execute(select(table).order_by(*order)).all()
                state[table.name] = [tuple(row) for row in rows]
            return state
    finally:
        engine.dispose()


def run_cli(args: list[str], env: dict[str, str], input: str | None = None) -> Any:
    """`pos ARGS` in-process; the result has exit_code, stdout, stderr and exception."""
    from typer.testing import CliRunner

    import pos.db.engine
    from pos.cli import app

    # The command's engines are disposed afterwards, so their pooled connections (open files, PostgreSQL
    # sessions) do not pile up over thousands of calls; a full gc.collect() per call did the same 10x slower.
    engines: list[Any] = []
    create = pos.db.engine.create_engine

    def tracked(*args: Any, **kwargs: Any) -> Any:
        engine = create(*args, **kwargs)
        engines.append(engine)
        return engine

    pos.db.engine.create_engine = tracked  # type: ignore[assignment]
    try:
        result = CliRunner().invoke(app, args, env=env, input=input, catch_exceptions=True, prog_name="pos")
    finally:
        pos.db.engine.create_engine = create  # type: ignore[assignment]
        for engine in engines:
            engine.dispose()
    return result
