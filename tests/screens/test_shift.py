from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import PrintJob, Shift
from pos.screens.app import PosApp
from tests.screens.helpers import keys, log_in, message, screen_text
from tests.screens.test_sale import group_key, quick_key


async def test_close_own_shift_shows_and_prints_the_z_report(make_shop) -> None:
    shop = make_shop("de")
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, cash_float="150")
        await keys(pilot, group_key(app, "Veranstaltungen"))
        await keys(pilot, quick_key(pilot, "Konzert Kind"), "f12")
        await keys(pilot, "f3", *"50", "f5")  # 20,00 € paid with 50,00 €: 30,00 € change
        assert app.screen.result.payment.change_cents == 3000
        await keys(pilot, "enter", "ctrl+b")
        assert type(app.screen).__name__ == "ShiftCloseScreen"
        await keys(pilot, "enter")  # a bare Enter is not a count: nothing closes
        assert message(pilot) == "Tippen Sie das gezählte Bargeld ein; eine leere Eingabe ist keine Zählung."
        assert not app.screen.closed
        await keys(pilot, *"169", "enter")  # the first Enter asks, showing the difference
        assert message(pilot).startswith("Schicht mit 169,00\xa0€ gezählt schließen (Differenz -1,00\xa0€)?")
        await keys(pilot, "escape")  # back to the amount; nothing closed
        assert not app.screen.closed and type(app.screen).__name__ == "ShiftCloseScreen"
        await keys(pilot, "backspace", "backspace", "7", "0", "enter", "enter")
        assert app.screen.closed
        shown = screen_text(pilot)
        for words in ("Rückgeld gegeben", "Soll-Bestand bar", "170,00\xa0€", "Differenz", "Z-Bon 1"):
            assert words in shown, words  # all on the 80x24 screen, none behind a scrollbar
        assert message(pilot) == "Z-Bon gedruckt. Enter: fertig."
        await keys(pilot, "enter")
        assert type(app.screen).__name__ == "LoginScreen"
    with transaction(shop.engine) as session:
        shift = session.exec(select(Shift)).one()
        kinds = [job.kind for job in session.exec(select(PrintJob))]
    assert (shift.float_cents, shift.counted_cents) == (15000, 17000)
    assert "zreport" in kinds


async def test_the_cart_must_be_empty_to_close_the_shift_or_log_out(shop) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, "1", "ctrl+b", "ctrl+o")
        assert type(app.screen).__name__ == "SaleScreen"
        assert "^B" not in screen_text(pilot).splitlines()[-1]  # not offered while the cart holds something
        await keys(pilot, "ctrl+l", "ctrl+o")
        assert type(app.screen).__name__ == "LoginScreen"
