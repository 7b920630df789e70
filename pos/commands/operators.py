"""`pos operator add|list|set-pin`: who may log in to the cashier app, and with which role."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
import typer

from pos.commands.common import JsonOption, fail, load_runtime, operator_app, print_json

PinStdinOption = typer.Option(
    False,
    "--pin-stdin",
    help="Read the PIN (4 to 12 digits) as one line from standard input. Without it you are asked twice, "
    "with hidden input. A PIN is never a command-line argument: those show in the process list.",
)
MAX_PIN_LINE = 64


def _ask_pin(from_stdin: bool) -> str:
    if from_stdin:
        import sys

        line = sys.stdin.readline(MAX_PIN_LINE + 1)
        if len(line) > MAX_PIN_LINE:
            fail("The PIN on standard input is too long (a PIN is 4 to 12 digits).")
        pin = line.rstrip("\r\n")
        if not pin:
            fail("No PIN on standard input (--pin-stdin reads one line).")
        return pin
    first = str(typer.prompt("PIN", hide_input=True))
    second = str(typer.prompt("PIN again", hide_input=True))
    if first != second:
        fail("The two PINs do not match; nothing was changed.")
    return first


@operator_app.command("add")
def add(
    name: str = typer.Argument(..., help="Login name, unique."),
    role: str = typer.Option("cashier", "--role", help="cashier | admin."),
    pin_stdin: bool = PinStdinOption,
    as_json: bool = JsonOption,
) -> None:
    """Add an operator. The PIN is stored only as a salted scrypt hash."""
    from pos.services.operators import add_operator, cli_actor

    rt = load_runtime()
    operator = add_operator(rt, cli_actor(rt), name, role, _ask_pin(pin_stdin))
    if as_json:
        print_json(operator.json(rt.config.venue.zone))
    else:
        typer.echo(f"Added {operator.role} {operator.name} (#{operator.id}).")


@operator_app.command("list")
def list_(as_json: bool = JsonOption) -> None:
    """List operators with their role (never their PIN)."""
    from pos.services.operators import cli_actor, list_operators

    rt = load_runtime()
    operators = list_operators(rt, cli_actor(rt))
    if as_json:
        print_json([operator.json(rt.config.venue.zone) for operator in operators])
        return
    for operator in operators:
        state = "" if operator.active else "  (inactive)"
        typer.echo(f"#{operator.id:<4} {operator.name:<20} {operator.role}{state}")


@operator_app.command("set-pin")
def set_pin(
    name: str = typer.Argument(..., help="Login name."),
    pin_stdin: bool = PinStdinOption,
    as_json: bool = JsonOption,
) -> None:
    """Give an operator a new PIN."""
    from pos.services.operators import change_pin, cli_actor

    rt = load_runtime()
    operator = change_pin(rt, cli_actor(rt), name, _ask_pin(pin_stdin))
    if as_json:
        print_json(operator.json(rt.config.venue.zone))
    else:
        typer.echo(f"Changed the PIN of {operator.name}.")
