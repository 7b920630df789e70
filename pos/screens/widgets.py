"""Widgets of the cashier app: the article grid with quick keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.console import RenderableType
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from pos.i18n import N_

TILE_MIN_WIDTH = 20
TILE_GAP = 1
TILE_HEIGHT = 3  # two lines of text and one blank line
QUICK_KEYS = "1234567890"


@dataclass(frozen=True)
class Tile:
    article_id: int
    name: str
    price: str
    availability: str
    sold_out: bool = False
    unlocked: bool = False  # a hidden article an unlock code opened


class ArticleGrid(Widget, can_focus=True):
    """Articles as tiles in as many columns as fit; arrows move, Enter adds the tile under the cursor (the
    screen binds the tiles' digits, so they work from the cart too); a letter starts a search."""

    BINDINGS = [
        Binding("enter", "choose", N_("Add"), key_display="⏎", show=False),
        Binding("up", "move(0, -1)", show=False),
        Binding("down", "move(0, 1)", show=False),
        Binding("left", "move(-1, 0)", show=False),
        Binding("right", "move(1, 0)", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
    ]
    COMPONENT_CLASSES = {
        "article-grid--tile",
        "article-grid--cursor",
        "article-grid--sold-out",
        "article-grid--key",
        "article-grid--unlocked",
    }
    DEFAULT_CSS = """
    ArticleGrid { height: 1fr; padding: 1 1 0 1; }
    ArticleGrid > .article-grid--tile { background: $boost; }
    ArticleGrid > .article-grid--cursor { background: $accent 40%; text-style: bold; }
    ArticleGrid:focus > .article-grid--cursor { background: $accent; color: $text; }
    ArticleGrid > .article-grid--sold-out { color: $text-muted; text-style: strike; }
    ArticleGrid > .article-grid--key { color: $warning; text-style: bold; }
    ArticleGrid > .article-grid--unlocked { color: $success; }
    """

    tiles: reactive[tuple[Tile, ...]] = reactive((), always_update=True)
    cursor = reactive(0)

    class TypedAhead(Message):
        """A letter typed on the grid: the screen starts a search with it."""

        def __init__(self, character: str) -> None:
            super().__init__()
            self.character = character

    def __init__(
        self,
        choose: Callable[[int], object],
        *,
        typed: Callable[[str], object] | None = None,
        id: str | None = None,
    ) -> None:
        """`choose(article_id)` runs at once in the key's binding, so a key pressed right after it (F12 to
        pay) sees the article in the cart. `typed(letter)` runs at once too, so letters queued behind the
        first one reach the search in the order they were typed (without it, a TypedAhead message is sent)."""
        super().__init__(id=id)
        self.choose = choose
        self.typed = typed
        self._first_row = 0

    def show(self, tiles: list[Tile]) -> None:
        """New tiles; the cursor stays on the same article when it is still there."""
        current = self.current
        self.tiles = tuple(tiles)
        ids = [tile.article_id for tile in tiles]
        self.cursor = ids.index(current.article_id) if current and current.article_id in ids else 0

    @property
    def current(self) -> Tile | None:
        return self.tiles[self.cursor] if 0 <= self.cursor < len(self.tiles) else None

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.tiles) - 1))

    def _columns(self) -> int:
        return max(1, (self.content_size.width + TILE_GAP) // (TILE_MIN_WIDTH + TILE_GAP))

    def _tile_width(self, columns: int) -> int:
        return max(4, (self.content_size.width - TILE_GAP * (columns - 1)) // columns)

    def action_move(self, dx: int, dy: int) -> None:
        columns = self._columns()
        target = self.cursor + dx + dy * columns
        if 0 <= target < len(self.tiles):
            self.cursor = target

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.tiles) - 1

    def action_choose(self) -> None:
        if (tile := self.current) is not None:
            self.choose(tile.article_id)

    def action_quick(self, index: int) -> None:
        if index < len(self.tiles):
            self.cursor = index
            self.choose(self.tiles[index].article_id)
        else:
            self.app.bell()

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isalpha():
            event.stop()
            event.prevent_default()
            if self.typed is not None:
                self.typed(event.character)
            else:
                self.post_message(self.TypedAhead(event.character))

    def on_click(self, event: events.Click) -> None:
        columns = self._columns()
        width = self._tile_width(columns) + TILE_GAP
        row = self._first_row + (event.y - 1) // TILE_HEIGHT
        index = row * columns + min(max(event.x - 1, 0) // width, columns - 1)
        if 0 <= index < len(self.tiles):
            self.cursor = index
            self.choose(self.tiles[index].article_id)

    def render(self) -> RenderableType:
        if not self.tiles:
            return Text("")
        columns = self._columns()
        width = self._tile_width(columns)
        rows_fit = max(1, (self.content_size.height + 1) // TILE_HEIGHT)
        cursor_row = self.cursor // columns
        if cursor_row < self._first_row:
            self._first_row = cursor_row
        elif cursor_row >= self._first_row + rows_fit:
            self._first_row = cursor_row - rows_fit + 1
        style = self.get_component_rich_style
        lines: list[Text] = []
        for row in range(self._first_row, self._first_row + rows_fit):
            cells = list(enumerate(self.tiles))[row * columns : (row + 1) * columns]
            if not cells:
                break
            top, bottom = Text(), Text()
            for position, (index, tile) in enumerate(cells):
                base = style("article-grid--cursor" if index == self.cursor else "article-grid--tile")
                if position:
                    top.append(" " * TILE_GAP)
                    bottom.append(" " * TILE_GAP)
                key = QUICK_KEYS[index] if index < len(QUICK_KEYS) else " "
                name_style = base + style("article-grid--sold-out") if tile.sold_out else base
                top.append(" ", base)
                top.append(key, base + style("article-grid--key"))
                top.append(fit(" " + ("* " if tile.unlocked else "") + tile.name, width - 2), name_style)
                left_style = base + style("article-grid--unlocked") if tile.unlocked else base
                price = " " + tile.price
                room = max(0, width - cell_len(price) - 1)
                bottom.append(price, left_style)
                bottom.append(fit(tile.availability, room, right=True) + " ", base)
            lines += [top, bottom, Text("")]
        return Text("\n").join(lines[:-1])

    def watch_cursor(self) -> None:
        self.refresh()


def fit(text: str, width: int, *, right: bool = False) -> str:
    """Cut to `width` cells with an ellipsis, pad to exactly `width`."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    padding = " " * (width - cell_len(text))
    return padding + text if right else text + padding
