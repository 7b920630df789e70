"""The exceptions every face turns into one sentence for the user.

A message is an English source string with `{placeholders}` and its arguments kept apart, so the CLI prints it
in English (`str(error)`) and the cashier app shows it in the venue language (`error.in_language(lang)`): the
gettext catalog translates the source string, then the arguments are filled in. `make locale` extracts the
strings given to these classes (see the Makefile's keywords), so a new message needs no other registration.
"""

from __future__ import annotations

from typing import Any, Protocol


class Translator(Protocol):
    def _(self, message: str) -> str: ...


class PosError(Exception):
    """An expected failure with a message fit to show a cashier or an admin as it is."""

    def __init__(self, message: str, /, **args: Any) -> None:
        self.message = message
        self.message_args = args
        super().__init__(_fill(message, args))

    def in_language(self, lang: Translator) -> str:
        """The sentence in `lang`; arguments that are themselves wording (Wording) are translated too."""
        args = {
            key: value.in_language(lang) if isinstance(value, Wording) else value
            for key, value in self.message_args.items()
        }
        return _fill(lang._(self.message), args)


class NotFound(PosError):
    """Something named by the user does not exist."""


class Refused(PosError):
    """A business rule refuses the request (sold out, code used up, already cancelled, ...)."""


class Forbidden(Refused):
    """The acting operator's role does not allow this use case."""


class Wording:
    """A translatable phrase passed as an argument of another message (a reason, a tender name)."""

    def __init__(self, message: str, /, **args: Any) -> None:
        self.message = message
        self.args = args

    def in_language(self, lang: Translator) -> str:
        return _fill(lang._(self.message), self.args)

    def __str__(self) -> str:
        return _fill(self.message, self.args)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _fill(message: str, args: dict[str, Any]) -> str:
    if not args:
        return message
    try:
        return message.format(**args)
    except (KeyError, IndexError, ValueError):
        return message
