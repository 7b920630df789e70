"""`pos`, `pos run` and `pos run --training` start the cashier app without Typer (pos/__main__.py); every other
command line, `pos run --help` included, is Typer's."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
import pos.__main__ as entry
sys.argv = ["pos", *sys.argv[1:]]
try:
    entry.main()
except SystemExit as end:
    print(end.code, "typer" in sys.modules)
"""


def pos_probe(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("POS_CONFIG", "POS_DB")} | env
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=environment, timeout=60
    )


@pytest.mark.parametrize("args", [(), ("run",), ("run", "--training")])
def test_the_cashier_app_starts_without_loading_the_command_line(args: tuple[str, ...], tmp_path) -> None:
    done = pos_probe(*args, POS_CONFIG=str(tmp_path / "missing.toml"))
    assert done.stdout.split() == ["2", "False"]  # refused in one sentence, and Typer never loaded
    assert done.stderr == f"Error: Config file {tmp_path / 'missing.toml'} does not exist.\n"


def test_a_database_given_in_pos_db_wins_on_the_fast_path_too(tmp_path) -> None:
    config = tmp_path / "pos.toml"
    config.write_text('[database]\nurl = "sqlite:///elsewhere.db"\n', encoding="utf-8")
    done = pos_probe(
        "run", POS_CONFIG=str(config), POS_DB="postgresql://pos@127.0.0.1:1/none?connect_timeout=1"
    )
    code, typer_loaded = done.stdout.split()
    assert (code, typer_loaded) == ("2", "False")
    # The app comes up and then says it cannot reach that database (not the config file's SQLite one).
    assert 'server at "127.0.0.1", port 1 failed' in done.stderr and "elsewhere.db" not in done.stderr


@pytest.mark.parametrize("args", [("run", "--help"), ("--config", "x.toml", "run"), ("run", "--nonsense")])
def test_other_command_lines_go_through_typer(args: tuple[str, ...], tmp_path) -> None:
    done = pos_probe(*args, POS_CONFIG=str(tmp_path / "missing.toml"))
    assert done.stdout.split()[-1] == "True"
