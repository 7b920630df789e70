"""The `pos` console script (and `python -m pos`): the cashier app at once, everything else through Typer."""

from __future__ import annotations

import gc
import sys


def main() -> None:
    from pos.commands.launch import FAST_COMMAND_LINES

    if sys.argv[1:] in FAST_COMMAND_LINES:
        # Start-up allocates much and frees little: without the collector running through it, the till is up
        # 10 % sooner. The app turns it back on once it has loaded (PosApp, after its background loading).
        gc.disable()
        from pos.commands.launch import main as start_till

        sys.exit(start_till(sys.argv[1:]))
    from pos.cli import main as command_line

    command_line()


if __name__ == "__main__":
    main()
