"""`pos init`, `pos db upgrade`, `pos demo`, `pos run`."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
from pathlib import Path

import typer

from pos.commands.common import JsonOption, app, db_app, fail, load_runtime, print_json


@app.command("init")
def init(
    path: Path = typer.Argument(Path("pos.toml"), help="Where to write the starter config."),
    database: str = typer.Option(
        "", "--database", help="[database] url to write (default: the user data dir)."
    ),
    printer_file: str = typer.Option("", "--printer-file", help="Use a file printer writing to this path."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    as_json: bool = JsonOption,
) -> None:
    """Write a starter config with a fresh random brand secret and cart-link secret."""
    from pos.setup import starter_config

    if path.exists() and not force:
        fail(f"{path} already exists; use --force to overwrite it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(starter_config(database_url=database, printer_file=printer_file), encoding="utf-8")
    path.chmod(0o600)
    if as_json:
        print_json({"path": str(path)})
    else:
        typer.echo(f"Wrote {path} (mode 600; it holds the secrets).")


@db_app.command("upgrade")
def upgrade(as_json: bool = JsonOption) -> None:
    """Create or migrate the schema to the newest version (Alembic)."""
    from pos.services.database import upgrade_database

    rt = load_runtime()
    heads = upgrade_database(rt)
    if as_json:
        print_json({"database": rt.database_url, "heads": heads})
    else:
        typer.echo(f"Database {rt.database_url} is up to date.")


@app.command("demo")
def demo(
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when articles exist already."),
    as_json: bool = JsonOption,
) -> None:
    """Load a demo venue: New Year's Eve, a concert, VIP, ride and season cards, a day ticket, drinks, merch."""
    from pos.services.demo import load_demo
    from pos.services.operators import cli_actor

    rt = load_runtime()
    created = load_demo(rt, cli_actor(rt), if_empty=if_empty)
    if as_json:
        print_json({"articles": created})
    elif created:
        typer.echo(f"Loaded {len(created)} demo articles.")
    else:
        typer.echo("Articles exist already; demo data not loaded.")


@app.command("run")
def run(
    training: bool = typer.Option(
        False,
        "--training",
        help="Training mode for new cashiers: nothing counts as takings, tickets are void.",
    ),
) -> None:
    """Start the cashier app (the same as `pos` alone)."""
    run_app(training=training)


def run_app(*, training: bool = False) -> None:
    rt = load_runtime()
    rt.training = training
    from pos.screens.app import PosApp

    cashier_app = PosApp(rt)
    cashier_app.run()
    if cashier_app.return_code:  # refused at start (e.g. the terminal runs already): the sentence was shown
        raise typer.Exit(cashier_app.return_code)


@db_app.command("check")
def check(as_json: bool = JsonOption) -> None:
    """Check the invariants in SQL (nothing oversold, over-admitted or half-written); exit 1 on a violation."""
    from pos.services.database import check_database
    from pos.services.operators import cli_actor

    rt = load_runtime()
    checked = check_database(rt, cli_actor(rt))
    results, broken = checked.results, checked.violations
    if as_json:
        print_json(
            {
                "ok": not broken,
                "checks": {name: len(rows) for name, rows in results.items()},
                "violations": broken,
            }
        )
    else:
        for name, rows in results.items():
            typer.echo(f"{'ok  ' if not rows else 'FAIL'} {name}" + (f": {rows[:3]}" if rows else ""))
    if broken:
        raise typer.Exit(1)
