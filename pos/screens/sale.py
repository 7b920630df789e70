"""The sale screen: articles by shop group with quick keys, search, unlock codes, the cart, and scans.

Prices and remaining availability are live (reloaded every few seconds and after each sale, in one query);
sold-out articles stay visible and cannot be added. The screen offers the articles of the assortments
`[terminal] assortments` names. A scan is routed by what it is, wherever the focus is: a ticket code opens its
order, a cart link opens its cart, an article barcode (looked up in the database) adds the article; any other
scan is said to be unknown and changes nothing.

Only what the first paint needs is imported at the top: checkout, orders and promo codes load with the payment
screen in the background once the articles are shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Header, Input, Static

from pos.domain.availability import check_available, check_offered, is_offered
from pos.domain.ticket_code import looks_like_ticket_code
from pos.errors import PosError
from pos.i18n import N_
from pos.screens.base import PosScreen, footer
from pos.screens.cart import Cart, CartEntry
from pos.screens.widgets import QUICK_KEYS, ArticleGrid, Tile, fit
from pos.services.loading import load_database_side
from pos.services.views import ArticleView

if TYPE_CHECKING:
    from pos.domain.cart_link import CartLink
    from pos.runtime import Runtime
    from pos.services.base import Actor
    from pos.services.checkout import Quote
    from pos.services.promos import Unlocked

REFRESH_SECONDS = 5.0
PRELOAD_AFTER_PAINT_S = 0.3
GROUP_KEYS = 8


def list_articles(rt: Runtime, actor: Actor, *, this_terminal: bool) -> list[ArticleView]:
    """The articles, loaded with the database side in the worker that runs it: the first sale screen can be up
    before this process has loaded SQLAlchemy (pos/screens/login_helper.py)."""
    from pos.services.articles import list_articles as articles

    return articles(rt, actor, this_terminal=this_terminal)


def article_by_code(rt: Runtime, actor: Actor, code: str) -> ArticleView | None:
    from pos.services.articles import article_by_code as by_code

    return by_code(rt, actor, code)


def _preload_payment() -> None:
    """Once the sale screen is up: load what paying, scans and closing the shift need, so F12 opens at once."""
    load_database_side()
    import pos.screens.order
    import pos.screens.payment
    import pos.screens.shift
    import pos.services.checkout
    import pos.services.orders
    import pos.services.promos  # noqa: F401


class CartTable(DataTable[str]):
    BINDINGS = [
        Binding("plus", "more", N_("More"), key_display="+"),
        Binding("minus", "less", N_("Fewer"), key_display="-"),
        Binding("delete", "remove", N_("Remove"), key_display="Del"),
        Binding("backspace", "remove", show=False),
    ]

    def action_more(self) -> None:
        self.screen.change_quantity(self.cursor_row, +1)  # type: ignore[attr-defined]

    def action_less(self) -> None:
        self.screen.change_quantity(self.cursor_row, -1)  # type: ignore[attr-defined]

    def action_remove(self) -> None:
        self.screen.remove_line(self.cursor_row)  # type: ignore[attr-defined]

    def on_key(self, event: events.Key) -> None:
        """A letter typed in the cart starts a search too, as on the tiles."""
        if event.character and event.character.isalpha():
            event.stop()
            event.prevent_default()
            self.screen.type_ahead(event.character)  # type: ignore[attr-defined]


class SaleScreen(PosScreen):
    ONE_LINE_MESSAGES = True
    BINDINGS = [
        # F1-F8: the group bar above the articles shows each group's key, so the footer need not.
        *[Binding(f"f{n}", f"group({n - 1})", show=False) for n in range(1, GROUP_KEYS + 1)],
        # The tiles' digits work wherever the focus is but in a text field (the cart too).
        *[
            Binding(key, f"quick({index})", N_("Add"), key_display="1-0", show=index == 0)
            for index, key in enumerate(QUICK_KEYS)
        ],
        Binding("f9", "search", N_("Search"), key_display="F9"),
        Binding("f10", "unlock", N_("Unlock"), key_display="F10"),
        Binding("f12", "pay", N_("Pay"), key_display="F12"),
        Binding("ctrl+l", "clear_cart", N_("Clear"), key_display="^L"),
        Binding("tab", "to_cart", N_("Cart"), key_display="Tab"),
        Binding("tab", "to_grid", N_("Articles"), key_display="Tab"),
        Binding("shift+tab", "to_cart", show=False),
        Binding("shift+tab", "to_grid", show=False),
        Binding("escape", "to_grid", show=False),
        # Not priority bindings (and keys no Input uses), so they wait for the keys typed before them.
        Binding("ctrl+b", "close_shift", N_("Z report"), key_display="^B"),
        Binding("ctrl+x", "x_report", N_("X report"), key_display="^X"),
        Binding("ctrl+e", "cash", N_("Cash in/out"), key_display="^E"),
        Binding("ctrl+o", "logout", N_("Logout"), key_display="^O"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.articles: dict[int, ArticleView] = {}
        self.groups: list[str] = []
        self.group_index = 0
        self.unlocked: frozenset[int] = frozenset()
        self.cart = Cart()
        self.quote: Quote | None = None
        self.loaded = False

    # --- layout -----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        yield Static("", id="groups")
        with Horizontal(id="sale"):
            with Vertical(id="left"):
                yield ArticleGrid(self.add, typed=self.type_ahead, id="grid")
                with Horizontal(id="fields"):
                    yield Input(id="search", placeholder=_("Search (F9)"), compact=True)
                    yield Input(id="unlock", placeholder=_("Unlock code (F10)"), compact=True)
                yield Static(_("Loading articles ..."), id="message")
            with Vertical(id="right"):
                yield Static("", id="cart-title")
                yield CartTable(id="cart", cursor_type="row", show_cursor=True)
                yield Static("", id="total")
        yield footer()

    def on_mount(self) -> None:
        cart = self.query_one("#cart", CartTable)
        cart.add_column(self._("Qty"), key="qty", width=3)
        cart.add_column(self._("Article"), key="name")
        cart.add_column(self._("Amount"), key="amount")
        self.query_one("#grid", ArticleGrid).focus()
        prefetched, self.app.prefetched_articles = self.app.prefetched_articles, None
        if prefetched is not None:
            self._loaded(prefetched)  # painted at once; the reload after it brings availability up to date
            self.call_after_refresh(self.reload_articles)
        else:
            self.reload_articles()
        self.set_interval(REFRESH_SECONDS, self.reload_articles, name="availability")
        self.show_cart()

    def on_resize(self, event: events.Resize) -> None:
        self.show_cart()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.refresh_bindings()  # Tab says where it goes; the digits hide while a text field has the focus

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pay and Clear only with a cart; the footer shows what applies where the focus is."""
        if action in ("pay", "clear_cart"):
            return bool(self.cart.entries)
        if action == "quick":
            return not isinstance(self.focused, Input)
        if action == "to_cart":  # Tab: to the cart, and from the cart back to the articles (to_grid)
            return not isinstance(self.focused, CartTable)
        return True

    def quit_question(self) -> str | None:
        """Asked before the app quits (Ctrl+Q): a cart, with a payment open or not, is not dropped silently."""
        if not self.cart.entries:
            return None
        units = sum(entry.quantity for entry in self.cart.entries)
        return self.lang.ngettext(
            "A sale is open: the cart holds {n} article. Quit and drop it?",
            "A sale is open: the cart holds {n} articles. Quit and drop it?",
            units,
        ).format(n=units)

    # --- articles ---------------------------------------------------------------------------------------

    def reload_articles(self) -> None:
        self.call_service(
            list_articles,
            self.rt,
            self.actor,
            this_terminal=True,
            done=self._loaded,
            group="articles",
            exclusive=True,
        )

    def _loaded(self, articles: list[ArticleView]) -> None:
        first = not self.loaded
        self.articles = {article.id: article for article in articles}
        # Every group of this terminal's articles, hidden ones too: an unlock code never moves an F-key.
        self.groups = list(dict.fromkeys(article.shop_group for article in articles))
        self.loaded = True
        self.show_articles()
        if first:
            self.say("")
            # After the first paint (the tiles come first): what paying and scanning need, in the background.
            self.call_after_refresh(
                self.set_timer,
                PRELOAD_AFTER_PAINT_S,
                lambda: self.run_worker(_preload_payment, thread=True, exit_on_error=False, group="preload"),
            )

    def is_offered(self, article: ArticleView) -> bool:
        return is_offered(article.hidden, article.id, self.unlocked)

    def show_articles(self) -> None:
        visible = [a for a in self.articles.values() if self.is_offered(a)]
        self.group_index = min(self.group_index, max(len(self.groups) - 1, 0))
        search = self.query_one("#search", Input).value.strip().casefold()
        if search:
            shown = [a for a in visible if search in a.name.casefold()]
        elif self.groups:
            shown = [a for a in visible if a.shop_group == self.groups[self.group_index]]
        else:
            shown = []
        self.query_one("#grid", ArticleGrid).show([self.tile(a) for a in shown])
        self.show_groups(bool(search))

    def tile(self, article: ArticleView) -> Tile:
        left = article.remaining
        if left is None:
            availability = ""
        elif left == 0:
            availability = self._("SOLD OUT")
        else:
            availability = self._("{n} left").format(n=left - self.cart.units(article.id))
        return Tile(
            article_id=article.id,
            name=article.name,
            price=self.lang.money(article.price_cents),
            availability=availability,
            sold_out=left == 0,
            unlocked=article.hidden,
        )

    def show_groups(self, searching: bool) -> None:
        bar = Text(no_wrap=False, overflow="fold")
        for index, name in enumerate(self.groups[:GROUP_KEYS]):
            current = index == self.group_index and not searching
            bar.append(f" F{index + 1} ", "bold reverse" if current else "bold")
            bar.append(f" {name}  ", "reverse" if current else "")
        self.query_one("#groups", Static).update(bar)

    def action_group(self, index: int) -> None:
        if index >= len(self.groups):
            self.refuse(self._("F{n} has no shop group.").format(n=index + 1))
            return
        self.say("")
        self.group_index = index
        self.query_one("#search", Input).value = ""
        self.show_articles()
        self.query_one("#grid", ArticleGrid).focus()

    def action_quick(self, index: int) -> None:
        """A tile's digit, from the cart as from the tiles."""
        grid = self.query_one("#grid", ArticleGrid)
        if index < len(grid.tiles):
            grid.cursor = index
            self.add(grid.tiles[index].article_id)
        else:
            self.refuse(self._("No article has the key {key} here.").format(key=QUICK_KEYS[index]))

    # --- search and unlock fields -----------------------------------------------------------------------

    def action_search(self) -> None:
        self.say("")
        self.query_one("#search", Input).focus()

    def action_unlock(self) -> None:
        self.say("")
        self.query_one("#unlock", Input).focus()

    def action_to_grid(self) -> None:
        self.query_one("#search", Input).value = ""
        self.query_one("#unlock", Input).value = ""
        self.query_one("#grid", ArticleGrid).focus()
        self.refresh_bindings()

    def action_to_cart(self) -> None:
        cart = self.query_one("#cart", CartTable)
        if not self.cart.entries:
            self.say(self._("The cart is empty."))
            return
        self.say("")
        cart.focus()
        self.refresh_bindings()

    def type_ahead(self, character: str) -> None:
        """A letter typed on the tiles starts a search with it; the letters after it (already on their way to
        the tiles when a fast hand or the keyboard buffer sends several) continue it."""
        search = self.query_one("#search", Input)
        if self.focused is search:
            search.insert_text_at_cursor(character)
            return
        self.say("")
        search.value = character
        search.cursor_position = len(search.value)
        self.set_focus(search)
        self.refresh_bindings()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.show_articles()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "search":
            self.add_found(event.value)
        elif event.input.id == "unlock" and event.value.strip():
            self.enter_unlock_code(event.value.strip())

    def add_found(self, text: str) -> None:
        """Enter in the search field: the article under the cursor, or one sentence why none."""
        self.show_articles()
        grid = self.query_one("#grid", ArticleGrid)
        if grid.current is not None:
            self.add(grid.current.article_id)
        elif text.strip():
            self.refuse(self._("No article matches {text!r}.").format(text=text.strip()))

    def on_key(self, event: events.Key) -> None:
        if event.key == "down" and self.focused is self.query_one("#search", Input):
            event.stop()
            self.query_one("#grid", ArticleGrid).focus()

    def enter_unlock_code(self, code: str) -> None:
        load_database_side()  # it may still be loading in the background (pos/services/loading.py)
        from pos.services.promos import unlock

        codes = list(dict.fromkeys([*self.cart.unlock_codes, code.upper()]))
        self.say("")
        self.call_service(
            unlock,
            self.rt,
            self.actor,
            codes,
            self.cart.link_promo,
            done=lambda unlocked: self._unlocked(codes, unlocked),
            failed=self._unlock_refused,
        )

    def _unlock_refused(self, error: PosError) -> None:
        self.query_one("#unlock", Input).value = ""
        self.show_error(error)

    def _unlocked(self, codes: list[str], unlocked: Unlocked) -> None:
        from pos.wording import promo_words

        new = unlocked.articles - self.unlocked
        self.cart.unlock_codes = codes
        self.unlocked = unlocked.articles
        self.query_one("#unlock", Input).value = ""
        does = promo_words(self.lang, unlocked.promo)
        if new & self.articles.keys():
            self.query_one("#search", Input).value = ""
            first = self.articles[min(new & self.articles.keys())]
            if first.shop_group in self.groups:
                self.group_index = self.groups.index(first.shop_group)
            self.show_articles()
            self.say(self._("Code {code}: {does}.").format(code=codes[-1], does=does), ok=True)
        else:
            self.say(
                self._("Code {code} ({does}) is accepted; it unlocks nothing new here.").format(
                    code=codes[-1], does=does
                )
            )
        self.query_one("#grid", ArticleGrid).focus()
        self.show_cart()

    # --- the cart ---------------------------------------------------------------------------------------

    def add(self, article_id: int, quantity: int = 1) -> bool:
        article = self.articles.get(article_id)
        if article is None:
            return False
        try:
            check_offered(article.name, article.hidden, article.id, self.unlocked)
            wanted = self.cart.units(article_id) + quantity
            check_available(article.name, article.stock_limit, article.sold, wanted)
        except PosError as error:
            self.show_error(error)
            return False
        for entry in self.cart.entries:
            if entry.article_id == article_id and entry.valid_from is None and entry.valid_until is None:
                entry.quantity += quantity
                break
        else:
            self.cart.entries.append(CartEntry(article_id, quantity))
        self.say(self._("Added: {name}").format(name=article.name), ok=True)
        self.cart_changed()
        return True

    def change_quantity(self, row: int, delta: int) -> None:
        if not 0 <= row < len(self.cart.entries):
            return
        entry = self.cart.entries[row]
        article = self.articles[entry.article_id]
        if delta > 0:
            try:
                wanted = self.cart.units(entry.article_id) + delta
                check_available(article.name, article.stock_limit, article.sold, wanted)
            except PosError as error:
                self.show_error(error)
                return
        entry.quantity += delta
        if entry.quantity <= 0:
            del self.cart.entries[row]
            self.say(self._("Removed: {name}").format(name=article.name))
        else:
            self.say(self._("{name}: {n} in the cart").format(name=article.name, n=entry.quantity))
        self.cart_changed()

    def remove_line(self, row: int) -> None:
        if 0 <= row < len(self.cart.entries):
            entry = self.cart.entries.pop(row)
            article = self.articles.get(entry.article_id)
            self.say(self._("Removed: {name}").format(name=article.name if article else entry.article_id))
            self.cart_changed()

    def action_clear_cart(self) -> None:
        self.cart = Cart()
        self.unlocked = frozenset()
        self.say("")
        self.show_articles()
        self.cart_changed()

    def cart_changed(self) -> None:
        load_database_side()
        from pos.services.checkout import quote

        self.quote = None
        self.refresh_bindings()
        self.show_cart()
        self.show_articles()
        if not self.cart.entries and isinstance(self.focused, CartTable):
            self.query_one("#grid", ArticleGrid).focus()
        if self.cart.entries:
            self.call_service(
                quote,
                self.rt,
                self.actor,
                self.cart.request(),
                done=self._quoted,
                failed=self._quote_refused,
                group="quote",
                exclusive=True,
            )

    def _quoted(self, result: Quote) -> None:
        self.quote = result
        self.show_cart()

    def _quote_refused(self, error: PosError) -> None:
        self.say(error.in_language(self.lang), error=True)

    def show_cart(self) -> None:
        table = self.query_one("#cart", CartTable)
        row = table.cursor_row
        table.clear()
        name_width = max(8, table.size.width - 19)
        total = 0
        for index, entry in enumerate(self.cart.entries):
            article = self.articles.get(entry.article_id)
            if article is None:
                continue
            amount = article.price_cents * entry.quantity
            total += amount
            name = article.name
            table.add_row(
                str(entry.quantity),
                fit(name, name_width),
                Text(self.lang.money(amount), justify="right"),  # type: ignore[arg-type]
                key=str(index),
            )
        if self.cart.entries:
            table.move_cursor(row=min(row, len(self.cart.entries) - 1))
        title = self._("Cart")
        if self.cart.customer_name or self.cart.customer_email:
            title += " · " + (self.cart.customer_name or self.cart.customer_email or "")
        if self.cart.unlock_codes:
            title += " · " + ", ".join(self.cart.unlock_codes)
        self.query_one("#cart-title", Static).update(
            Text(title, style="bold", overflow="ellipsis", no_wrap=True)
        )
        shown = Text()
        if self.quote is not None and self.quote.totals.discount_cents:
            shown.append(self._("Discount") + " " + self.lang.money(-self.quote.totals.discount_cents) + "\n")
            total = self.quote.total_cents
        shown.append(self._("Total") + " " + self.lang.money(total), "bold")
        self.query_one("#total", Static).update(shown)

    # --- scans --------------------------------------------------------------------------------------------

    def route_scan(self, scanned: str) -> bool:
        """A scanner burst, wherever the focus is: ticket code, cart link or article barcode. It is never
        typed as keys: a code that is none of these, scanned on the tiles or the cart, is said to be unknown."""
        if looks_like_ticket_code(scanned):
            load_database_side()
            from pos.services.orders import order_of_ticket

            self.say(self._("Looking up ticket {code} ...").format(code=scanned))
            self.call_service(order_of_ticket, self.rt, self.actor, scanned, done=self._show_order)
            return True
        base = self.rt.config.cart_links.base_url
        if scanned.startswith((base, "pos://cart")):
            self.open_cart_link(scanned)
            return True
        field = self.focused if isinstance(self.focused, Input) else None
        self.call_service(
            article_by_code,
            self.rt,
            self.actor,
            scanned,
            done=lambda article: self._scanned(scanned, article, field),
        )
        return True

    def _scanned(self, code: str, article: ArticleView | None, field: Input | None) -> None:
        if article is not None:
            known = article.id in self.articles
            self.articles[article.id] = article
            if not known:  # added since the last reload: its group and tile come with the next one
                self.reload_articles()
            self.add(article.id)
        elif field is not None and field.id == "search":
            field.value = code  # a search typed as fast as a scanner (or a scanned word): search it
            self.add_found(code)
        elif field is not None and field.id == "unlock":
            field.value = code
            self.enter_unlock_code(code)
        else:
            self.refuse(
                self._(
                    "Unknown code {code}: no ticket, cart link or article has it. Nothing was added."
                ).format(code=code)
            )

    def _show_order(self, order: dict[str, object]) -> None:
        load_database_side()
        from pos.screens.order import OrderScreen

        self.say("")
        self.app.push_screen(OrderScreen(order), callback=lambda _changed: self.reload_articles())

    def open_cart_link(self, url: str) -> None:
        load_database_side()
        from pos.services.checkout import read_cart_link

        self.call_service(
            read_cart_link, self.rt, self.actor, url, done=lambda link: self._link_opened(url, link)
        )

    def _link_opened(self, url: str, link: CartLink) -> None:
        by_name = {article.name: article.id for article in self.articles.values()}
        entries = []
        for line in link.lines:
            article_id = line.article if isinstance(line.article, int) else by_name.get(line.article)
            if article_id is None or article_id not in self.articles:
                self.refuse(
                    self._("The cart link names an unknown article: {name}").format(name=line.article)
                )
                return
            entries.append(CartEntry(article_id, line.quantity, line.valid_from, line.valid_until))
        self.cart = Cart(
            entries=entries,
            link=url,
            link_promo=link.promo,
            customer_name=link.customer_name,
            customer_email=link.customer_email,
        )
        self.unlocked = frozenset()
        self.say(self._("Cart link opened."), ok=True)
        self.cart_changed()

    # --- leaving ------------------------------------------------------------------------------------------

    def action_pay(self) -> None:
        load_database_side()
        from pos.screens.payment import PaymentScreen

        if not self.cart.entries:
            self.refuse(self._("The cart is empty."))
            return
        self.app.push_screen(PaymentScreen(self.cart, self.articles), callback=self._payment_done)

    def _payment_done(self, sold: bool | None) -> None:
        if sold:
            self.action_clear_cart()
            self.reload_articles()
        self.query_one("#grid", ArticleGrid).focus()

    def cart_in_the_way(self) -> bool:
        """Leaving the sale screen (Z report, logout, another section) with a cart is refused, with the reason."""
        if self.cart.entries:
            self.refuse(self._("Finish the sale (F12) or clear the cart (Ctrl+L) first."))
            return True
        return False

    def action_close_shift(self) -> None:
        load_database_side()
        from pos.screens.shift import ShiftCloseScreen

        if self.cart_in_the_way():
            return
        if self.app.operator is not None and self.app.shift is not None:
            self.app.switch_screen(ShiftCloseScreen(self.app.operator, self.app.shift))

    def action_x_report(self) -> None:
        load_database_side()
        from pos.screens.shift import XReportScreen

        if self.app.shift is not None:
            self.app.push_screen(XReportScreen(self.app.shift.id))

    def action_cash(self) -> None:
        load_database_side()
        from pos.screens.shift import CashScreen

        if self.app.shift is not None:
            self.app.push_screen(CashScreen(self.app.shift.id))

    def action_logout(self) -> None:
        if not self.cart_in_the_way():
            self.app.show_login()
