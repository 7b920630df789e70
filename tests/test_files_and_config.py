"""Files: configs that are not small regular files are refused unread, `pos init` writes TOML with a TOML library,
and every file the product writes with codes or personal data is mode 600 (the crash log in a 700 directory)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pos.config import ConfigError, load_config
from tests.conftest import CONFIG_TOML, PosCommand


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_pos(
    *args: str, env: dict[str, str] | None = None, timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).with_name("pos"))
    return subprocess.run(
        [exe, *args],
        env={**os.environ, "PYTHONUTF8": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory", "too-large", "missing"])
def test_a_config_that_is_not_a_small_regular_file_is_one_sentence(tmp_path: Path, kind: str) -> None:
    path = {
        "dev-zero": Path("/dev/zero"),
        "fifo": tmp_path / "fifo.toml",
        "directory": tmp_path,
        "too-large": tmp_path / "big.toml",
        "missing": tmp_path / "nope.toml",
    }[kind]
    if kind == "fifo":
        os.mkfifo(path)
    if kind == "too-large":
        path.write_text("# padding\n" * 110_000, encoding="utf-8")
    expected = {
        "dev-zero": f"Config file {path} is not a regular file (a device).",
        "fifo": f"Config file {path} is not a regular file (a FIFO).",
        "directory": f"Config file {path} is not a regular file (a directory).",
        "too-large": f"Config file {path} is larger than 1 MiB.",
        "missing": f"Config file {path} does not exist.",
    }[kind]
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == expected
    result = run_pos("--config", str(path), "article", "list", timeout=10)  # returns at once, never grows
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"Error: {expected}"]


def test_a_nul_in_the_config_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "pos.toml"
    path.write_text('[terminal]\nname = "till\\u0000one"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^Config key \[terminal\] name is wrong: must not contain a NUL"):
        load_config(path)


@pytest.mark.parametrize(
    "database",
    [
        'sqlite:////tmp/a"b.db',
        'sqlite:////tmp/x.db"\n[venue]\nname = "injected',
        "sqlite:////tmp/back\\slash'quote.db",
    ],
)
def test_pos_init_round_trips_any_value_exactly(tmp_path: Path, database: str) -> None:
    target = tmp_path / "pos.toml"
    printer = str(tmp_path / 'print"er\n[brand]\nid = "9999')
    result = run_pos("init", str(target), "--database", database, "--printer-file", printer, "--kiosk")
    assert result.returncode == 0, result.stderr
    assert mode(target) == 0o600
    config = load_config(target)
    assert config.database.url == database
    assert config.printer.kind == "file" and config.printer.path == printer
    assert config.venue.name == "pos box office" and config.brand.id == "1000"
    assert config.terminal.kiosk is True
    data = tomllib.loads(target.read_text(encoding="utf-8"))
    assert set(data) == {"venue", "brand", "database", "printer", "cart_links", "terminal"}


def test_pos_init_without_kiosk_and_database(tmp_path: Path) -> None:
    target = tmp_path / "pos.toml"
    assert run_pos("init", str(target)).returncode == 0
    config = load_config(target)
    assert config.terminal.kiosk is False and config.printer.kind == "dummy"
    # Each machine's till is its own: the host name, not a shared default, names the journal it writes.
    assert config.terminal.name == socket.gethostname().split(".")[0][:40]
    assert len(config.brand.secret or "") >= 32 and len(config.cart_links.secret or "") >= 32
    again = run_pos("init", str(target))
    assert again.returncode == 2 and again.stderr.splitlines() == [
        f"Error: {target} already exists; use --force to overwrite it."
    ]


@pytest.fixture
def private_pos(tmp_path: Path, sqlite_url: str) -> PosCommand:
    config = tmp_path / "pos.toml"
    printer = tmp_path / "printer.bin"
    config.write_text(
        CONFIG_TOML.replace('kind = "dummy"', f'kind = "file"\npath = "{printer}"'), encoding="utf-8"
    )
    pos = PosCommand(sqlite_url, config)
    pos.env["XDG_DATA_HOME"] = str(tmp_path / "data")
    pos("article", "add", "Gig", "--price", "20", "--ticket", check=True)
    return pos


def test_files_with_codes_or_personal_data_are_private(private_pos: PosCommand, tmp_path: Path) -> None:
    os.umask(0o022)  # what a login shell gives: files would be world-readable without care
    codes = tmp_path / "codes.csv"
    result = private_pos("promo", "generate", "--count", "3", "--amount", "5", "-o", str(codes))
    assert result.returncode == 0, result.stderr
    assert mode(codes) == 0o600 and len(codes.read_text().splitlines()) == 4
    private_pos("sell", "Gig", "--customer-name", "Anna", "--customer-email", "anna@example.org", check=True)
    assert mode(tmp_path / "printer.bin") == 0o600
    listing = tmp_path / "attendance.csv"
    private_pos("export", "attendance", "--format", "csv", "-o", str(listing), check=True)
    assert mode(listing) == 0o600


def test_an_output_path_that_is_a_device_or_missing_directory_is_refused_first(
    private_pos, sqlite_url
) -> None:
    from tests.hostile import database_state

    before = database_state(sqlite_url)
    for target, message in (
        ("/dev/full", "Error: /dev/full is not a regular file; name a new or existing file."),
        ("/nonexistent-dir/codes.csv", "Error: Directory /nonexistent-dir does not exist."),
    ):
        result = private_pos("promo", "generate", "--count", "3", "--amount", "5", "-o", target)
        assert result.returncode == 2 and result.stderr.splitlines() == [message]
        result = private_pos("export", "attendance", "--format", "csv", "-o", target)
        assert result.returncode == 2 and result.stderr.splitlines() == [message]
    assert database_state(sqlite_url) == before
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_the_crash_log_is_private_and_holds_no_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last line of defence, driven through the real PosGroup with a command that fails unexpectedly."""
    import typer
    from typer.testing import CliRunner

    from pos.commands.common import PosGroup

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    os.umask(0o022)
    broken = typer.Typer(cls=PosGroup)

    @broken.command("explode")
    def explode(email: str) -> None:
        statement = "INSERT INTO customer VALUES ('" + email + "', '" + "test-secret-" + "0123456789abcdef')"
        pin = "98" + "7654"  # noqa: F841 - a local that a traceback with locals would show
        raise RuntimeError(statement)

    @broken.command("other")
    def other() -> None:
        pass

    result = CliRunner().invoke(broken, ["explode", "anna@example.org"])
    assert result.exit_code == 3
    log = tmp_path / "data" / "pos" / "crash.log"
    assert result.stderr.splitlines() == [f"Error: unexpected RuntimeError; the details are in {log}."]
    assert mode(log) == 0o600 and mode(log.parent) == 0o700
    text = log.read_text(encoding="utf-8")
    assert "RuntimeError" in text and "explode" in text and "raise RuntimeError" in text
    for secret in ("anna@example.org", "test-secret", "987654", "INSERT INTO"):
        assert secret not in text and secret not in result.output


def test_read_regular_file_never_reads_past_its_limit(tmp_path: Path) -> None:
    from pos.files import FileRefused, read_regular_file

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FileRefused, match="a FIFO"):  # refused at once, without a writer
        read_regular_file(fifo, 100)
    small = tmp_path / "small"
    small.write_bytes(b"x" * 100)
    assert read_regular_file(small, 100) == b"x" * 100
    with pytest.raises(FileRefused, match="larger than 99 bytes"):
        read_regular_file(small, 99)
