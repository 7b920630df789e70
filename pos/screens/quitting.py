"""Ctrl+Q: quitting the app never drops a sale silently.

Each screen on the stack may say what quitting would lose (`quit_question()` -> a question, or None when
nothing is lost); the topmost screen that has the method decides. The sale screen asks while its cart holds
articles, which covers an open payment too (the payment screen sits above it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pos.i18n import N_

if TYPE_CHECKING:
    from textual.app import App


def quit_question(app: App[Any]) -> str | None:
    for screen in reversed(app.screen_stack):
        ask = getattr(screen, "quit_question", None)
        if ask is not None:
            question: str | None = ask()
            return question
    return None


async def ask_before_quitting(app: App[Any]) -> None:
    from pos.screens.backoffice import ConfirmDialog

    if type(app.screen).__name__ == "ConfirmDialog" and getattr(app.screen, "quitting", False):
        return  # already asking
    question = quit_question(app)
    if question is None:
        app.exit()
        return

    def answered(yes: bool | None) -> None:
        if yes:
            app.exit()

    dialog = ConfirmDialog(question, yes=N_("Quit"), no=N_("Go back"))
    dialog.quitting = True  # type: ignore[attr-defined]
    await app.push_screen(dialog, answered)
