"""`pos run` forks a child that loads the database side while the app loads Textual (pos/screens/login_helper.py).

Each test starts the app as `pos run` does, in a process of its own (the fork happens there, not in the test
runner), headless, and types at once what a cashier would type; the process reports what it saw as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pos.runtime import Runtime
from pos.services.articles import list_articles
from pos.services.base import system_actor
from pos.services.demo import load_demo
from pos.services.till import claim_terminal, open_shift
from tests.conftest import CONFIG_TOML
from tests.conftest import test_config as make_config
from tests.factories import ADMIN

APP = r"""
import asyncio, json, os, signal, sys, time

from pos.commands.launch import cashier_app

config_file, mode, *typed = sys.argv[1:]
app = cashier_app(config_path=config_file, login_helper=True)
from textual import events

helper = app.login_helper
seen = {"helper": helper is not None}
display = app._display


def first_sale_frame(screen, update):
    display(screen, update)
    if update is not None and type(screen).__name__ == "SaleScreen" and "sqlalchemy_at_sale" not in seen:
        seen["sqlalchemy_at_sale"] = "sqlalchemy" in sys.modules


app._display = first_sale_frame
if mode == "kill-child":
    os.kill(helper.pid, signal.SIGKILL)


async def until(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        if mode == "busy":
            await until(lambda: not app.is_running or app.return_code is not None)
            return
        await until(lambda: type(app.screen).__name__ == "LoginScreen")
        if mode == "quit":
            await pilot.press("ctrl+q")
            return
        for attempt in typed:
            name, pin = attempt.split(":")  # no name: the PIN again, where a refusal left the focus
            field = "name" if name else "pin"
            await until(lambda: getattr(app.focused, "id", None) == field and not app.screen.busy)
            for key in [*([*name, "enter"] if name else []), *pin, "enter"]:  # at once, faster than anyone types
                app.post_message(events.Key(key, "\r" if key == "enter" else key))
            await until(lambda: app.screen.busy or type(app.screen).__name__ != "LoginScreen")
            await until(lambda: not getattr(app.screen, "busy", False))
            if type(app.screen).__name__ == "LoginScreen":  # refused
                seen.setdefault("messages", []).append(str(app.screen.query_one("#message").render()))
        await until(lambda: type(app.screen).__name__ == "SaleScreen" and app.screen.loaded)
        seen["tiles"] = [tile.name for tile in app.screen.query_one("#grid").tiles]
        seen["operator"] = app.operator.name
        await until(lambda: not app._preloading.is_alive())
        seen["terminal_held"] = app.terminal_lock is not None
        seen["child_logged_in"] = helper.logged_in
        await pilot.pause(0.3)  # the screen's widgets have mounted (Textual trips over a Header still mounting)
        await pilot.press("ctrl+q")  # an empty cart: quits at once


asyncio.run(main())
seen["return_code"] = app.return_code
try:
    seen["child_left"] = os.waitpid(helper.pid, os.WNOHANG) != (0, 0)
except ChildProcessError:
    seen["child_left"] = True  # collected already: it is gone
print(json.dumps(seen))
"""


def start_app(rt: Runtime, tmp_path: Path, mode: str, *typed: str) -> dict[str, Any]:
    config = tmp_path / "till.toml"
    config.write_text(CONFIG_TOML + f'\n[database]\nurl = "{rt.database_url}"\n', encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k not in ("POS_CONFIG", "POS_DB")}
    done = subprocess.run(
        [sys.executable, "-c", APP, str(config), mode, *typed],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def with_open_shift(rt: Runtime) -> Runtime:
    from pos.services.operators import log_in

    assert rt.terminal == "test-terminal"  # the terminal of the app's config file (CONFIG_TOML)
    open_shift(rt, log_in(rt, "kasse", "0000"), 10000)
    return rt


def test_a_login_typed_ahead_is_checked_by_the_child_and_the_sale_screen_comes_first(shop, tmp_path) -> None:
    rt = with_open_shift(shop)
    seen = start_app(rt, tmp_path, "typed", "kasse:0000")
    assert seen["helper"] and seen["child_logged_in"]
    # The first sale screen was painted from what the child sent, before this process loaded SQLAlchemy.
    assert seen["sqlalchemy_at_sale"] is False
    expected = [a.name for a in list_articles(rt, system_actor(rt), this_terminal=True)]
    assert seen["tiles"] == [name for name in expected if name in seen["tiles"]] and seen["tiles"]
    assert seen["operator"] == "kasse"
    assert seen[
        "terminal_held"
    ]  # claimed by the app for as long as it runs, once it loaded the database side
    assert seen["return_code"] == 0 and seen["child_left"]


def test_a_wrong_pin_is_refused_by_the_child_and_the_next_login_works(shop, tmp_path) -> None:
    seen = start_app(with_open_shift(shop), tmp_path, "typed", "kasse:9999", ":0000")
    assert seen["messages"][0] == "Wrong name or PIN."
    assert seen["child_logged_in"] and seen["operator"] == "kasse"


def test_without_the_child_the_app_checks_the_login_itself(shop, tmp_path) -> None:
    seen = start_app(with_open_shift(shop), tmp_path, "kill-child", "kasse:0000")
    assert not seen["child_logged_in"]
    assert seen["operator"] == "kasse" and seen["tiles"] and seen["terminal_held"]
    assert seen["return_code"] == 0


def test_the_child_says_when_the_terminal_runs_already(shop, tmp_path) -> None:
    held = claim_terminal(shop)  # another app with this terminal name
    try:
        seen = start_app(shop, tmp_path, "busy")
    finally:
        held.release()
    assert seen["return_code"] == 2 and seen["child_left"]


def test_quitting_on_the_login_screen_ends_the_child(shop, tmp_path) -> None:
    seen = start_app(shop, tmp_path, "quit")
    assert seen["return_code"] == 0 and seen["child_left"]


@pytest.mark.postgres
def test_on_postgresql_the_child_logs_in_and_hands_the_terminal_over(pg_url: str, tmp_path) -> None:
    """On PostgreSQL the terminal's name is a session advisory lock: the child must give it back at once, or
    the app could not take it (a lock held by a closed connection lingers until the server ends the session)."""
    rt = Runtime(config=make_config(), database_url=pg_url)
    try:
        load_demo(rt, ADMIN)
        seen = start_app(with_open_shift(rt), tmp_path, "typed", "kasse:0000")
        assert seen["child_logged_in"] and seen["operator"] == "kasse" and seen["tiles"]
        assert seen["terminal_held"] and seen["return_code"] == 0
        held = claim_terminal(rt)  # another app would hold it: the helper says so and the app ends
        try:
            assert start_app(rt, tmp_path, "busy")["return_code"] == 2
        finally:
            held.release()
    finally:
        rt.engine.dispose()
