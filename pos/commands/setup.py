"""`pos init`, `pos db upgrade`, `pos demo`, `pos run`."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
from pathlib import Path
from typing import Any

import typer

from pos.commands.common import JsonOption, Options, app, db_app, fail, load_runtime, print_json

CONFIG_HEADER = """\
# pos config, written by `pos init`. Keep it private: it holds the MAC key of your tickets.
# Every key is explained in config.example.toml. Without [database] url the database is a SQLite file in the
# user data directory.

"""


def starter_config(*, database_url: str = "", printer_file: str = "", kiosk: bool = False) -> dict[str, Any]:
    """The starter config as data, with fresh random secrets; written by a TOML library, never by formatting."""
    import secrets

    config: dict[str, Any] = {
        "venue": {
            "name": "pos box office",
            "timezone": "Europe/Berlin",
            "day_starts_at": "00:00",
            "currency": "EUR",
            "language": "de",
        },
        "brand": {"id": "1000", "secret": secrets.token_urlsafe(32)},
    }
    if database_url:
        config["database"] = {"url": database_url}
    config["printer"] = (
        {"kind": "file", "path": printer_file, "paper_mm": 80}
        if printer_file
        else {"kind": "dummy", "paper_mm": 80}
    )
    config["cart_links"] = {"secret": secrets.token_urlsafe(32)}
    config["terminal"] = {"name": terminal_name(), "gate": "main", "kiosk": kiosk}
    return config


def terminal_name() -> str:
    """This machine's host name: two tills initialised on two machines never share a journal by accident."""
    import re
    import socket

    name = re.sub(r"[^A-Za-z0-9._-]+", "-", socket.gethostname().split(".")[0]).strip("-.")[:40]
    return name or "terminal-1"


@app.command("init")
def init(
    path: Path = typer.Argument(Path("pos.toml"), help="Where to write the starter config."),
    database: str = typer.Option(
        "", "--database", help="[database] url to write (default: the user data dir)."
    ),
    printer_file: str = typer.Option("", "--printer-file", help="Use a file printer writing to this path."),
    kiosk: bool = typer.Option(
        False, "--kiosk", help="A locked-down till: quitting the app needs an admin's PIN ([terminal] kiosk)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    as_json: bool = JsonOption,
) -> None:
    """Write a starter config with a fresh random brand secret and cart-link secret."""
    import tomli_w

    from pos.files import open_private

    name = _path_words(path)
    try:
        exists = path.exists()
        regular = path.is_file()
    except OSError as exc:  # a name too long for the file system, a directory we may not enter, ...
        fail(f"Cannot write {name}: {(exc.strerror or type(exc).__name__).lower()}.")
    if exists and not force:
        fail(f"{name} already exists; use --force to overwrite it.")
    if exists and not regular:
        fail(f"{name} is not a regular file.")
    text = CONFIG_HEADER + tomli_w.dumps(
        starter_config(database_url=database, printer_file=printer_file, kiosk=kiosk)
    )
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new directory for the secrets: private
        with open_private(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        fail(f"Cannot write {name}: {(exc.strerror or type(exc).__name__).lower()}.")
    if as_json:
        print_json({"path": str(path)})
    else:
        typer.echo(f"Wrote {name} (mode 600; it holds the secrets).")


def _path_words(path: Path) -> str:
    """The path as a message shows it: as typed, or quoted and escaped when it holds a line break or another
    character a terminal would not show as itself (an error stays one line)."""
    from pos.domain.values import shown

    text = str(path)
    return text if text.isprintable() and len(text) <= 200 else shown(text)


@db_app.command("upgrade")
def upgrade(as_json: bool = JsonOption) -> None:
    """Create or migrate the schema to the newest version (Alembic); creates a new SQLite file if needed."""
    from pos.services.database import shown_url, upgrade_database

    rt = load_runtime()
    heads = upgrade_database(rt)
    shown = shown_url(rt)
    if as_json:
        print_json({"database": shown, "heads": heads})
    else:
        typer.echo(f"Database {shown} is up to date.")


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
    from pos.commands.launch import run_app as run

    code = run(training=training, config_path=Options.config_path, database_url=Options.database_url)
    if code:  # refused at start (e.g. the terminal runs already): the sentence was shown
        raise typer.Exit(code)


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
