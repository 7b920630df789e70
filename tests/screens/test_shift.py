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
        await keys(pilot, *"170", "enter")
        shown = screen_text(pilot)
        assert "Soll-Bestand bar" in shown and "170,00\xa0€" in shown and "Differenz" in shown
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
