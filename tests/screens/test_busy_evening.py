"""Issue 16, a busy evening at the till: one Pilot test (or a few) per numbered problem of the issue.

Each of these failed on the code before the fix: the number in the test name is the problem's number.
"""

from __future__ import annotations

import stat

from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import Shift
from pos.screens.app import PosApp
from pos.services.checkout import CartLine, SaleRequest
from tests.factories import add_article, add_promo, sell
from tests.screens.helpers import keys, log_in, message, names_in_grid, screen_text, settle


def group_key(app: PosApp, name: str) -> str:
    return f"f{app.screen.groups.index(name) + 1}"


def cart_names(app: PosApp) -> list[tuple[str, int]]:
    sale = app.screen
    return [(sale.articles[entry.article_id].name, entry.quantity) for entry in sale.cart.entries]


def pause_refresh(app: PosApp) -> None:
    """Stop the sale screen's periodic reload: what a scan finds must not depend on it."""
    for timer in app.screen._timers:
        timer.pause()


# --- 1. a scan is a scan ------------------------------------------------------------------------------------


async def test_1_an_unknown_barcode_is_said_to_be_unknown_and_adds_nothing(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Getränke"))
        await pilot.press(*"4009999999992", "enter")  # a scanner: every key within the burst window
        await settle(pilot)
        assert app.screen.cart.entries == []
        assert message(pilot) == (
            "Unknown code 4009999999992: no ticket, cart link or article has it. Nothing was added."
        )
        await keys(pilot, group_key(app, "Veranstaltungen"))
        await pilot.press(*"12345670", "enter")
        await settle(pilot)
        assert app.screen.cart.entries == []
        assert "12345670" in message(pilot)


async def test_1_an_ean_added_while_the_app_runs_scans_at_once(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        pause_refresh(app)
        add_article(shop, name="Sekt 0,1 l", price_cents=400, shop_group="Getränke", ean="4001234567891")
        await pilot.press(*"4001234567891", "enter")
        await settle(pilot)
        assert cart_names(app) == [("Sekt 0,1 l", 1)], message(pilot)
        assert message(pilot) == "Added: Sekt 0,1 l"


# --- 2. typing on the tiles ---------------------------------------------------------------------------------


async def test_2_typing_on_the_tiles_keeps_the_first_letter(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        assert app.focused is app.screen.query_one("#grid")
        await pilot.press("t", "a", "s")  # quicker than the burst window: held, then released together
        await settle(pilot)
        assert app.screen.query_one("#search").value == "tas"
        assert names_in_grid(pilot) == ["Tasse"]
        await keys(pilot, "enter")
        assert cart_names(app) == [("Tasse", 1)]


# --- 4. quitting with a sale open -----------------------------------------------------------------------------


async def test_4_quit_with_a_cart_or_an_open_payment_asks_first(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        assert "^Q Quit" in screen_text(pilot)
        await keys(pilot, group_key(app, "Getränke"), "1")
        await keys(pilot, "ctrl+q")
        assert type(app.screen).__name__ == "ConfirmDialog"
        assert "the cart holds 1 article" in screen_text(pilot)
        await keys(pilot, "escape")
        assert type(app.screen).__name__ == "SaleScreen" and len(app.screen.cart.entries) == 1
        await keys(pilot, "f12")
        assert type(app.screen).__name__ == "PaymentScreen"
        await keys(pilot, "ctrl+q")
        assert type(app.screen).__name__ == "ConfirmDialog"
        await keys(pilot, "f2")
        assert app.return_code == 0 and not app.is_running


async def test_4_quit_with_an_empty_cart_quits_at_once(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, "ctrl+q")
        assert not app.is_running


# --- 7. shop groups keep their keys ---------------------------------------------------------------------------


async def test_7_a_new_shop_group_never_moves_the_f_keys(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        before = list(app.screen.groups)
        add_article(shop, name="Aperol Spritz", price_cents=750, shop_group="Bar")  # sorts first by name
        app.screen.reload_articles()
        await settle(pilot)
        assert app.screen.groups == [*before, "Bar"]
        await keys(pilot, f"f{len(before) + 1}")
        assert names_in_grid(pilot) == ["Aperol Spritz"]


async def test_7_an_article_without_groups_goes_into_a_german_default_group(make_shop) -> None:
    shop = make_shop("de")
    add_article(shop, name="Gutschein", price_cents=1000)
    add_article(shop, name="Lesung 12.01.2027", price_cents=1500, is_ticket=True)
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        assert app.screen.groups[-1] == "Allgemein"
        assert "Events" not in app.screen.groups and "General" not in app.screen.groups
        await keys(pilot, group_key(app, "Allgemein"))
        assert names_in_grid(pilot) == ["Gutschein"]
        await keys(pilot, group_key(app, "Veranstaltungen"))
        assert "Lesung 12.01.2027" in names_in_grid(pilot)


# --- 8. everything fits 80x24 -------------------------------------------------------------------------------


def keys_cut_off(pilot) -> list[str]:
    """Footer entries ('^G Einlass') of the current screen that the terminal does not show in full."""
    shown = screen_text(pilot)
    entries: dict[str, str] = {}
    for _node, binding, _enabled, _tooltip in pilot.app.screen.active_bindings.values():
        if binding.show and binding.action not in entries:
            entries[binding.action] = f"{pilot.app.get_key_display(binding)} {binding.description}"
    return [entry for entry in entries.values() if entry not in shown]


async def test_8_no_footer_ends_in_a_cut_label_at_80x24(make_shop) -> None:
    shop = make_shop("de")
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "admin", "1234", till=False)
        assert keys_cut_off(pilot) == []
        await keys(pilot, "enter", *"100", "enter")
        assert type(app.screen).__name__ == "SaleScreen"
        assert keys_cut_off(pilot) == []
        await keys(pilot, "1")  # with a cart: pay and clear come in
        assert keys_cut_off(pilot) == [] and "F12 Zahlen" in screen_text(pilot)
        await keys(pilot, "ctrl+l")
        for section in ("ctrl+r", "ctrl+t", "ctrl+g"):
            await keys(pilot, section)
            assert keys_cut_off(pilot) == [], type(app.screen).__name__


async def test_8_the_admin_articles_table_keeps_its_repeat_column_at_80x24(make_shop) -> None:
    shop = make_shop("de")
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "admin", "1234", till=False)
        await keys(pilot, "ctrl+t")
        shown = screen_text(pilot)
        header = next(line for line in shown.splitlines() if "Artikel" in line and "Preis" in line)
        assert "Wiederholung" in header and "Verfügbar" in header
        sauna = next(line for line in shown.splitlines() if "10er-Karte Sauna" in line)
        assert "jederzeit, 9" in sauna and "unbegrenzt" in sauna
        assert max(len(line.rstrip()) for line in shown.splitlines()) <= 80


async def test_8_the_new_promo_dialog_shows_every_field_at_80x24(make_shop) -> None:
    from textual.containers import VerticalScroll

    shop = make_shop("de")
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "admin", "1234", till=False)
        for tab, key in (("f2", "f5"), ("f2", "f6")):
            await keys(pilot, "ctrl+t", tab, key)
            dialog = app.screen
            assert dialog.query_one(VerticalScroll).max_scroll_y == 0  # nothing hidden behind a scrollbar
            shown = screen_text(pilot)
            for label in (
                "Nutzungen pro Code",
                "Gilt nur für",
                "Gültig ab (optional)",
                "Gültig bis (optional)",
            ):
                assert label in shown
            screen_area = app.screen.region
            for field in dialog.query("Input"):
                assert screen_area.contains_region(field.region), field.id
            await keys(pilot, "escape", "escape")


# --- 9. every key shown works, every key that works is shown --------------------------------------------------


async def test_9_one_tab_reaches_the_cart_and_the_digits_still_add(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Getränke"), "1")
        assert "Tab Cart" in screen_text(pilot)
        await keys(pilot, "tab")
        assert app.focused is app.screen.query_one("#cart")
        assert "Tab Articles" in screen_text(pilot)
        await keys(pilot, "2", "+")
        assert cart_names(app) == [("Wasser 0,5 l", 2), ("Bier 0,5 l", 1)]  # + on the cart's first line
        await keys(pilot, "tab")
        assert app.focused is app.screen.query_one("#grid")
        await keys(pilot, "tab", "c", "o", "l")  # letters in the cart start a search, as on the tiles
        assert app.focused is app.screen.query_one("#search") and names_in_grid(pilot) == ["Cola 0,33 l"]


async def test_9_leaving_keys_with_a_full_cart_say_why_not(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Getränke"), "1")
        shown = screen_text(pilot)
        assert "^G Door" in shown and "^O Logout" in shown
        for key in ("ctrl+g", "ctrl+o", "ctrl+r", "ctrl+b"):
            await keys(pilot, key)
            assert type(app.screen).__name__ == "SaleScreen"
            assert message(pilot) == "Finish the sale (F12) or clear the cart (Ctrl+L) first."


async def test_9_a_message_goes_when_its_cause_is_gone(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Getränke"), "3")
        assert message(pilot) == "Added: Cola 0,33 l"
        await keys(pilot, "tab", "delete")
        assert app.screen.cart.entries == []
        assert message(pilot) == "Removed: Cola 0,33 l"
        await keys(pilot, "f9")
        assert message(pilot) == ""


async def test_9_keys_without_a_target_say_so(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Getränke"), "9")
        assert message(pilot) == "No article has the key 9 here."
        await keys(pilot, "f8")
        assert message(pilot) == "F8 has no shop group."
        await keys(pilot, "f9", *"xyz", "enter")
        assert message(pilot) == "No article matches 'xyz'."


# --- 10. codes say what they apply to -------------------------------------------------------------------------


async def test_10_codes_say_which_tickets_they_reduce(make_shop) -> None:
    shop = make_shop("de")
    add_promo(shop, "VIPSAVE", unlocks=["Konzert VIP"], percent_bp=1000, uses=5)
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, "f10", "s", "a", "v", "e", "1", "0", "enter")
        assert message(pilot) == (
            "Code SAVE10 (10 % auf Tickets) senkt Preise; bitte beim Bezahlen eingeben."
        )
        await keys(pilot, "f10", "v", "i", "p", "s", "a", "v", "e", "enter")
        assert message(pilot) == "Code VIPSAVE: schaltet Konzert VIP frei und 10 % auf Tickets."


async def test_10_the_admin_promo_list_says_what_each_code_does(make_shop) -> None:
    shop = make_shop("de")
    add_promo(shop, "KIND5", amount_cents=500, applies_to=["Konzert Kind"])
    app = PosApp(shop)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "admin", "1234", till=False)
        await keys(pilot, "ctrl+t", "f2")
        shown = screen_text(pilot).replace("\xa0", " ")
        assert "10 % auf Tickets" in shown  # SAVE10
        assert "5,00 € je Ticket von Konzert Kind" in shown
        assert "schaltet Konzert VIP frei" in shown


# --- 11. the file printer and the export keep what they wrote --------------------------------------------


async def test_11_the_file_printer_appends_and_keeps_its_file_private(make_shop, tmp_path) -> None:
    out = tmp_path / "printer.bin"
    shop = make_shop(printer={"kind": "file", "path": str(out)})
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        for _ in range(2):
            await keys(pilot, group_key(app, "Veranstaltungen"), "3", "f12")
            await keys(pilot, "f5")
            assert app.screen.result is not None, message(pilot)
            await keys(pilot, "enter")
    from pos.db.models import Ticket

    with transaction(shop.engine) as session:
        codes = [ticket.code for ticket in session.exec(select(Ticket).order_by(Ticket.id)).all()]
    assert len(codes) == 2
    data = out.read_bytes()
    assert codes[0].encode() in data, "the first order's ticket was overwritten by the second order's"
    assert data.index(codes[0].encode()) < data.index(codes[1].encode())  # one job after the other
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


async def test_11_the_export_goes_to_the_data_directory_and_never_overwrites_unasked(
    shop, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "admin", "1234", till=False)
        await keys(pilot, "ctrl+t", "f3")
        admin = app.screen
        target = tmp_path / "data" / "pos" / "attendance-2026-12-31.csv"
        assert admin.query_one("#export-path").value == str(target)
        await keys(pilot, "f5")
        assert admin.written == 0 and target.exists()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        target.write_text("keep me", encoding="utf-8")
        await keys(pilot, "f5")
        assert type(app.screen).__name__ == "ConfirmDialog"
        assert "Overwrite it?" in screen_text(pilot)
        await keys(pilot, "escape")
        assert target.read_text(encoding="utf-8") == "keep me"
        await keys(pilot, "f5")
        await keys(pilot, "f2")
        assert target.read_text(encoding="utf-8") != "keep me"


# --- 12. assortments ------------------------------------------------------------------------------------------


async def test_12_a_terminal_offers_and_sells_only_its_assortments(make_shop) -> None:
    shop = make_shop(terminal={"assortments": ["default"]})
    add_article(
        shop, name="Sekt 0,1 l", price_cents=400, shop_group="Getränke", assortment="bar", ean="4001234567891"
    )
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Getränke"))
        assert "Sekt 0,1 l" not in names_in_grid(pilot)
        await keys(pilot, "f9", *"sekt")
        assert names_in_grid(pilot) == []
        await keys(pilot, "escape")
        await pilot.press(*"4001234567891", "enter")
        await settle(pilot)
        assert app.screen.cart.entries == []
        assert message(pilot) == "Sekt 0,1 l is not sold at this terminal (assortment bar)."


def test_12_sell_obeys_the_terminal_assortments(make_shop) -> None:
    import pytest

    from pos.errors import Refused

    shop = make_shop(terminal={"assortments": ["bar"]})
    add_article(shop, name="Sekt 0,1 l", price_cents=400, assortment="bar")
    assert sell(shop, SaleRequest(lines=[CartLine("Sekt 0,1 l")], print_tickets=False)).total_cents == 400
    with pytest.raises(Refused, match=r"Bier 0,5 l is not sold at this terminal \(assortment default\)"):
        sell(shop, SaleRequest(lines=[CartLine("Bier 0,5 l")], print_tickets=False))


# --- 13. admins without a shift, the latest orders ---------------------------------------------------------


async def test_13_an_admin_reaches_the_admin_screens_without_a_cash_shift(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "admin", "1234", till=False)
        assert type(app.screen).__name__ == "AdminStartScreen"
        assert "Till: open a cash shift" in screen_text(pilot)
        await keys(pilot, "ctrl+t")
        assert type(app.screen).__name__ == "AdminScreen"
        await keys(pilot, "escape")
        assert type(app.screen).__name__ == "AdminStartScreen"
        await keys(pilot, "enter")
        assert type(app.screen).__name__ == "ShiftOpenScreen"
    with transaction(shop.engine) as session:
        assert session.exec(select(Shift)).all() == []


async def test_13_the_orders_screen_opens_with_the_latest_orders_and_reprints_the_last_receipt(
    shop, clock
) -> None:
    from datetime import timedelta

    first = sell(shop, SaleRequest(lines=[CartLine("Bier 0,5 l")], print_tickets=False))
    clock.now += timedelta(minutes=5)
    last = sell(shop, SaleRequest(lines=[CartLine("Konzert Kind")], print_tickets=False))
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, "ctrl+r")
        orders = app.screen
        hits = orders.query_one("#hits")
        assert [hits.get_row_at(i)[0] for i in range(hits.row_count)] == [
            f"#{last.order_id}",
            f"#{first.order_id}",
        ]
        assert message(pilot) == "The latest 2 orders, newest first; type to find others."
        assert "F6 Last receipt" in screen_text(pilot)
        await keys(pilot, "f6")
        assert message(pilot) == "Order reprinted."
