"""Commands added by the sales work; see pos/cli.py."""
