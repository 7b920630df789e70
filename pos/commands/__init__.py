"""The `pos` command groups. Each module imports its services inside the commands (a one-shot command
loads only what it runs, so `pos redeem` starts in well under a second)."""
