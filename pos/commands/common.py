"""Shared pieces of the CLI: the sub-command groups, the runtime from global options, output helpers."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
import json
import sys
from typing import Any, NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # Typer's own copy of click
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from pos.commands.failures import one_line, report_failure


class PosGroup(TyperGroup):
    """Turns expected failures into one sentence on stderr and a non-zero exit, never a traceback."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        if parent is None:
            _refuse_undecodable(args)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except UsageError as exc:
            usage_error(exc)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            usage_error(exc)
        except (Exit, Abort, TyperException, SystemExit):
            raise
        except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - a sentence, the details in a file
            raise typer.Exit(report_failure(exc)) from None


def _refuse_undecodable(args: list[str]) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates; no database or terminal can take them."""
    for number, arg in enumerate(args, 1):
        if not arg.isascii():
            try:
                arg.encode("utf-8")
            except UnicodeEncodeError:
                typer.echo(f"Error: argument {number} is not valid UTF-8 text.", err=True)
                raise typer.Exit(2) from None


def usage_error(exc: UsageError) -> NoReturn:
    """A wrong option or argument: one line on stderr (Typer would draw a box of several), exit code 2.

    A group called without a command still shows its help, on stdout.
    """
    if isinstance(exc, NoArgsIsHelpError) and exc.ctx is not None:
        typer.echo(exc.ctx.get_help())
        typer.echo(f"Error: name a command of `{exc.ctx.command_path}` (see above).", err=True)
        raise typer.Exit(2)
    message = " ".join(exc.format_message().split()).rstrip(".")
    where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
    typer.echo(f"Error: {message}{where}.", err=True)
    raise typer.Exit(2)


def new_app(help_text: str) -> typer.Typer:
    return typer.Typer(
        cls=PosGroup,
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )


app = typer.Typer(
    cls=PosGroup,
    help="pos: a terminal box office. Without a command it starts the cashier app.",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = new_app("Create or migrate the database schema.")
article_app = new_app("Articles: add, list, change availability.")
order_app = new_app("Orders: cancel, reprint, resend.")
promo_app = new_app("Promo codes: add, generate a batch, list.")
ticket_app = new_app("Tickets: show, correct the repeat protocol, change repeat options.")
export_app = new_app("Exports such as the attendance list.")
report_app = new_app("Reports: sales and door.")
operator_app = new_app("Operators (cashiers and admins) and their PINs.")
customer_app = new_app("Customer records.")
cart_link_app = new_app("Signed cart links for third-party systems.")

GROUPS: dict[str, typer.Typer] = {
    "db": db_app,
    "article": article_app,
    "order": order_app,
    "promo": promo_app,
    "ticket": ticket_app,
    "export": export_app,
    "report": report_app,
    "operator": operator_app,
    "customer": customer_app,
    "cart-link": cart_link_app,
}


class Options:
    """Global options as given on the command line (set by the root callback)."""

    config_path: str | None = None
    database_url: str | None = None


def load_runtime(operator: str = "") -> Any:
    from pos.config import load_config
    from pos.runtime import make_runtime

    config = load_config(Options.config_path)
    return make_runtime(config, Options.database_url, operator=operator)


JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"Error: {one_line(message)}", err=True)
    raise typer.Exit(code)


def id_or_fail(text: str, option: str) -> int:
    """An id or order number (`12` or `#12`, ASCII digits, 64-bit) from user text, or one sentence."""
    from pos.domain.values import parse_id

    number: int = parse_or_fail(lambda t: parse_id(t, option), text, option)
    return number


def parse_or_fail(parser: Any, text: str, option: str) -> Any:
    """Run a domain parser on user text; its ValueError becomes one sentence naming the option."""
    from pos.domain.values import BadValue

    try:
        return parser(text)
    except BadValue as exc:
        fail(f"{option}: {exc.problem}.")
    except ValueError as exc:
        fail(f"{option}: {exc}.")
