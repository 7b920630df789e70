"""`pos operator add|list|set-pin`: who may log in to the cashier app, and with which role."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
import typer

from pos.commands.common import JsonOption, load_runtime, operator_app, print_json

PinOption = typer.Option(
    None, "--pin", help="The PIN (4 to 12 digits). Without it you are asked twice, with hidden input."
)


def _ask_pin(pin: str | None) -> str:
    if pin is not None:
        return pin
    return str(typer.prompt("PIN", hide_input=True, confirmation_prompt=True))


@operator_app.command("add")
def add(
    name: str = typer.Argument(..., help="Login name, unique."),
    role: str = typer.Option("cashier", "--role", help="cashier | admin."),
    pin: str | None = PinOption,
    as_json: bool = JsonOption,
) -> None:
    """Add an operator. The PIN is stored only as a salted scrypt hash."""
    from pos.services.operators import add_operator, cli_actor

    rt = load_runtime()
    operator = add_operator(rt, cli_actor(rt), name, role, _ask_pin(pin))
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
    pin: str | None = PinOption,
    as_json: bool = JsonOption,
) -> None:
    """Give an operator a new PIN."""
    from pos.services.operators import change_pin, cli_actor

    rt = load_runtime()
    operator = change_pin(rt, cli_actor(rt), name, _ask_pin(pin))
    if as_json:
        print_json(operator.json(rt.config.venue.zone))
    else:
        typer.echo(f"Changed the PIN of {operator.name}.")
