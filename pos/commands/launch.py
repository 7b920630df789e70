"""Starting the cashier app: `pos`, `pos run` and `pos run --training`, the command a till runs every day.

Without Typer: pos/__main__.py sends exactly these command lines here, so the till does not load the whole
command line (120 ms of Typer and every command module) before its login screen.
"""

from __future__ import annotations

import os
import sys
from functools import partial
from typing import TYPE_CHECKING

from pos.commands.failures import report_failure

if TYPE_CHECKING:
    from pos.runtime import Runtime
    from pos.screens.app import PosApp

# The command lines that start the app and take nothing else; every other one goes through Typer.
FAST_COMMAND_LINES = ([], ["run"], ["run", "--training"])


def cashier_app(
    *,
    training: bool = False,
    config_path: str | None = None,
    database_url: str | None = None,
    login_helper: bool = False,
) -> PosApp:
    """The app for this terminal: the config from PATH, $POS_CONFIG or ./pos.toml; the URL wins over its own.

    `login_helper`: fork first, so a child loads the database side on the other core while this process loads
    Textual (pos/screens/login_helper.py); `pos run` does.
    """
    runtime = partial(_runtime, training, config_path, database_url)
    helper = None
    if login_helper:
        from pos.screens.login_helper import LoginHelper

        helper = LoginHelper.start(runtime)
    try:
        rt = runtime()
        from pos.screens.app import PosApp

        return PosApp(rt, login_helper=helper)
    except BaseException:
        if helper is not None:
            helper.close()
        raise


def _runtime(training: bool, config_path: str | None, database_url: str | None) -> Runtime:
    from pos.config import load_config
    from pos.runtime import make_runtime

    rt = make_runtime(load_config(config_path), database_url)
    rt.training = training
    return rt


def run_app(
    *, training: bool = False, config_path: str | None = None, database_url: str | None = None
) -> int:
    """Run the app until it ends; its exit code (not 0 when it refused to start, after saying why)."""
    app = cashier_app(
        training=training, config_path=config_path, database_url=database_url, login_helper=True
    )
    app.run()
    return app.return_code or 0


def main(args: list[str]) -> int:
    """`pos [run [--training]]` with the global options taken from $POS_CONFIG and $POS_DB, as Typer would."""
    try:
        return run_app(
            training=args[-1:] == ["--training"],
            config_path=os.environ.get("POS_CONFIG") or None,
            database_url=os.environ.get("POS_DB") or None,
        )
    except (KeyboardInterrupt, Exception) as exc:  # noqa: BLE001 - a sentence, the details in a file
        return report_failure(exc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
