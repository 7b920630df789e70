"""`pos shift open|close|report` and `pos cash in|out`: the till of the config's terminal, as its operator."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
from typing import Any

import typer

from pos.commands.common import (
    JsonOption,
    app,
    fail,
    id_or_fail,
    load_runtime,
    new_app,
    parse_or_fail,
    print_json,
)

shift_app = new_app(
    "Shifts of this terminal: open with a float, close with the counted cash, X and Z reports."
)
cash_app = new_app("Cash into or out of this terminal's drawer, with a reason.")
app.add_typer(shift_app, name="shift")
app.add_typer(cash_app, name="cash")


def _amount(text: str, option: str) -> int:
    from pos.domain.money import parse_amount

    cents: int = parse_or_fail(parse_amount, text, option)
    return cents


@shift_app.command("open")
def shift_open(
    float_: str = typer.Option(..., "--float", help="The cash float in the drawer, e.g. 150.00."),
    as_json: bool = JsonOption,
) -> None:
    """Open this terminal's shift with its cash float (journalled as the shift's first line)."""
    from pos.services.operators import cli_actor
    from pos.services.till import open_shift, shift_report

    rt = load_runtime()
    actor = cli_actor(rt)
    shift = open_shift(rt, actor, _amount(float_, "--float"))
    _show(rt, shift_report(rt, actor, shift.id), as_json, f"Shift #{shift.id} opened on {rt.terminal}.")


@shift_app.command("close")
def shift_close(
    counted: str = typer.Option(..., "--counted", help="The cash counted in the drawer, e.g. 312.50."),
    as_json: bool = JsonOption,
) -> None:
    """Close this terminal's open shift with the cash counted: prints and shows the Z report."""
    from pos.services.operators import cli_actor
    from pos.services.till import close_shift, print_report, shift_report

    rt = load_runtime()
    actor = cli_actor(rt)
    cents = _amount(counted, "--counted")
    shift_id = shift_report(rt, actor).shift_id
    figures = close_shift(rt, actor, shift_id, cents)
    outcome = print_report(rt, actor, shift_id)
    _show(rt, figures, as_json, f"Shift #{shift_id} closed, Z report {figures.z_number}.")
    if not outcome.ok:
        typer.echo(
            f"Warning: the Z report did not print ({str(outcome.failed[0].reason).rstrip('.')}).", err=True
        )


@shift_app.command("report")
def shift_report_(
    shift_text: str | None = typer.Argument(
        None, metavar="[SHIFT_ID]", help="A shift's number (default: this terminal's open shift)."
    ),
    print_it: bool = typer.Option(False, "--print", help="Also print it."),
    as_json: bool = JsonOption,
) -> None:
    """The X report of the open shift (it stays open), or the Z report of a closed one."""
    from pos.services.operators import cli_actor
    from pos.services.till import print_report, shift_report

    shift = id_or_fail(shift_text, "SHIFT_ID") if shift_text is not None else None
    rt = load_runtime()
    actor = cli_actor(rt)
    figures = shift_report(rt, actor, shift)
    _show(rt, figures, as_json, None)
    if print_it:
        outcome = print_report(rt, actor, figures.shift_id)
        if not outcome.ok:
            fail(f"The report did not print ({str(outcome.failed[0].reason).rstrip('.')}).", code=1)


def _show(rt: Any, figures: Any, as_json: bool, headline: str | None) -> None:
    from pos.domain.money import format_plain as money
    from pos.services.till import report_json

    data = report_json(figures, rt.config.venue.zone)
    if as_json:
        print_json(data)
        return
    if headline:
        typer.echo(headline)
    kind = "X report" if data["z_number"] is None else f"Z report {data['z_number']}"
    typer.echo(
        f"{kind}, shift #{data['id']} of {data['operator']} on {data['terminal']}, opened {data['opened_at']}"
    )
    for row in data["by_tender"]:
        typer.echo(f"  {row['tender']}: {row['count']} sale(s), {money(row['total_cents'])}")
    typer.echo(f"  sales {money(data['sales_cents'])}, returns {money(data['returns_cents'])}")
    for row in data["by_group"]:
        typer.echo(f"  {row['group']}: {row['units']} unit(s), {money(row['total_cents'])}")
    for row in data["by_vat"]:
        typer.echo(
            f"  VAT {row['rate']} %: net {money(row['net_cents'])}, VAT {money(row['vat_cents'])}, "
            f"gross {money(row['gross_cents'])}"
        )
    typer.echo(
        f"  cash: float {money(data['float_cents'])}, in {money(data['cash_in_cents'])}, "
        f"out {money(data['cash_out_cents'])}, expected {money(data['expected_cash_cents'])}"
    )
    if data["counted_cents"] is not None:
        typer.echo(f"  counted {money(data['counted_cents'])}, difference {money(data['difference_cents'])}")


def _cash(kind: str, amount: str, reason: str, as_json: bool) -> None:
    from pos.domain.money import format_plain
    from pos.services.operators import cli_actor
    from pos.services.till import cash_movement, print_cash_slip

    rt = load_runtime()
    actor = cli_actor(rt)
    movement = cash_movement(rt, actor, kind, _amount(amount, "AMOUNT"), reason)
    outcome = print_cash_slip(rt, actor, movement)
    if as_json:
        print_json(movement.json(rt.config.venue.zone))
    else:
        words = "into" if kind == "cash_in" else "out of"
        typer.echo(
            f"{format_plain(movement.amount_cents)} {words} the drawer of shift #{movement.shift_id} "
            f"({movement.reason}), journal line {movement.journal_number}."
        )
    if not outcome.ok:
        typer.echo(
            f"Warning: the cash slip did not print ({str(outcome.failed[0].reason).rstrip('.')}).", err=True
        )


@cash_app.command("in")
def cash_in(
    amount: str = typer.Argument(..., help="e.g. 50.00"),
    reason: str = typer.Option(..., "--reason", help="Why, e.g. 'change from the safe'."),
    as_json: bool = JsonOption,
) -> None:
    """Put cash into the drawer of the open shift (it opens the drawer and prints a slip)."""
    _cash("cash_in", amount, reason, as_json)


@cash_app.command("out")
def cash_out(
    amount: str = typer.Argument(..., help="e.g. 200.00"),
    reason: str = typer.Option(..., "--reason", help="Why, e.g. 'to the safe'."),
    as_json: bool = JsonOption,
) -> None:
    """Take cash out of the drawer of the open shift (admins, or cashiers with [terminal] cash_out_by_cashier)."""
    _cash("cash_out", amount, reason, as_json)
