"""`pos fiscal status|retry` and `pos export dsfinvk`: German fiscal signing (KassenSichV)."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
from pathlib import Path

import typer

from pos.commands.common import JsonOption, app, export_app, load_runtime, new_app, print_json

fiscal_app = new_app("German fiscal signing (TSE): its status, signing what an outage left unsigned.")
app.add_typer(fiscal_app, name="fiscal")


@fiscal_app.command("status")
def status(as_json: bool = JsonOption) -> None:
    """The TSE's state (serial, counters, reachable) and the journal lines it did not sign (outages)."""
    from pos.services.fiscal import fiscal_status
    from pos.services.operators import cli_actor

    rt = load_runtime()
    data = fiscal_status(rt, cli_actor(rt)).json()
    if as_json:
        print_json(data)
        return
    if data["signer"] == "none":
        typer.echo("No TSE: [fiscal] signer is none (no fiscal signing).")
    else:
        test = " (Test-TSE, not for real takings)" if data["test"] else ""
        reach = "reachable" if data["reachable"] else f"NOT reachable: {data['message'] or data['state']}"
        typer.echo(f"TSE {data['signer']}{test}: {reach}, state {data['state']}.")
        typer.echo(f"  serial {data['serial']}, client {data['client_serial']}, {data['algorithm']}")
        typer.echo(f"  signature counter {data['signature_counter']}, transactions {data['tx_number']}")
    typer.echo(
        f"Outages: {data['outages']} journal line(s) not signed"
        + (f", the last at {data['last_outage']}." if data["last_outage"] else ".")
    )


@fiscal_app.command("retry")
def retry(as_json: bool = JsonOption) -> None:
    """Sign the journal lines an outage left unsigned, now that the TSE answers."""
    from pos.services.fiscal import retry_outages
    from pos.services.operators import cli_actor

    rt = load_runtime()
    signed = retry_outages(rt, cli_actor(rt))
    if as_json:
        print_json({"signed": signed})
    else:
        typer.echo(f"Signed {signed} journal line(s).")


@export_app.command("dsfinvk")
def dsfinvk(
    date_from: str | None = typer.Option(None, "--from", help="First business day (or an ISO 8601 time)."),
    date_to: str | None = typer.Option(
        None, "--to", help="Last business day, included (or an ISO 8601 time)."
    ),
    output: Path = typer.Option(..., "-o", "--output", help="The zip file to write (mode 600)."),
    as_json: bool = JsonOption,
) -> None:
    """The DSFinV-K export for the tax office: one cash point closing per Z report closed in the period."""
    from pos.commands.export import _progress_bar, period_option
    from pos.services.fiscal import export_dsfinvk
    from pos.services.operators import cli_actor

    rt = load_runtime()
    zone = rt.config.venue.zone
    with _progress_bar() as progress:
        summary = export_dsfinvk(
            rt,
            cli_actor(rt),
            output,
            date_from=period_option(date_from, "--from", zone),
            date_to=period_option(date_to, "--to", zone),
            progress=progress,
        )
    if as_json:
        print_json(
            {"path": str(summary.path), "closings": summary.closings, "transactions": summary.transactions}
        )
    else:
        typer.echo(
            f"Wrote {summary.closings} cash point closing(s), {summary.transactions} transaction(s) to {summary.path}."
        )
