"""Commands added by the promos work; see pos/cli.py."""
