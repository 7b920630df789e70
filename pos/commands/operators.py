"""Commands added by the operators work; see pos/cli.py."""
