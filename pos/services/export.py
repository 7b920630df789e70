"""Exports and reports for the admin: the attendance list (stream or file), the door and sales reports."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from pos.db import export as attendance
from pos.db import reports
from pos.domain.clock import period_bounds
from pos.domain.roles import Role
from pos.errors import Refused
from pos.runtime import Runtime
from pos.services.base import Actor, require

FORMATS = attendance.FORMATS
PRECISIONS = attendance.PRECISIONS
Progress = attendance.Progress


@dataclass(frozen=True)
class AttendanceOptions:
    fmt: str = "csv"
    precision: str = "exact"
    count: bool = False
    exclude_no_shows: bool = False
    articles: Sequence[str | int] = ()
    date_from: date | datetime | None = None  # a date: that whole business day
    date_to: date | datetime | None = None
    excel: bool = False


def export_attendance(
    rt: Runtime, actor: Actor, out: TextIO, options: AttendanceOptions, *, progress: Progress | None = None
) -> int:
    """Stream the attendance list to `out`; returns the number of participants written."""
    require(actor, Role.ADMIN, "export attendance lists")
    return attendance.export_attendance(rt, out, progress=progress, **options.__dict__)


class ExportExists(Refused):
    """The file to export to exists and the caller asked not to overwrite it (the screen asks first)."""


def export_attendance_file(
    rt: Runtime,
    actor: Actor,
    path: str | Path,
    options: AttendanceOptions,
    *,
    progress: Progress | None = None,
    overwrite: bool = True,
    make_directory: bool = False,
) -> int:
    """The list written complete or not at all (temporary file, fsync, rename), mode 600: names and e-mails.

    `overwrite=False` refuses (ExportExists) when the file exists, also when it appears while the list is
    written; `make_directory` creates a missing directory (mode 700), e.g. the data directory.
    """
    require(actor, Role.ADMIN, "export attendance lists")
    from pos.files import output_directory

    target = Path(path).expanduser()
    directory = target.parent if str(target.parent) else Path(".")
    if make_directory and not directory.exists():
        try:
            directory.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise Refused(
                "Cannot write to {path}: {error}.", path=str(directory), error=exc.strerror
            ) from None
    directory = output_directory(target)  # a device, FIFO or directory there is refused, never replaced
    if not overwrite and target.exists():
        raise ExportExists("{path} exists already.", path=str(target))
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise Refused("Cannot write to {path}: {error}.", path=str(directory), error=exc.strerror) from None
    try:
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            written = attendance.export_attendance(rt, handle, progress=progress, **options.__dict__)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:
            try:
                os.link(temporary, target)  # fails if the file appeared meanwhile: never overwritten
            except FileExistsError:
                raise ExportExists("{path} exists already.", path=str(target)) from None
            except OSError:  # no hard links here (a FAT stick): check, then rename
                if target.exists():
                    raise ExportExists("{path} exists already.", path=str(target)) from None
                os.replace(temporary, target)
            else:
                Path(temporary).unlink()
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written


def door_report(
    rt: Runtime,
    actor: Actor,
    *,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
) -> dict[str, Any]:
    """Entries per hour and per gate, rejections per reason, over a period."""
    require(actor, Role.ADMIN, "read the door report")
    return attendance.door_report(rt, date_from=date_from, date_to=date_to)


def sales_report(
    rt: Runtime,
    actor: Actor,
    *,
    date_from: date | datetime | None = None,
    date_to: date | datetime | None = None,
) -> dict[str, Any]:
    """Revenue and counts by article group and by payment method over a period (cancelled orders excluded)."""
    require(actor, Role.ADMIN, "read the sales report")
    venue = rt.config.venue
    start, end = period_bounds(date_from, date_to, venue.zone, venue.day_start_minutes)
    return reports.sales_report(rt, start=start, end=end)
