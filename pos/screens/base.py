"""What every screen of the cashier app shares: the language, the acting operator, service calls off the event
loop, and the message line.

Screens never talk SQL: they call use cases in pos/services, always through `call_service`, which runs the call
in a thread so the screen keeps painting and taking keys while the database or the printer works. Errors a
service raises are shown in the venue language (`PosError.in_language`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import RenderableType
from rich.text import Text
from textual.app import App
from textual.binding import ActiveBinding
from textual.geometry import Size
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.worker import Worker

from pos.errors import PosError
from pos.i18n import Language
from pos.runtime import Runtime
from pos.services.loading import load_database_side

if TYPE_CHECKING:
    from pos.services.base import Actor
    from pos.services.views import ArticleView, ShiftView

T = TypeVar("T")
log = logging.getLogger("pos.screens")


class TillApp(App[None]):
    """What the screens use of the cashier app. PosApp (pos.screens.app) is the one implementation; it lives
    here so a screen needs no import of the app module, which imports the screens."""

    rt: Runtime
    lang: Language
    operator: Actor | None
    shift: ShiftView | None
    prefetched_articles: list[ArticleView] | None

    @property
    def actor(self) -> Actor:
        raise NotImplementedError

    def show_login(self, message: str = "") -> None:
        raise NotImplementedError

    def start_admin(self, operator: Actor) -> None:
        raise NotImplementedError

    def start_selling(self, operator: Actor, shift: ShiftView) -> None:
        raise NotImplementedError

    def open_section(self, section: str) -> None:
        raise NotImplementedError

    def show_orders(self, query: str) -> None:
        raise NotImplementedError


def _with_database_side(service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """In the worker: the database side first (pos/services/loading.py), then the use case."""
    load_database_side()
    return service(*args, **kwargs)


class Services:
    """Mixin for screens: translated footer, `lang`, `rt`, and `call_service`."""

    app: TillApp

    @property
    def lang(self) -> Language:
        return self.app.lang

    @property
    def rt(self) -> Runtime:
        return self.app.rt

    @property
    def actor(self) -> Actor:
        return self.app.actor

    def _(self, message: str) -> str:
        return self.app.lang._(message)

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The footer shows binding descriptions in the venue language (BINDINGS hold the English source)."""
        bindings: dict[str, ActiveBinding] = super().active_bindings  # type: ignore[misc]
        translate = self.app.lang._
        return {
            key: active._replace(
                binding=replace(active.binding, description=translate(active.binding.description))
            )
            for key, active in bindings.items()
        }

    def call_service(
        self,
        service: Callable[..., T],
        *args: Any,
        done: Callable[[T], object],
        failed: Callable[[PosError], object] | None = None,
        group: str = "db",
        exclusive: bool = False,
        database_side: bool = True,
        **kwargs: Any,
    ) -> Worker[None]:
        """Run `service(*args, **kwargs)` in a thread; then `done(result)` or `failed(error)` on the screen.
        `database_side=False`: the service loads it itself if it needs it (the login, PosApp.check_login)."""

        async def run() -> None:
            try:
                if database_side:
                    result = await asyncio.to_thread(_with_database_side, service, *args, **kwargs)
                else:
                    result = await asyncio.to_thread(service, *args, **kwargs)
            except PosError as exc:
                if self.is_attached:  # type: ignore[attr-defined]
                    (failed or self.show_error)(exc)
                return
            except Exception as exc:  # noqa: BLE001 - the cashier gets a sentence, the log gets the details
                log.exception("service %s failed", getattr(service, "__name__", service))
                if self.is_attached:  # type: ignore[attr-defined]
                    self.show_error(
                        PosError("Unexpected error: {error}", error=type(exc).__name__ + ": " + str(exc))
                    )
                return
            if self.is_attached:  # type: ignore[attr-defined]
                try:
                    done(result)
                except Exception as exc:  # noqa: BLE001 - a screen bug must show, not vanish in the worker
                    log.exception("showing the result of %s failed", getattr(service, "__name__", service))
                    self.show_error(
                        PosError("Unexpected error: {error}", error=type(exc).__name__ + ": " + str(exc))
                    )

        return self.run_worker(run, group=group, exclusive=exclusive, exit_on_error=False)  # type: ignore[attr-defined,no-any-return]

    def after_typing(self, callback: Callable[[], object]) -> None:
        """Run `callback` once the focused field has taken the keys typed before this one.

        Enter is a priority binding (so the footer shows it), and priority bindings run before the keys queued
        for the field: "kasse⏎" typed fast would otherwise find the field still empty.
        """
        focused = self.app.focused
        if focused is None:
            callback()
        else:
            focused.call_later(callback)

    # --- the message line (a Static with id "message"; a screen without one gets a notification) -----------

    def say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        """Show `text` on the screen's message line; the next action's message replaces it."""
        found = self.query("#message")  # type: ignore[attr-defined]
        if not found:
            if text:
                self.app.notify(text, severity="error" if error else "information", timeout=6)
            return
        message = found.first()
        one_line = getattr(self, "ONE_LINE_MESSAGES", False)
        message.update(Text(text, overflow="ellipsis", no_wrap=one_line) if text else "")
        message.set_class(error, "error")
        message.set_class(ok, "ok")

    def refuse(self, text: str) -> bool:
        """An error on the message line, with the bell; returns False so `return self.refuse(...)` reads well."""
        self.app.bell()
        self.say(text, error=True)
        return False

    def show_error(self, error: PosError) -> None:
        """A service's refusal in the venue language."""
        self.refuse(error.in_language(self.lang))


class KeyBar(Widget):
    """The screen's keys, like Textual's Footer, but wrapped onto a second line when they do not fit: a key
    is never cut off at 80 columns. Keys that are shown but do not apply right now are dimmed."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: auto;
        color: $footer-foreground;
        background: $footer-background;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[Any]) -> None:
        if self.is_attached and screen is self.screen:
            # A new layout only when the keys take another number of lines; else a repaint is enough.
            width = self.content_size.width or self.size.width
            self.refresh(layout=bool(width) and len(self.lines(width)) != self.size.height)

    def key_style(self) -> str:
        """The theme's key colour, looked up once: the theme's variables are computed anew on every call."""
        style: str | None = getattr(self, "_key_style", None)
        if style is None:
            style = self._key_style = self.app.get_css_variables().get("footer-key-foreground", "")
        return style

    def items(self) -> list[tuple[str, str, bool]]:
        """(key, description, enabled) for each shown binding, one per action, in binding order."""
        seen: dict[str, tuple[str, str, bool]] = {}
        for _namespace, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen[binding.action] = (self.app.get_key_display(binding), binding.description, enabled)
        return list(seen.values())

    def lines(self, width: int) -> list[Text]:
        key_style = self.key_style()
        lines: list[Text] = []
        line = Text()
        for key, description, enabled in self.items():
            item = Text(no_wrap=True, end="")
            item.append(key, style=f"bold {key_style}" if enabled else "dim")
            if description:
                item.append(" " + description, style="" if enabled else "dim")
            if line.cell_len and line.cell_len + 1 + item.cell_len > width:
                lines.append(line)
                line = Text()
            if line.cell_len:
                line.append(" ")
            line.append_text(item)
        if line.cell_len or not lines:
            lines.append(line)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(len(self.lines(width)), self.below(width))

    def below(self, width: int) -> int:
        """A dialog's keys cover the keys of the screen below it: as many lines as those take."""
        stack = self.app.screen_stack
        if not self.screen.is_modal or self.screen not in stack:
            return 0
        index = stack.index(self.screen)
        bars: list[KeyBar] = list(stack[index - 1].query(KeyBar)) if index > 0 else []
        return max((bar.get_content_height(Size(0, 0), Size(0, 0), width) for bar in bars), default=0)

    def render(self) -> RenderableType:
        return Text("\n").join(self.lines(self.content_size.width or self.size.width))


def footer() -> KeyBar:
    """The screen's keys; they wrap to a second line rather than being cut at 80 columns."""
    return KeyBar()


class PosScreen(Services, Screen[Any]):
    pass


class PosModal(Services, ModalScreen[Any]):
    pass
