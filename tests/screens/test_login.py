import pytest
from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import Shift
from pos.screens.app import PosApp
from tests.screens.helpers import keys, log_in, message, screen_text, settle


@pytest.mark.parametrize(
    ("language", "wrong", "opened"),
    [("en", "Wrong name or PIN.", "Open shift"), ("de", "Name oder PIN falsch.", "Schicht öffnen")],
)
async def test_login_opens_a_shift_then_resumes_it(make_shop, language, wrong, opened) -> None:
    shop = make_shop(language)
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert type(app.screen).__name__ == "LoginScreen"
        await keys(pilot, *"kasse", "enter", *"1111", "enter")
        assert message(pilot) == wrong
        assert app.screen.query_one("#pin").value == ""  # cleared for the next try
        assert app.screen.query_one("#pin").password  # masked
        await keys(pilot, *"0000", "enter")
        assert type(app.screen).__name__ == "ShiftOpenScreen"
        assert opened in str(app.screen.query_one(".box-title").render())
        await keys(pilot, *"150,50", "enter")
        assert type(app.screen).__name__ == "SaleScreen"
        assert app.operator.name == "kasse" and shop.operator == "kasse"
        await keys(pilot, "ctrl+o")
        assert type(app.screen).__name__ == "LoginScreen"
        await log_in(pilot, cash_float=None)
        assert type(app.screen).__name__ == "SaleScreen"  # the open shift is resumed
    with transaction(shop.engine) as session:
        shifts = list(session.exec(select(Shift)))
    assert [(s.float_cents, s.closed_at) for s in shifts] == [(15050, None)]


async def test_another_cashiers_open_shift_blocks_a_cashier_but_an_admin_closes_it(shop) -> None:
    from pos.services import operators
    from pos.services.till import open_shift
    from tests.factories import ADMIN

    operators.add_operator(shop, ADMIN, "anna", "cashier", "2222")
    open_shift(shop, operators.log_in(shop, "anna", "2222"), 5000)
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, cash_float=None)
        assert type(app.screen).__name__ == "LoginScreen"
        assert "anna" in message(pilot) and "still open" in message(pilot)
        await keys(pilot, "escape")
        await log_in(pilot, "admin", "1234", cash_float=None)
        assert type(app.screen).__name__ == "ShiftCloseScreen"
        await keys(pilot, *"50", "enter", "enter")  # the amount, then the confirmation
        assert app.screen.closed
        assert message(pilot) == "Z report printed. Enter: done."
        shown = screen_text(pilot)
        assert "Expected cash" in shown and "Difference" in shown and "€0.00" in shown
        await keys(pilot, "enter")
        assert type(app.screen).__name__ == "ShiftOpenScreen"  # the admin opens their own shift next
    with transaction(shop.engine) as session:
        shift = session.exec(select(Shift)).one()
    assert (shift.counted_cents, shift.closed_at is not None) == (5000, True)


async def test_a_database_without_operators_says_how_to_add_one(shop) -> None:
    from sqlmodel import delete

    from pos.db.models import Operator

    with transaction(shop.engine) as session:
        session.exec(delete(Operator))
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await keys(pilot, *"admin", "enter", *"1234", "enter")
        assert message(pilot) == "No operator exists yet; add one with `pos operator add NAME --role admin`."


async def test_a_second_app_with_the_same_terminal_name_is_refused(shop) -> None:
    from pos.services.till import claim_terminal

    held = claim_terminal(shop)  # the first app, still running
    try:
        app = PosApp(shop)
        said: list[str] = []
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(100):
                if app.return_code is not None:
                    said = [str(text) for text in app._exit_renderables]
                    break
                await pilot.pause(0.05)
        assert app.return_code == 2
        assert any("Terminal test-terminal is already running on this database" in text for text in said)
    finally:
        held.release()
    app = PosApp(shop)  # the first one ended: the name is free
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        assert type(app.screen).__name__ == "SaleScreen"


async def test_the_collector_is_back_on_once_the_app_has_loaded(shop) -> None:
    """`pos run` starts without the garbage collector (pos/__main__.py); the app must turn it back on."""
    import gc

    gc.disable()
    try:
        app = PosApp(shop)
        async with app.run_test(size=(80, 24)) as pilot:
            app._preloading.join(timeout=30)
            assert gc.isenabled()
            await log_in(pilot)
            assert type(app.screen).__name__ == "SaleScreen"
    finally:
        gc.enable()
        gc.unfreeze()


async def test_name_and_pin_typed_ahead_in_one_burst_log_in(shop) -> None:
    """ "kasse⏎0000⏎" arriving at once (typed ahead, pasted, or tmux send-keys): the PIN goes into the PIN field."""
    from textual import events

    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in [*"kasse", "enter", *"0000", "enter"]:
            app.post_message(events.Key(key, "\r" if key == "enter" else key))
        await settle(pilot)
        assert type(app.screen).__name__ == "ShiftOpenScreen", message(pilot)


async def test_the_safety_release_of_one_hold_does_not_cut_a_later_hold_short(shop) -> None:
    """Each Enter holds the keys typed after it until the focus has moved, with a 0.5 s safety release; the
    release of an earlier hold (long done) must not hand out the keys of a later one too early."""
    from textual import events

    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # an empty name: the hold ends at once, its safety release is still due
        await settle(pilot)
        screen = app.screen
        assert screen.held_keys is None
        screen.held_keys = [events.Key("1", "1")]  # a later hold, still waiting for its focus move
        await pilot.pause(0.7)
        assert screen.held_keys is not None, (
            "the earlier hold's safety release handed out the later hold's keys"
        )
        assert [key.key for key in screen.held_keys] == ["1"]
        screen.release_keys()
