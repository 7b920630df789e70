"""Commands added by the printing work; see pos/cli.py."""
