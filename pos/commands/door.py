"""`pos door conflicts` and `pos door resolve`: offline admissions that broke a rule in the database.

The services are imported inside the commands: the CLI loads every command module at start, and a one-shot
command should load only what it needs.
"""

from __future__ import annotations

import typer

from pos.commands.common import JsonOption, app, id_or_fail, load_runtime, new_app, print_json

door_app = new_app("The door: conflicts of offline admissions and their resolution.")
app.add_typer(door_app, name="door")


@door_app.command("conflicts")
def conflicts_(
    only_open: bool = typer.Option(False, "--open", help="Only the conflicts not resolved yet."),
    as_json: bool = JsonOption,
) -> None:
    """Offline admissions that broke a rule in the database (used meanwhile, voided, unknown)."""
    from pos.services.door import conflicts
    from pos.services.operators import cli_actor

    rt = load_runtime()
    found = conflicts(rt, cli_actor(rt), only_open=only_open)
    if as_json:
        print_json([conflict.json(rt) for conflict in found])
        return
    if not found:
        typer.echo("No door conflicts.")
        return
    for conflict in found:
        shown = conflict.json(rt)
        typer.echo(
            f"#{conflict.id} {conflict.status:<8} {shown['at']} gate {conflict.gate or '-'}: {conflict.message}"
            f" ({conflict.reason}) | ticket {conflict.code}"
        )


@door_app.command("resolve")
def resolve_(
    conflict_text: str = typer.Argument(
        ..., metavar="CONFLICT_ID", help="The conflict's number (see `pos door conflicts`)."
    ),
    action: str = typer.Argument(..., help="accept (the entry stands) or credit (the entry is given back)."),
    as_json: bool = JsonOption,
) -> None:
    """Resolve a door conflict; audited."""
    from pos.services.door import resolve_conflict
    from pos.services.operators import cli_actor

    conflict_id = id_or_fail(conflict_text, "CONFLICT_ID")
    rt = load_runtime()
    resolved = resolve_conflict(rt, cli_actor(rt), conflict_id, action)
    if as_json:
        print_json(resolved.json(rt))
    else:
        typer.echo(f"Door conflict #{resolved.id} {resolved.status}.")
