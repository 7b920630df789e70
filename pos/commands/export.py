"""Commands added by the export work; see pos/cli.py."""
