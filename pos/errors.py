"""The one exception type the CLI and the TUI turn into a sentence for the user."""


class PosError(Exception):
    """An expected failure with a message fit to show a cashier or an admin as it is."""


class NotFound(PosError):
    """Something named by the user does not exist."""


class Refused(PosError):
    """A business rule refuses the request (sold out, code used up, already cancelled, ...)."""
