"""The `pos` command line (Typer). Sub-commands live in pos/commands/; each imports only what it needs."""

from __future__ import annotations

import typer

from pos.commands import common
from pos.commands.common import GROUPS, app


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    config: str | None = typer.Option(
        None, "--config", envvar="POS_CONFIG", help="Config file (TOML). Default: ./pos.toml if present."
    ),
    db: str | None = typer.Option(
        None, "--db", envvar="POS_DB", help="Database URL, e.g. sqlite:///pos.db; wins over the config file."
    ),
) -> None:
    common.Options.config_path = config
    common.Options.database_url = db
    if ctx.invoked_subcommand is None:
        from pos.commands.setup import run_app

        run_app()


for _name, _group in GROUPS.items():
    app.add_typer(_group, name=_name)

# Each module adds its commands to `app` or to a group in pos.commands.common when imported.
from pos.commands import (  # noqa: E402,F401
    articles,
    export,
    fiscal,
    mail,
    operators,
    printing,
    promos,
    redeem,
    sales,
    setup,
    till,
)


def main() -> None:
    app(prog_name="pos")


if __name__ == "__main__":
    main()
