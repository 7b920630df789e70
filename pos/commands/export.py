"""`pos export attendance` and `pos report door`."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

import typer

from pos.commands.common import JsonOption, export_app, fail, parse_or_fail, print_json, report_app

FromOption = typer.Option(
    None, "--from", help="First business day, venue local (e.g. 2026-12-31), or an ISO 8601 time."
)
ToOption = typer.Option(None, "--to", help="Last business day, included, or an ISO 8601 time (excluded).")


@export_app.command("attendance")
def attendance(
    fmt: str = typer.Option(..., "--format", help="csv | xml | json."),
    article: list[str] = typer.Option(
        [], "--article", help="Only tickets of this article (exact name or #ID); repeatable."
    ),
    date_from: str | None = FromOption,
    date_to: str | None = ToOption,
    precision: str = typer.Option(
        "exact", "--precision", help="exact | day | hour: merge registrations of one business day or hour."
    ),
    count: bool = typer.Option(False, "--count", help="Add how many registrations each entry merges."),
    exclude_no_shows: bool = typer.Option(
        False, "--exclude-no-shows", help="Leave out tickets without a registration (in the period)."
    ),
    excel: bool = typer.Option(False, "--excel", help="CSV for Excel: byte order mark and semicolons."),
    output: Path | None = typer.Option(
        None,
        "-o",
        "--output",
        help="Write to FILE (complete or not at all, mode 600); default or '-': stdout.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """The attendance list: one participant (ticket) per row with all registrations. Voided tickets are left out.

    --from/--to select registrations by time; a ticket without one in the period counts as a no-show.
    """
    from pos.commands.common import load_runtime
    from pos.services.export import (
        FORMATS,
        PRECISIONS,
        AttendanceOptions,
        export_attendance,
        export_attendance_file,
    )
    from pos.services.operators import cli_actor

    if fmt not in FORMATS:
        fail(f"--format {fmt!r} is not known; use {', '.join(FORMATS)}.")
    if precision not in PRECISIONS:
        fail(f"--precision {precision!r} is not known; use {', '.join(PRECISIONS)}.")
    if excel and fmt != "csv":
        fail("--excel only applies to --format csv.")
    rt = load_runtime()
    actor = cli_actor(rt)
    zone = rt.config.venue.zone
    options = AttendanceOptions(
        fmt=fmt,
        precision=precision,
        count=count,
        exclude_no_shows=exclude_no_shows,
        articles=article,
        date_from=period_option(date_from, "--from", zone),
        date_to=period_option(date_to, "--to", zone),
        excel=excel,
    )

    def run(out: TextIO, progress: Callable[[int, int], None] | None) -> int:
        return export_attendance(rt, actor, out, options, progress=progress)

    with _progress_bar() as progress:
        if output is None or str(output) == "-":
            _to_stdout(run, progress)
            return
        written = export_attendance_file(rt, actor, output, options, progress=progress)
    if as_json:
        print_json({"path": str(output.resolve()), "format": fmt, "participants": written})
    else:
        typer.echo(f"Wrote {written} participant(s) to {output}.")


def period_option(text: str | None, option: str, zone: Any) -> date | datetime | None:
    """A date is a venue-local business day; anything else must be an ISO 8601 time."""
    from pos.domain.clock import parse_moment

    return parse_or_fail(lambda t: parse_moment(t, zone), text, option) if text is not None else None


def _to_stdout(run: Callable[..., int], progress: Any) -> None:
    """UTF-8 whatever the locale, CSV line ends untouched; a closed pipe (`| head`) ends quietly."""
    import io
    import os

    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
    try:
        run(out, progress)
        out.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    finally:
        out.detach()


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr when stderr is a terminal; nothing when it is piped or redirected."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("Exporting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("export", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@report_app.command("door")
def door(
    date_from: str | None = FromOption,
    date_to: str | None = ToOption,
    as_json: bool = JsonOption,
) -> None:
    """Door statistics: entries per hour and per gate, rejected scans by reason."""
    from pos.commands.common import load_runtime
    from pos.services.export import door_report
    from pos.services.operators import cli_actor

    rt = load_runtime()
    zone = rt.config.venue.zone
    report = door_report(
        rt,
        cli_actor(rt),
        date_from=period_option(date_from, "--from", zone),
        date_to=period_option(date_to, "--to", zone),
    )
    if as_json:
        print_json(report)
    else:
        echo_door_report(report)


def echo_door_report(report: dict[str, Any]) -> None:
    """The text form, also used as the door section of `pos report sales`."""
    typer.echo(
        f"{report['entries']} entr{'y' if report['entries'] == 1 else 'ies'} "
        f"({report['first_entries']} first, {report['re_entries']} re-entries), "
        f"{report['rejections']} rejected scan(s)."
    )
    for row in report["entries_by_gate"]:
        typer.echo(
            f"  gate {row['gate'] or '-'}: {row['entries']} ({row['first_entries']} first, {row['re_entries']} re)"
        )
    for row in report["entries_by_hour"]:
        typer.echo(f"  {row['hour'][:16].replace('T', ' ')}: {row['entries']}")
    for row in report["rejections_by_reason"]:
        typer.echo(f"  rejected {row['reason']}: {row['count']}")
