"""Files from outside and files for people: bounded reads of regular files, private writes.

A path someone types may name `/dev/zero`, a FIFO or a directory; reading it whole would never end or fail
with a traceback, so a read takes regular files only, up to a size, and says so in one sentence otherwise.
Every file the product writes that holds codes or personal data (promo codes, exports, printer output, the
crash log, the config with its secrets) is created readable by its owner only (mode 600).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pos.errors import NotFound, Refused

PRIVATE_FILE = 0o600
PRIVATE_DIRECTORY = 0o700


class FileRefused(Refused):
    """A file that cannot be read or written as asked, in one sentence naming it."""


class FileMissing(NotFound):
    """A file named to be read does not exist."""


def read_regular_file(path: str | os.PathLike[str], max_bytes: int, what: str = "File") -> bytes:
    """The bytes of a regular file of at most `max_bytes`; anything else (missing, a device, a FIFO, a
    directory, too large, unreadable) is one FileRefused sentence, and nothing is read beyond the limit."""
    file = Path(path)
    try:
        descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileMissing("{what} {path} does not exist.", what=what, path=str(file)) from None
    except OSError as exc:
        raise FileRefused(
            "{what} {path} cannot be read: {reason}.", what=what, path=str(file), reason=_reason(exc)
        ) from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(
                "{what} {path} is not a regular file ({kind}).", what=what, path=str(file), kind=_kind(info)
            )
        if info.st_size > max_bytes:
            raise FileRefused(
                "{what} {path} is larger than {limit}.", what=what, path=str(file), limit=_size(max_bytes)
            )
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = os.read(descriptor, min(1 << 16, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:  # it grew while we read
            raise FileRefused(
                "{what} {path} is larger than {limit}.", what=what, path=str(file), limit=_size(max_bytes)
            )
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused(
            "{what} {path} cannot be read: {reason}.", what=what, path=str(file), reason=_reason(exc)
        ) from None
    finally:
        os.close(descriptor)


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _kind(info: os.stat_result) -> str:
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _size(limit: int) -> str:
    if limit % (1 << 20) == 0:
        return f"{limit >> 20} MiB"
    if limit % (1 << 10) == 0:
        return f"{limit >> 10} KiB"
    return f"{limit} bytes"


def private_directory(path: Path) -> Path:
    """Make `path` (and missing parents) and leave the directory itself readable by its owner only."""
    path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIRECTORY)
    return path


def create_private(path: str | os.PathLike[str], *, append: bool = False) -> int:
    """Open `path` for writing, created (or truncated, or appended to) with mode 600 from the first byte.

    A regular file that existed with a wider mode is narrowed too; a device (`/dev/usb/lp0`) is left alone.
    """
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | (os.O_APPEND if append else os.O_TRUNC)
    descriptor = os.open(path, flags, PRIVATE_FILE)
    try:
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.fchmod(descriptor, PRIVATE_FILE)
    except OSError:
        os.close(descriptor)
        raise
    return descriptor


@contextlib.contextmanager
def open_private(
    path: str | os.PathLike[str], mode: str = "w", *, append: bool = False, **options: Any
) -> Iterator[IO[Any]]:
    """`open()` for a new private file (mode 600): `with open_private(p, "w", newline="") as f: ...`."""
    descriptor = create_private(path, append=append)
    with os.fdopen(descriptor, mode, **options) as handle:
        yield handle


def ensure_private_file(path: str | os.PathLike[str]) -> None:
    """Before a library opens `path` itself (the ESC/POS file printer): a new file starts as mode 600, an
    existing regular file is narrowed to it; devices are left alone."""
    file = Path(path)
    with contextlib.suppress(OSError):
        if not file.exists():
            os.close(create_private(file, append=True))
        elif file.is_file() and stat.S_IMODE(file.stat().st_mode) & 0o077:
            os.chmod(file, PRIVATE_FILE)


def output_directory(path: Path) -> Path:
    """Check an output path before any work: its directory exists, and the path itself, if it exists, is a
    regular file (a device such as /dev/full, a FIFO or a directory is refused, never replaced)."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileRefused("Directory {path} does not exist.", path=str(directory))
    refuse_special_file(path)
    return directory


def refuse_special_file(path: Path) -> None:
    """An output path that exists must be a regular file: a device, FIFO or directory is never replaced."""
    if (path.exists() or path.is_symlink()) and not path.is_file():
        raise FileRefused("{path} is not a regular file; name a new or existing file.", path=str(path))


@contextlib.contextmanager
def private_output(path: Path, **options: Any) -> Iterator[IO[str]]:
    """Write `path` completely or not at all, mode 600: a temporary file beside it, renamed at the end.

    The temporary file exists before the caller's work starts, so an unwritable place is refused first.
    """
    import tempfile

    directory = output_directory(path)
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise FileRefused(
            "Cannot write to {path}: {reason}.", path=str(directory), reason=_reason(exc)
        ) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", **options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
