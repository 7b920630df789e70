"""Shared pieces of the CLI: the sub-command groups, the runtime from global options, output helpers."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
import json
import os
import sys
import traceback
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from pos.errors import PosError


class PosGroup(TyperGroup):
    """Turns expected failures into one sentence on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PosError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(2) from None
        except BrokenPipeError:
            # `pos ... | head` closed the pipe: stop quietly, and keep Python from complaining at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted.", err=True)
            raise typer.Exit(130) from None
        except (Exit, Abort, TyperException, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - last line of defence: a sentence, the details in a file
            log = _write_crash_log()
            typer.echo(f"Error: unexpected {type(exc).__name__}: {exc} (details in {log}).", err=True)
            raise typer.Exit(3) from None


def _write_crash_log() -> str:
    from pos.config import default_data_dir

    path = default_data_dir() / "crash.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            traceback.print_exc(file=handle)
    except OSError:
        return "stderr"
    return str(path)


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
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def parse_or_fail(parser: Any, text: str, option: str) -> Any:
    """Run a domain parser on user text; its ValueError becomes one sentence naming the option."""
    try:
        return parser(text)
    except ValueError as exc:
        fail(f"{option}: {exc}.")
