"""The admin screens (role admin only): availability and repeat options of articles, promo codes, the
attendance export, and the sales and door reports.

Each change calls the audited service the matching `pos` command calls; the export runs in a worker thread
and reports its progress to a progress bar, so the screen stays live while a large list is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from pos.domain.clock import business_day, parse_date, parse_time
from pos.domain.money import parse_amount, parse_rate
from pos.domain.repeat import limit_json, parse_repeat
from pos.domain.values import MAX_COUNT, ascii_whole, parse_count
from pos.errors import PosError
from pos.i18n import N_
from pos.screens.backoffice import BackOfficeScreen, ConfirmDialog, FormDialog, FormField, fill_table
from pos.screens.base import footer
from pos.screens.door_conflicts import DoorConflictsScreen
from pos.screens.ticket_detail import repeat_dialog
from pos.screens.widgets import fit
from pos.services.articles import ArticleView, list_articles, set_availability
from pos.services.export import (
    AttendanceOptions,
    ExportExists,
    door_report,
    export_attendance_file,
    sales_report,
)
from pos.services.promos import PromoDefinition, add_promo, generate_promos, list_promos
from pos.services.tickets import Selection, reset, set_repeat
from pos.wording import promo_words, reason_name, repeat_words, tender_name

TABS = ("articles", "promos", "export", "reports")
TAB_ACTIONS = {
    "set_limit": "articles",
    "repeat": "articles",
    "reset_article": "articles",
    "add_promo": "promos",
    "generate_promos": "promos",
    "export": "export",
    "refresh_reports": "reports",
    "door_conflicts": "reports",
}


def split_list(text: str) -> list[str]:
    """'Konzert, #3' -> ['Konzert', '#3']; codes may also be separated by spaces or new lines."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class AdminScreen(BackOfficeScreen):
    SECTION = "admin"  # the app's section keys may leave this screen
    DEFAULT_CSS = """
    AdminScreen TabbedContent {
        height: 1fr;
    }
    AdminScreen TabPane {
        padding: 0;
    }
    AdminScreen DataTable {
        height: 1fr;
    }
    AdminScreen #article-detail {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    AdminScreen #export-form {
        grid-size: 2;
        grid-columns: 24 1fr;
        grid-rows: auto;
        grid-gutter: 0 1;
        height: auto;
        padding: 0 1;
    }
    AdminScreen #export-form Horizontal {
        height: auto;
    }
    AdminScreen #export-form Horizontal Input {
        width: 1fr;
        margin-right: 1;
    }
    AdminScreen #export-checks {
        height: auto;
        padding: 0 1;
    }
    AdminScreen #export-checks Checkbox {
        width: auto;
        margin-right: 2;
    }
    AdminScreen #export-progress {
        padding: 0 1;
        height: auto;
    }
    AdminScreen #report-range {
        height: auto;
        padding: 0 1;
    }
    AdminScreen #report-range Input {
        width: 16;
    }
    AdminScreen #report-range Label {
        padding: 0 1;
    }
    AdminScreen #reports-body {
        height: 1fr;
        padding: 0 1;
    }
    AdminScreen #message {
        height: auto;
        padding: 0 1;
    }
    AdminScreen #message.error {
        color: $error;
        text-style: bold;
    }
    """

    BINDINGS = [
        Binding("f1", "tab('articles')", N_("Tabs"), key_display="F1-4"),
        Binding("f2", "tab('promos')", show=False),
        Binding("f3", "tab('export')", show=False),
        Binding("f4", "tab('reports')", show=False),
        Binding("f5", "set_limit", N_("Limit"), key_display="F5"),
        Binding("f6", "repeat", N_("Repeat"), key_display="F6"),
        Binding("f7", "reset_article", N_("Reset"), key_display="F7"),
        Binding("f5", "add_promo", N_("New code"), key_display="F5"),
        Binding("f6", "generate_promos", N_("Generate"), key_display="F6"),
        Binding("f5", "export", N_("Export"), key_display="F5"),
        Binding("f5", "refresh_reports", N_("Show"), key_display="F5"),
        Binding("f8", "door_conflicts", N_("Conflicts"), key_display="F8"),
        Binding("f9", "ticket", N_("Ticket"), key_display="F9"),
        Binding("escape", "back", N_("Back"), key_display="Esc"),
    ]

    def __init__(self, *, tab: str = "articles") -> None:
        super().__init__()
        self.first_tab = tab
        self.articles: list[ArticleView] = []
        self.exporting = False
        self.written: int | None = None
        self.articles_pending = False

    # --- layout -----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        _ = self._
        yield Header()
        with TabbedContent(initial=self.first_tab, id="tabs"):
            with TabPane(_("Articles"), id="articles"):
                yield DataTable(id="article-table", cursor_type="row")
                yield Static("", id="article-detail")
            with TabPane(_("Promo codes"), id="promos"):
                yield DataTable(id="promo-table", cursor_type="row")
            with TabPane(_("Export"), id="export"):
                yield from self.compose_export()
            with TabPane(_("Reports"), id="reports"):
                with Horizontal(id="report-range"):
                    yield Label(_("From"))
                    yield Input(id="report-from", placeholder="2026-12-31", compact=True)
                    yield Label(_("to"))
                    yield Input(id="report-to", placeholder="2026-12-31", compact=True)
                with VerticalScroll(id="reports-body"):
                    yield Static("", id="sales-report")
                    yield Static("", id="door-report")
        yield Static("", id="message")
        yield footer()

    def compose_export(self) -> ComposeResult:
        _ = self._
        with VerticalScroll():
            with Grid(id="export-form"):
                yield Label(_("Format"))
                yield Select(
                    [("CSV", "csv"), ("JSON", "json"), ("XML", "xml")],
                    value="csv",
                    allow_blank=False,
                    id="export-format",
                    compact=True,
                )
                yield Label(_("Precision"))
                yield Select(
                    [(_("exact"), "exact"), (_("one per day"), "day"), (_("one per hour"), "hour")],
                    value="exact",
                    allow_blank=False,
                    id="export-precision",
                    compact=True,
                )
                yield Label(_("Articles (empty: all)"))
                yield Input(id="export-articles", placeholder=_("name or #ID, comma-separated"), compact=True)
                yield Label(_("From, to (optional)"))
                with Horizontal():
                    yield Input(id="export-from", placeholder="2026-12-31", compact=True)
                    yield Input(id="export-to", placeholder="2027-01-01", compact=True)
                yield Label(_("Output file"))
                yield Input(str(self.default_export_path()), id="export-path", compact=True)
            with Horizontal(id="export-checks"):
                yield Checkbox(_("Count merged"), id="export-count", compact=True)
                yield Checkbox(_("Without no-shows"), id="export-no-shows", compact=True)
                yield Checkbox(_("For Excel"), id="export-excel", compact=True)
            with Vertical(id="export-progress"):
                yield ProgressBar(total=1, id="export-bar", show_eta=False)
                yield Static("", id="export-status")
                yield Button(_("Export (F5)"), id="export-start", variant="primary", compact=True)

    def default_export_path(self, suffix: str = "csv") -> Path:
        """attendance-2026-12-31.csv in the data directory (mode 700), never the directory the app started in:
        the list holds names and e-mail addresses."""
        from pos.config import default_data_dir

        venue = self.rt.config.venue
        today = business_day(self.rt.now(), venue.zone, venue.day_start_minutes)
        return default_data_dir() / f"attendance-{today.isoformat()}.{suffix}"

    def on_mount(self) -> None:
        _ = self._
        if not self.is_admin:  # the app never opens it for a cashier; this screen refuses on its own too
            self.app.bell()
            self.action_back()
            return
        self.sub_title = _("Admin")
        today = business_day(self.rt.now(), self.rt.config.venue.zone, self.rt.config.venue.day_start_minutes)
        self.query_one("#report-from", Input).value = today.isoformat()
        self.query_one("#report-to", Input).value = today.isoformat()
        self.reload_articles()
        self.reload_promos()
        self.action_refresh_reports()

    @property
    def tab(self) -> str:
        return self.query_one("#tabs", TabbedContent).active

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_admin:
            return action == "back"
        wanted = TAB_ACTIONS.get(action)
        if wanted is None:
            return True
        if wanted != self.tab:
            return False
        if action == "export":
            return not self.exporting
        return True

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()
        if self.tab == "articles" and self.articles:
            self.call_after_refresh(self._show_articles_later)

    def action_tab(self, tab: str) -> None:
        self.say("")
        self.query_one("#tabs", TabbedContent).active = tab
        focus = {"articles": "#article-table", "promos": "#promo-table", "export": "#export-format"}
        if tab in focus:
            self.query_one(focus[tab]).focus()
        else:
            self.query_one("#report-from", Input).focus()
        self.refresh_bindings()

    def action_ticket(self) -> None:
        from pos.screens.ticket_detail import TicketDetailScreen

        self.app.push_screen(TicketDetailScreen())

    def action_door_conflicts(self) -> None:
        self.app.push_screen(DoorConflictsScreen())

    # --- articles: availability, repeat options, protocol reset -------------------------------------------

    def reload_articles(self, _result: object = None) -> None:
        self.call_service(list_articles, self.rt, self.actor, done=self.show_articles, group="articles")

    def show_articles(self, articles: list[ArticleView]) -> None:
        """ID, name, price, sold, available and repeat options; at 80 columns the name and the repeat words are
        shortened (the message line shows them in full for the article under the cursor)."""
        _ = self._
        self.articles = articles
        table = self.query_one("#article-table", DataTable)
        if not table.size.width:  # not laid out yet (or another tab is shown): the widths depend on it
            if self.tab == "articles" and not self.articles_pending:
                self.articles_pending = True
                self.call_after_refresh(self._show_articles_later)
            return
        row = table.cursor_row
        cells = [
            (
                str(article.id),
                article.name,
                self.lang.money(article.price_cents),
                str(article.sold),
                self.availability(article),
                self.repeat_text(article),
            )
            for article in articles
        ]
        name_width, repeat_width = self.flexible_widths(table, cells)
        fill_table(
            table,
            [
                ("id", _("ID")),
                ("name", _("Article")),
                ("price", _("Price")),
                ("sold", _("Sold")),
                ("left", _("Available")),
                ("repeat", _("Repeat")),
            ],
            (
                (
                    ident,
                    (
                        ident,
                        fit(name, name_width).rstrip(),
                        Text(price, justify="right"),
                        Text(sold, justify="right"),
                        Text(left, style="bold red" if article.remaining == 0 else "", justify="right"),
                        fit(repeat, repeat_width).rstrip(),
                    ),
                )
                for article, (ident, name, price, sold, left, repeat) in zip(articles, cells, strict=True)
            ),
        )
        if articles:
            table.move_cursor(row=min(row, len(articles) - 1))

    def on_resize(self) -> None:
        if self.articles:
            self.show_articles(self.articles)

    def _show_articles_later(self) -> None:
        self.articles_pending = False
        self.show_articles(self.articles)

    def availability(self, article: ArticleView) -> str:
        """'298 / 300', 'unlimited' or 'SOLD OUT'."""
        left = article.remaining
        if left is None:
            return self._("unlimited")
        if left == 0:
            return self._("SOLD OUT")
        return f"{left} / {article.stock_limit}"

    def repeat_text(self, article: ArticleView) -> str:
        if not article.is_ticket:
            return ""
        return repeat_words(self.lang, article.repeat, limit_json(article.repeat, article.repeat_limit))

    def flexible_widths(self, table: DataTable[Any], cells: Sequence[tuple[str, ...]]) -> tuple[int, int]:
        """Widths of the name and the repeat column that fit the table beside the fixed columns."""
        from rich.cells import cell_len

        _ = self._
        headers = (_("ID"), _("Article"), _("Price"), _("Sold"), _("Available"), _("Repeat"))
        widths = [max([cell_len(h), *(cell_len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
        room = table.size.width - 2 * len(headers) - 2  # cell padding, scrollbar
        fixed = widths[0] + widths[2] + widths[3] + widths[4]
        name, repeat = widths[1], widths[5]
        spare = room - fixed
        if name + repeat <= spare:
            return name, repeat
        name = max(min(name, spare - min(repeat, spare // 2)), 12)
        return name, max(spare - name, 10)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "article-table" and (article := self.selected_article()) is not None:
            repeat = self.repeat_text(article)
            detail = Text(f"#{article.id} {article.name}" + (f" · {repeat}" if repeat else ""), no_wrap=True)
            self.query_one("#article-detail", Static).update(detail)

    def selected_article(self) -> ArticleView | None:
        table = self.query_one("#article-table", DataTable)
        if not self.articles or not table.row_count:
            return None
        return self.articles[min(table.cursor_row, len(self.articles) - 1)]

    def action_set_limit(self) -> None:
        article = self.selected_article()
        if article is None:
            return
        _ = self._
        dialog = FormDialog(
            _("Availability of {name}").format(name=article.name),
            [
                FormField(
                    "limit",
                    _("Units in all (sold so far: {sold}); empty for unlimited").format(sold=article.sold),
                    value="" if article.stock_limit is None else str(article.stock_limit),
                    placeholder=_("unlimited"),
                )
            ],
        )
        self.app.push_screen(dialog, lambda answers: self._set_limit(article, answers))

    def _set_limit(self, article: ArticleView, answers: dict[str, Any] | None) -> None:
        if answers is None:
            return
        text = str(answers["limit"]).strip().lower()
        if text in ("", "unlimited", self._("unlimited").lower()):
            limit = None
        elif (number := ascii_whole(text)) is not None and number <= MAX_COUNT:
            limit = number
        else:
            self.refuse(self._("The limit must be a whole number, or empty for unlimited."))
            return
        self.call_service(
            set_availability, self.rt, self.actor, f"#{article.id}", limit, done=self._limit_set
        )

    def _limit_set(self, article: ArticleView) -> None:
        self.say(self._("Availability of {name} changed.").format(name=article.name))
        self.reload_articles()

    def action_repeat(self) -> None:
        article = self.selected_article()
        if article is None:
            return
        if not article.is_ticket:
            self.refuse(self._("{name} is not a ticket article.").format(name=article.name))
            return
        dialog = repeat_dialog(self.lang, article.repeat, limit_json(article.repeat, article.repeat_limit))
        dialog.fields.append(
            FormField(
                "codes",
                self._("Only these tickets (codes; empty: every ticket of {name})").format(name=article.name),
            )
        )
        self.app.push_screen(dialog, lambda answers: self._repeat(article, answers))

    def _repeat(self, article: ArticleView, answers: dict[str, Any] | None) -> None:
        if answers is None:
            return
        try:
            kind, limit = parse_repeat(str(answers["repeat"]), str(answers["limit"]) or None)
        except ValueError as exc:
            self.refuse(str(exc))
            return
        codes = split_list(str(answers.get("codes", "")).replace(" ", ","))
        selection = Selection(codes=codes) if codes else Selection(article=f"#{article.id}")
        self.call_service(set_repeat, self.rt, self.actor, selection, kind, limit, done=self._repeat_set)

    def _repeat_set(self, result: dict[str, Any]) -> None:
        self.say(
            self.lang.ngettext(
                "Repeat options of {n} ticket changed.",
                "Repeat options of {n} tickets changed.",
                result["tickets"],
            ).format(n=result["tickets"])
        )

    def action_reset_article(self) -> None:
        article = self.selected_article()
        if article is None or not article.is_ticket:
            self.app.bell()
            return
        question = self._(
            "Delete the repeat protocols of every ticket of {name}? First validations stay."
        ).format(name=article.name)

        def answered(yes: bool | None) -> None:
            if yes:
                self.call_service(
                    reset, self.rt, self.actor, Selection(article=f"#{article.id}"), done=self._reset_done
                )

        self.app.push_screen(ConfirmDialog(question), answered)

    def _reset_done(self, result: dict[str, Any]) -> None:
        self.say(
            self.lang.ngettext(
                "{n} protocol entry deleted.", "{n} protocol entries deleted.", result["entries_deleted"]
            ).format(n=result["entries_deleted"])
        )

    # --- promo codes ------------------------------------------------------------------------------------

    def reload_promos(self, _result: object = None) -> None:
        self.call_service(list_promos, self.rt, self.actor, done=self.show_promos, group="promos")

    def show_promos(self, promos: list[dict[str, Any]]) -> None:
        """Each code with what it does and to which tickets ('10 % off tickets'), its uses and validity."""
        _ = self._
        fill_table(
            self.query_one("#promo-table", DataTable),
            [
                ("code", _("Code")),
                ("does", _("Does")),
                ("used", _("Used")),
                ("left", _("Left")),
                ("valid", _("Valid until")),
            ],
            (
                (
                    promo["code"],
                    (
                        promo["code"],
                        promo_words(self.lang, promo),
                        f"{promo['used']} / {promo['uses']}",
                        Text(str(promo["left"]), style="bold red" if promo["left"] == 0 else ""),
                        promo["valid_until"][:16].replace("T", " ") if promo["valid_until"] else "",
                    ),
                )
                for promo in promos
            ),
        )

    def promo_fields(self, *, batch: bool) -> list[FormField]:
        _ = self._
        first = (
            [
                FormField("count", _("How many codes"), value="10"),
                FormField("prefix", _("Prefix"), placeholder="SPONSOR"),
            ]
            if batch
            else [FormField("code", _("Code"), placeholder="SUMMER10")]
        )
        return [
            *first,
            FormField("amount", _("Reduction by an amount"), placeholder=self.lang.amount(500)),
            FormField("percent", _("or by a percentage"), placeholder="10"),
            FormField("uses", _("Uses per code"), value="1"),
            FormField("unlocks", _("Unlocks hidden articles"), placeholder=_("name or #ID, comma-separated")),
            FormField("applies", _("Applies only to"), placeholder=_("empty: every ticket article")),
            FormField("valid_from", _("Valid from (optional)"), placeholder="2026-12-01T00:00"),
            FormField("valid_until", _("Valid until (optional)"), placeholder="2026-12-31T23:59"),
        ]

    def action_add_promo(self) -> None:
        self.app.push_screen(
            FormDialog(self._("Add a promo code"), self.promo_fields(batch=False)), self._add_promo
        )

    def action_generate_promos(self) -> None:
        dialog = FormDialog(self._("Generate promo codes"), self.promo_fields(batch=True), ok=N_("Generate"))
        self.app.push_screen(dialog, self._generate_promos)

    def promo_options(self, answers: dict[str, Any]) -> PromoDefinition:
        """What the dialog describes, for add_promo/generate_promos; ValueError with one sentence when wrong."""
        zone = self.rt.config.venue.zone
        uses = str(answers["uses"]).strip() or "1"
        if not 1 <= (ascii_whole(uses) or 0) <= MAX_COUNT:
            raise ValueError(self._("Uses must be a whole number of at least 1."))
        return PromoDefinition(
            amount_cents=parse_amount(answers["amount"]) if answers["amount"] else None,
            percent_bp=parse_rate(answers["percent"]) if answers["percent"] else None,
            uses=int(uses),
            unlocks=split_list(answers["unlocks"]),
            applies_to=split_list(answers["applies"]),
            valid_from=parse_time(answers["valid_from"], zone) if answers["valid_from"] else None,
            valid_until=parse_time(answers["valid_until"], zone) if answers["valid_until"] else None,
        )

    def _add_promo(self, answers: dict[str, Any] | None) -> None:
        if answers is None:
            return
        try:
            options = self.promo_options(answers)
        except ValueError as exc:
            self.refuse(str(exc))
            return
        self.call_service(
            add_promo, self.rt, self.actor, str(answers["code"]), options, done=self._promos_added
        )

    def _generate_promos(self, answers: dict[str, Any] | None) -> None:
        if answers is None:
            return
        try:
            options = self.promo_options(answers)
            count = parse_count(str(answers["count"]), self._("Count"), minimum=1, maximum=100_000)
        except ValueError as exc:
            self.refuse(str(exc))
            return
        self.call_service(
            generate_promos,
            self.rt,
            self.actor,
            count,
            options,
            prefix=str(answers["prefix"]),
            done=self._promos_added,
        )

    def _promos_added(self, added: dict[str, Any] | list[dict[str, Any]]) -> None:
        codes = [added] if isinstance(added, dict) else added
        if len(codes) == 1:
            self.say(self._("Promo code {code} added.").format(code=codes[0]["code"]))
        else:
            self.say(self._("{n} promo codes generated.").format(n=len(codes)))
        self.reload_promos()

    # --- attendance export ------------------------------------------------------------------------------

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "export-format":
            path = self.query_one("#export-path", Input)
            current = Path(path.value)
            if current.suffix.lstrip(".") in ("csv", "json", "xml"):
                path.value = str(current.with_suffix(f".{event.value}"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export-start":
            event.stop()
            self.action_export()

    def export_options(self) -> AttendanceOptions:
        fmt = str(self.query_one("#export-format", Select).value)
        days = {}
        for key, widget in (("date_from", "#export-from"), ("date_to", "#export-to")):
            text = self.query_one(widget, Input).value.strip()
            days[key] = parse_date(text) if text else None
        return AttendanceOptions(
            fmt=fmt,
            precision=str(self.query_one("#export-precision", Select).value),
            count=self.query_one("#export-count", Checkbox).value,
            exclude_no_shows=self.query_one("#export-no-shows", Checkbox).value,
            excel=self.query_one("#export-excel", Checkbox).value and fmt == "csv",
            articles=split_list(self.query_one("#export-articles", Input).value),
            **days,
        )

    def action_export(self, overwrite: bool = False) -> None:
        """Write the list; a file that exists is only overwritten after the admin said so."""
        if self.exporting:
            return
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.refuse(self._("Enter the file to write the list to."))
            return
        try:
            options = self.export_options()
        except ValueError as exc:
            self.refuse(str(exc))
            return
        self.exporting = True
        self.written = None
        self.refresh_bindings()
        bar = self.query_one("#export-bar", ProgressBar)
        bar.update(total=None, progress=0)
        self.query_one("#export-status", Static).update(self._("Exporting ..."))

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=max(total, 1), progress=done)

        self.call_service(
            export_attendance_file,
            self.rt,
            self.actor,
            path,
            options,
            progress=progress,
            overwrite=overwrite,
            make_directory=Path(path).expanduser().parent == self.default_export_path().parent,
            done=lambda written: self._exported(path, written),
            failed=self._export_failed,
            group="export",
        )

    def _exported(self, path: str, written: int) -> None:
        self.exporting = False
        self.written = written
        self.refresh_bindings()
        bar = self.query_one("#export-bar", ProgressBar)
        bar.update(total=max(written, 1), progress=max(written, 1))
        text = self.lang.ngettext(
            "{n} participant written to {path}.", "{n} participants written to {path}.", written
        ).format(n=written, path=path)
        self.query_one("#export-status", Static).update(text)
        self.say(text)

    def _export_failed(self, error: PosError) -> None:
        self.exporting = False
        self.refresh_bindings()
        self.query_one("#export-bar", ProgressBar).update(total=1, progress=0)  # no longer busy
        self.query_one("#export-status", Static).update("")
        if isinstance(error, ExportExists):
            question = self._("{path} exists already. Overwrite it?").format(
                path=self.query_one("#export-path", Input).value.strip()
            )

            def answered(yes: bool | None) -> None:
                if yes:
                    self.action_export(overwrite=True)
                else:
                    self.say(self._("Nothing was written; choose another file name."))
                    self.query_one("#export-path", Input).focus()

            self.app.push_screen(ConfirmDialog(question, yes=N_("Overwrite"), no=N_("Keep it")), answered)
            return
        self.show_error(error)

    # --- reports ----------------------------------------------------------------------------------------

    def report_days(self) -> tuple[date | None, date | None]:
        days = []
        for widget in ("#report-from", "#report-to"):
            text = self.query_one(widget, Input).value.strip()
            days.append(parse_date(text) if text else None)
        return days[0], days[1]

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("report-from", "report-to"):
            event.stop()
            self.action_refresh_reports()

    def action_refresh_reports(self) -> None:
        try:
            first, last = self.report_days()
        except ValueError as exc:
            self.refuse(str(exc))
            return
        self.call_service(
            sales_report,
            self.rt,
            self.actor,
            date_from=first,
            date_to=last,
            done=self.show_sales,
            group="sales",
        )
        self.call_service(
            door_report, self.rt, self.actor, date_from=first, date_to=last, done=self.show_door, group="door"
        )

    def show_sales(self, report: dict[str, Any]) -> None:
        from rich.table import Table

        _ = self._
        money = self.lang.money
        table = Table(title=_("Sales"), title_justify="left", expand=False)
        table.add_column(_("Article group"))
        table.add_column(_("Units"), justify="right")
        table.add_column(_("Total"), justify="right")
        for row in report["by_group"]:
            table.add_row(row["group"], str(row["units"]), money(row["total_cents"]))
        table.add_section()
        for row in report["by_payment"]:
            method = tender_name(self.lang, row["method"])
            orders = self.lang.ngettext("{method} ({n} order)", "{method} ({n} orders)", row["orders"])
            table.add_row(orders.format(method=method, n=row["orders"]), "", money(row["total_cents"]))
        table.add_section()
        table.add_row(
            Text(_("Total"), style="bold"),
            str(report["orders"]),
            Text(money(report["total_cents"]), style="bold"),
        )
        self.query_one("#sales-report", Static).update(table)

    def show_door(self, report: dict[str, Any]) -> None:
        from datetime import datetime

        from rich.table import Table

        _ = self._
        table = Table(title=_("Door"), title_justify="left", expand=False)
        table.add_column(_("What"))
        table.add_column(_("Count"), justify="right")
        table.add_row(_("Entries"), str(report["entries"]))
        table.add_row(_("  first entries"), str(report["first_entries"]))
        table.add_row(_("  re-entries"), str(report["re_entries"]))
        table.add_section()
        for row in report["entries_by_gate"]:
            table.add_row(_("Gate {gate}").format(gate=row["gate"] or "-"), str(row["entries"]))
            if row.get("offline_entries") or row.get("conflicts"):
                table.add_row(_("  offline entries"), str(row["offline_entries"]))
                table.add_row(_("  door conflicts (open)"), f"{row['conflicts']} ({row['open_conflicts']})")
        table.add_section()
        for row in report["entries_by_hour"]:
            hour = datetime.fromisoformat(row["hour"])
            table.add_row(f"{self.lang.datetime(hour)}", str(row["entries"]))
        table.add_section()
        table.add_row(_("Rejections"), str(report["rejections"]))
        for row in report["rejections_by_reason"]:
            table.add_row(f"  {reason_name(self.lang, row['reason'])}", str(row["count"]))
        self.query_one("#door-report", Static).update(table)
