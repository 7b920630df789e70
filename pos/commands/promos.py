"""`pos promo add|generate|list`."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from pos.commands.common import JsonOption, fail, load_runtime, parse_or_fail, print_json, promo_app

AmountOption = typer.Option(None, "--amount", help="Fixed reduction per ticket, e.g. 5.00.")
PercentOption = typer.Option(None, "--percent", help="Reduction per ticket in percent, e.g. 10.")
UnlockOption = typer.Option([], "--unlock", help="Hidden article the code unlocks (name or #ID); repeatable.")
AppliesToOption = typer.Option(
    [], "--applies-to", help="Ticket article the reduction is limited to (name or #ID); repeatable."
)
UsesOption = typer.Option("1", "--uses", help="How many tickets the code can reduce or unlock.")
ValidFromOption = typer.Option(None, "--valid-from", help="Start of validity (ISO 8601; venue time).")
ValidUntilOption = typer.Option(None, "--valid-until", help="End of validity (ISO 8601; venue time).")


def _definition(
    rt: Any,
    amount: str | None,
    percent: str | None,
    unlock: list[str],
    applies_to: list[str],
    uses: str,
    valid_from: str | None,
    valid_until: str | None,
) -> Any:
    """Parse the options shared by add and generate into the service's PromoDefinition."""
    from pos.domain.clock import parse_time
    from pos.domain.money import parse_amount, parse_rate
    from pos.domain.values import parse_count
    from pos.services.promos import PromoDefinition

    if amount is not None and percent is not None:
        fail("A code reduces by a fixed amount or by a percentage, not both (--amount or --percent).")
    zone = rt.config.venue.zone

    def when(text: str | None, option: str) -> datetime | None:
        return parse_or_fail(lambda t: parse_time(t, zone), text, option) if text else None

    return PromoDefinition(
        amount_cents=parse_or_fail(parse_amount, amount, "--amount") if amount is not None else None,
        percent_bp=parse_or_fail(parse_rate, percent, "--percent") if percent is not None else None,
        unlocks=unlock,
        applies_to=applies_to,
        uses=parse_or_fail(lambda t: parse_count(t, "--uses", minimum=1), uses, "--uses"),
        valid_from=when(valid_from, "--valid-from"),
        valid_until=when(valid_until, "--valid-until"),
    )


def _describe(rt: Any, promo: dict[str, Any]) -> str:
    """What the code does and to which tickets, the words the cashier app uses (in English)."""
    from pos.i18n import venue_language
    from pos.wording import promo_words

    return promo_words(venue_language(rt.config.venue, "en"), promo)


@promo_app.command("add")
def add(
    code: str = typer.Argument(..., help="The code customers enter (stored in upper case)."),
    amount: str | None = AmountOption,
    percent: str | None = PercentOption,
    unlock: list[str] = UnlockOption,
    applies_to: list[str] = AppliesToOption,
    uses: str = UsesOption,
    valid_from: str | None = ValidFromOption,
    valid_until: str | None = ValidUntilOption,
    as_json: bool = JsonOption,
) -> None:
    """Add a promo code: unlock hidden articles, reduce ticket prices, or both."""
    from pos.services.operators import cli_actor
    from pos.services.promos import add_promo

    rt = load_runtime()
    spec = _definition(rt, amount, percent, unlock, applies_to, uses, valid_from, valid_until)
    promo = add_promo(rt, cli_actor(rt), code, spec)
    if as_json:
        print_json(promo)
    else:
        typer.echo(f"Added promo code {promo['code']} ({_describe(rt, promo)}, {promo['uses']} use(s)).")


@promo_app.command("generate")
def generate(
    count: str = typer.Option(..., "--count", help="How many codes (1 to 100000)."),
    prefix: str = typer.Option("", "--prefix", help="Start of every code, e.g. SPONSOR."),
    amount: str | None = AmountOption,
    percent: str | None = PercentOption,
    unlock: list[str] = UnlockOption,
    applies_to: list[str] = AppliesToOption,
    uses: str = UsesOption,
    valid_from: str | None = ValidFromOption,
    valid_until: str | None = ValidUntilOption,
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Write the codes to this CSV file (mode 600)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Generate a batch of unguessable single codes (PREFIX-XXXX-XXXX), e.g. for a sponsor."""
    from pos.domain.values import parse_count
    from pos.services.operators import cli_actor
    from pos.services.promos import generate_promos

    how_many = parse_or_fail(
        lambda t: parse_count(t, "--count", minimum=1, maximum=100_000), count, "--count"
    )
    rt = load_runtime()
    spec = _definition(rt, amount, percent, unlock, applies_to, uses, valid_from, valid_until)
    if output is None:
        batch = generate_promos(rt, cli_actor(rt), how_many, spec, prefix=prefix)
    else:
        from pos.files import private_output

        # The file (mode 600: unused codes are as good as money) is opened before the codes are made, so a
        # path that cannot be written is refused with nothing stored.
        batch = []
        try:
            with private_output(output, newline="") as handle:
                batch = generate_promos(rt, cli_actor(rt), how_many, spec, prefix=prefix)
                _write_csv(handle, batch)
        except OSError as exc:
            stored = " (the codes are stored; see pos promo list)" if batch else ""
            fail(f"Cannot write {output}: {(exc.strerror or type(exc).__name__).lower()}{stored}.")
    if as_json:
        print_json(batch)
    elif output is not None:
        typer.echo(f"Wrote {len(batch)} promo codes to {output}.")
    else:
        typer.echo("\n".join(p["code"] for p in batch))


def _write_csv(handle: Any, batch: list[dict[str, Any]]) -> None:
    import csv

    columns = [
        "code",
        "amount_cents",
        "percent",
        "unlocks",
        "applies_to",
        "uses",
        "valid_from",
        "valid_until",
    ]
    writer = csv.writer(handle)
    writer.writerow(columns)
    for promo in batch:
        row = {
            **promo,
            "unlocks": "|".join(promo["unlocks"]),
            "applies_to": "|".join(promo["applies_to"]),
        }
        writer.writerow(["" if row[c] is None else row[c] for c in columns])


@promo_app.command("list")
def list_(as_json: bool = JsonOption) -> None:
    """List promo codes with their uses, used and left."""
    from pos.services.operators import cli_actor
    from pos.services.promos import list_promos

    rt = load_runtime()
    rows = list_promos(rt, cli_actor(rt))
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("Code", "Does", "Uses", "Used", "Left", "Valid from", "Valid until")
    for row in rows:
        table.add_row(
            row["code"],
            _describe(rt, row),
            str(row["uses"]),
            str(row["used"]),
            str(row["left"]),
            row["valid_from"] or "",
            row["valid_until"] or "",
        )
    Console().print(table)
