"""Sale screen: articles by shop group with price and live availability; sold-out is shown, not addable."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from pos.db.articles import list_articles, remaining
from pos.domain.money import format_plain
from pos.runtime import Runtime


class SaleScreen(Screen[None]):
    BINDINGS = [
        Binding("enter", "add", "Add to cart", show=True),
        Binding("f5", "refresh", "Refresh"),
        Binding("ctrl+l", "clear", "Clear cart"),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    def __init__(self, rt: Runtime) -> None:
        super().__init__()
        self.rt = rt
        self.cart: dict[int, int] = {}
        self.articles: dict[int, object] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical():
                yield DataTable(id="articles", cursor_type="row", zebra_stripes=True)
                yield Static("", id="message")
            yield Static("", id="cart")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#articles", DataTable)
        table.add_columns("Group", "Article", "Price", "Available")
        self.action_refresh()
        table.focus()

    def action_refresh(self) -> None:
        table = self.query_one("#articles", DataTable)
        table.clear()
        self.articles = {}
        for article in list_articles(self.rt, include_hidden=False):
            left = remaining(article)
            shown = "∞" if left is None else ("SOLD OUT" if left == 0 else str(left))
            self.articles[article.id] = article  # type: ignore[index]
            table.add_row(
                article.shop_group,
                article.name,
                format_plain(article.price_cents),
                shown,
                key=str(article.id),
            )
        self._show_cart()

    def action_add(self) -> None:
        table = self.query_one("#articles", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        article = self.articles[int(key)]  # type: ignore[arg-type]
        left = remaining(article)  # type: ignore[arg-type]
        in_cart = self.cart.get(article.id, 0)  # type: ignore[attr-defined]
        message = self.query_one("#message", Static)
        if left is not None and in_cart + 1 > left:
            message.update(
                f"{article.name} is sold out." if left == 0 else f"Only {left} of {article.name} left."
            )  # type: ignore[attr-defined]
            self.app.bell()
            return
        self.cart[article.id] = in_cart + 1  # type: ignore[attr-defined]
        message.update("")
        self._show_cart()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_add()

    def action_clear(self) -> None:
        self.cart.clear()
        self._show_cart()

    def _show_cart(self) -> None:
        lines = ["[b]Cart[/b]"]
        total = 0
        for article_id, qty in self.cart.items():
            article = self.articles.get(article_id)
            if article is None:
                continue
            amount = qty * article.price_cents  # type: ignore[attr-defined]
            total += amount
            lines.append(f"{qty} x {article.name}  {format_plain(amount)}")  # type: ignore[attr-defined]
        lines.append(f"\n[b]Total {format_plain(total)}[/b]")
        self.query_one("#cart", Static).update("\n".join(lines))
