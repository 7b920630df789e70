"""`pos order reprint|print-pending|preview`: the print queue from the command line."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
from typing import Any

import typer

from pos.commands.common import JsonOption, fail, id_or_fail, load_runtime, order_app, print_json


def _report(outcome: Any, jobs: list[dict[str, Any]], as_json: bool, extra: dict[str, Any]) -> None:
    """JSON (or a line per job) on stdout; when a job failed, one sentence on stderr and exit code 1."""
    if as_json:
        print_json({**extra, **outcome.to_json(), "jobs": jobs})
    else:
        reasons = {problem.job_id: str(problem.reason) for problem in outcome.failed}
        for job in jobs:
            what = job["kind"] + (f" {job['ticket_code']}" if job["ticket_code"] else "")
            if job["id"] in outcome.printed:
                typer.echo(f"Printed job {job['id']} ({what}).")
            elif job["id"] in reasons:
                typer.echo(f"Job {job['id']} ({what}) failed: {reasons[job['id']]}")
            elif job["id"] in outcome.stuck:
                typer.echo(
                    f"Job {job['id']} ({what}) is stuck in printing (a process stopped while printing it)."
                )
        if not jobs:
            typer.echo("Nothing to print.")
    summary = _summary(outcome)
    if summary:
        typer.echo(f"Error: {summary}", err=True)
        raise typer.Exit(1)


def _summary(outcome: Any) -> str | None:
    """One sentence when something did not print, with the command that retries it."""
    if outcome.failed:
        count = len(outcome.failed)
        jobs = "1 print job" if count == 1 else f"{count} print jobs"
        reason = str(outcome.failed[0].reason).rstrip(".")
        return f"{jobs} failed ({reason}); retry with `pos order print-pending`."
    if outcome.stuck:
        ids = ", ".join(str(job) for job in outcome.stuck)
        return f"Print jobs {ids} were interrupted while printing; check the printer, then retry with --retry-stuck."
    return None


@order_app.command("reprint")
def reprint(
    order_text: str = typer.Argument(..., metavar="ORDER", help="Order number."),
    tickets: list[str] = typer.Option([], "--ticket", help="Reprint only this ticket (code); repeatable."),
    as_json: bool = JsonOption,
) -> None:
    """Reprint an order's tickets, order slip and receipt (marked REPRINT), or only the given tickets."""
    from pos.services.operators import cli_actor
    from pos.services.orders import reprint as reprint_order

    order = id_or_fail(order_text, "Order number")
    rt = load_runtime()
    done = reprint_order(rt, cli_actor(rt), order, tickets)
    _report(done.outcome, done.jobs, as_json, {"order_id": order})


@order_app.command("print-pending")
def print_pending(
    retry_stuck: bool = typer.Option(
        False,
        "--retry-stuck",
        help="Also retry jobs a stopped process left in 'printing' (they may have printed).",
    ),
    all_terminals: bool = typer.Option(False, "--all-terminals", help="Not only this terminal's orders."),
    as_json: bool = JsonOption,
) -> None:
    """Retry print jobs that failed or never ran (printer offline, paper out), each printed once."""
    from pos.services.delivery import print_pending as run_pending
    from pos.services.operators import cli_actor
    from pos.services.orders import print_jobs

    rt = load_runtime()
    actor = cli_actor(rt)
    outcome = run_pending(rt, actor, retry_stuck=retry_stuck, all_terminals=all_terminals)
    touched = outcome.printed + [p.job_id for p in outcome.failed] + outcome.stuck + outcome.cancelled
    _report(outcome, print_jobs(rt, actor, touched) if touched else [], as_json, {})


@order_app.command("preview")
def preview(
    order_text: str = typer.Argument(..., metavar="ORDER", help="Order number."),
    language: str | None = typer.Option(None, "--language", help="de or en (default: [venue] language)."),
    as_json: bool = JsonOption,
) -> None:
    """Show an order's tickets, slip and receipt as plain text, as they would print."""
    from pos.services.operators import cli_actor
    from pos.services.orders import preview_order

    if language not in (None, "de", "en"):
        fail(f"--language: {language!r} is not de or en.")
    order = id_or_fail(order_text, "Order number")
    rt = load_runtime()
    text = preview_order(rt, cli_actor(rt), order, language=language)
    if as_json:
        print_json({"order_id": order, "preview": text})
    else:
        typer.echo(text)
