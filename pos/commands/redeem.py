"""Commands added by the redeem work; see pos/cli.py."""
