"""Commands added by the mail work; see pos/cli.py."""
