"""Starter config and file permissions: the secrets live in the config, the data in the database file."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from pos.db.engine import normalise_url


def starter_config(*, database_url: str = "", printer_file: str = "") -> str:
    brand_secret = secrets.token_urlsafe(32)
    link_secret = secrets.token_urlsafe(32)
    database = (
        f'url = "{database_url}"\n'
        if database_url
        else '# url = "sqlite:///..."  (default: the user data dir)\n'
    )
    printer = f'kind = "file"\npath = "{printer_file}"\n' if printer_file else 'kind = "dummy"\n'
    return f"""# pos config, written by `pos init`. Keep it private: it holds the MAC key of your tickets.
# Every key is explained in config.example.toml.

[venue]
name = "pos box office"
timezone = "Europe/Berlin"
day_starts_at = "00:00"
currency = "EUR"
language = "de"

[brand]
id = "1000"
secret = "{brand_secret}"

[database]
{database}
[printer]
{printer}paper_mm = 80

[cart_links]
secret = "{link_secret}"

[terminal]
name = "terminal-1"
gate = "main"
"""


def secure_sqlite_file(url: str) -> None:
    """The database holds customer data: readable by its owner only."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database).expanduser()
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists():
            with contextlib.suppress(OSError):
                os.chmod(candidate, 0o600)
