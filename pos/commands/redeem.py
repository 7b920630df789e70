"""`pos redeem` and `pos ticket show|protocol-delete|reset|set-repeat` (the door check and its corrections).

Every command imports the services it calls inside its function: the CLI loads all command modules at start,
and a one-shot command such as `pos redeem` should load only what it needs.
"""

from __future__ import annotations

import sys

import typer

from pos.commands.common import (
    JsonOption,
    app,
    fail,
    id_or_fail,
    load_runtime,
    parse_or_fail,
    print_json,
    ticket_app,
)
from pos.commands.gate import verdict_line
from pos.domain.clock import parse_time


@app.command("redeem")
def redeem_(
    code: str = typer.Argument(..., help="The scanned or typed ticket code."),
    at: str | None = typer.Option(None, "--at", help="When the scan was made (ISO 8601); default now."),
    gate: str | None = typer.Option(None, "--gate", help="Gate name; default [terminal] gate."),
    as_json: bool = JsonOption,
) -> None:
    """Check a ticket at the door and record the entry. Exit code 0 accepted, 1 rejected."""
    from pos.services.door import door_actor, scan, settle

    rt = load_runtime()
    when = _parse_time(at, "--at", rt.config.venue.zone) if at else None
    actor = door_actor(rt)
    verdict = scan(rt, actor, code, at=when, gate=gate)
    if as_json:
        print_json(verdict.json(rt))
    else:
        typer.echo(verdict_line(rt, verdict, color=sys.stdout.isatty()))
    sys.stdout.flush()
    settle(rt, actor, gate)  # the answer is out; a rejection's log line may still be on its way
    raise typer.Exit(0 if verdict.accepted else 1)


@ticket_app.command("show")
def show(
    code: str = typer.Argument(..., help="Ticket code."),
    as_json: bool = JsonOption,
) -> None:
    """A ticket with its repeat options, first validation and repeat protocol."""
    from pos.services.operators import cli_actor
    from pos.services.tickets import show_ticket

    rt = load_runtime()
    data = show_ticket(rt, cli_actor(rt), code)
    if as_json:
        print_json(data)
        return
    limit = data["repeat_limit"]
    typer.echo(f"Ticket {data['code']} (#{data['id']}), {data['article']}, order {data['order_id']}")
    typer.echo(f"  holder:      {data['holder'] or '-'}")
    typer.echo(f"  repeat:      {data['repeat']}" + (f", limit {limit}" if limit is not None else ""))
    typer.echo(f"  valid:       {data['valid_from'] or '-'} .. {data['valid_until'] or '-'}")
    if data["event_date"]:
        typer.echo(f"  event date:  {data['event_date']}")
    if data["voided"]:
        typer.echo("  VOIDED")
    first = data["first_redeemed_at"]
    typer.echo(f"  first entry: {first + ' at gate ' + (data['first_gate'] or '-') if first else 'never'}")
    for item in data["protocol"]:
        typer.echo(f"  re-entry {item['id']}: {item['at']} at gate {item['gate'] or '-'}")


@ticket_app.command("protocol-delete")
def protocol_delete_(
    code: str = typer.Argument(..., help="Ticket code."),
    entry_text: str = typer.Argument(
        ..., metavar="ENTRY_ID", help="Protocol entry id (see `pos ticket show`)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Delete one re-entry from a ticket's protocol (a mistaken scan, or a credit)."""
    from pos.services.operators import cli_actor
    from pos.services.tickets import protocol_delete

    entry_id = id_or_fail(entry_text, "ENTRY_ID")
    rt = load_runtime()
    data = protocol_delete(rt, cli_actor(rt), code, entry_id)
    if as_json:
        print_json(data)
    else:
        typer.echo(f"Deleted protocol entry {entry_id} of ticket {data['code']}.")


@ticket_app.command("reset")
def reset_(
    codes: list[str] = typer.Argument(None, help="Ticket codes (or use --article / --all)."),
    article: str | None = typer.Option(None, "--article", help="All tickets of this article (name or #ID)."),
    all_tickets: bool = typer.Option(False, "--all", help="All tickets."),
    full: bool = typer.Option(False, "--full", help="Also undo the first validation."),
    as_json: bool = JsonOption,
) -> None:
    """Clear repeat protocols of selected tickets, of an article, or of all tickets."""
    from pos.services.operators import cli_actor
    from pos.services.tickets import Selection, reset

    rt = load_runtime()
    data = reset(rt, cli_actor(rt), Selection(codes or (), article, all_tickets), full=full)
    if as_json:
        print_json(data)
    else:
        undone = f", {data['first_validations_undone']} first validation(s) undone" if full else ""
        typer.echo(f"Reset {data['tickets']} ticket(s): {data['entries_deleted']} entries deleted{undone}.")


@ticket_app.command("set-repeat")
def set_repeat_(
    codes: list[str] = typer.Argument(None, help="Ticket codes (or use --article / --all)."),
    article: str | None = typer.Option(None, "--article", help="All tickets of this article (name or #ID)."),
    all_tickets: bool = typer.Option(False, "--all", help="All tickets."),
    repeat: str = typer.Option(..., "--repeat", help="none | anytime | daily | same-day."),
    repeat_limit: str | None = typer.Option(
        None, "--repeat-limit", help="Re-entries after the first: N or unlimited (default unlimited)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Change repeat type and limit of tickets after the sale; audited."""
    from pos.domain.repeat import parse_repeat
    from pos.services.operators import cli_actor
    from pos.services.tickets import Selection, set_repeat

    if repeat_limit is not None and repeat.strip().lower() == "none":
        fail(
            "--repeat-limit needs a --repeat type (anytime, daily or same-day); --repeat none is single use."
        )
    kind, limit = parse_or_fail(lambda r: parse_repeat(r, repeat_limit), repeat, "--repeat")
    rt = load_runtime()
    data = set_repeat(rt, cli_actor(rt), Selection(codes or (), article, all_tickets), kind, limit)
    if as_json:
        print_json(data)
    else:
        shown = "single use" if kind == "none" else f"{kind}, limit {data['repeat_limit']}"
        typer.echo(f"Set {data['tickets']} ticket(s) to {shown}.")


def _parse_time(text: str, option: str, zone: object) -> object:
    return parse_or_fail(lambda t: parse_time(t, zone), text, option)
