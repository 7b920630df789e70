"""Admin screen: availability, repeat options in bulk, promo codes, reports; each through the audited service."""

from __future__ import annotations

from sqlmodel import col, select

from pos.db.articles import find_article
from pos.db.engine import transaction
from pos.db.models import AuditLog, PromoCode, Ticket
from pos.db.redemption import redeem
from pos.screens.admin import AdminScreen
from pos.screens.backoffice import FormDialog
from tests.factories import add_promo, issue_tickets, ticket_article
from tests.screens.backoffice_app import HostApp, screen_text, wait_until


def last_action(rt) -> str:
    with transaction(rt.engine) as session:
        return session.exec(select(AuditLog.action).order_by(col(AuditLog.id).desc())).first()


async def ready(pilot) -> None:
    await wait_until(pilot, lambda: pilot.app.screen.articles)
    await pilot.pause()


async def dialog(pilot) -> FormDialog:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, FormDialog))
    return pilot.app.screen


async def test_set_availability_of_the_selected_article(sqlite_rt) -> None:
    ticket_article(sqlite_rt, "Konzert 15.01.2027", stock_limit=100)
    app = HostApp(sqlite_rt, AdminScreen())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f5")
        form = await dialog(pilot)
        form.query_one("#field-limit").value = ""
        await pilot.press(*"250", "enter")
        await wait_until(pilot, lambda: "Availability of Konzert 15.01.2027 changed." in screen_text(app))
        await pilot.press("f5")
        await dialog(pilot)
        app.screen.query_one("#field-limit").value = ""
        await pilot.press("enter")
        await wait_until(pilot, lambda: "unlimited" in screen_text(app))
    with transaction(sqlite_rt.engine) as session:
        assert find_article(session, "Konzert 15.01.2027").stock_limit is None
    assert last_action(sqlite_rt) == "article.set_availability"


async def test_repeat_options_by_article_and_by_selection(sqlite_rt) -> None:
    article = ticket_article(sqlite_rt, "Tageskarte")
    tickets = issue_tickets(sqlite_rt, article, 3)
    app = HostApp(sqlite_rt, AdminScreen())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f6")
        form = await dialog(pilot)
        form.query_one("#field-repeat").value = "same-day"
        await pilot.press("f2")
        await wait_until(pilot, lambda: "Repeat options of 3 tickets changed." in screen_text(app))
        await pilot.press("f6")
        form = await dialog(pilot)
        form.query_one("#field-repeat").value = "anytime"
        form.query_one("#field-limit").value = "9"
        form.query_one("#field-codes").value = tickets[0].code
        await pilot.press("f2")
        await wait_until(pilot, lambda: "Repeat options of 1 ticket changed." in screen_text(app))
    with transaction(sqlite_rt.engine) as session:
        rows = session.exec(select(Ticket.repeat, Ticket.repeat_limit).order_by(col(Ticket.id))).all()
    assert rows == [("anytime", 9), ("same-day", None), ("same-day", None)]
    assert last_action(sqlite_rt) == "ticket.set_repeat"


async def test_reset_protocols_of_an_article(sqlite_rt) -> None:
    card = ticket_article(sqlite_rt, "Saisonkarte", repeat="anytime")
    ticket = issue_tickets(sqlite_rt, card)[0]
    for _ in range(3):
        redeem(sqlite_rt, ticket.code)
    app = HostApp(sqlite_rt, AdminScreen())
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await pilot.press("f7", "f2")
        await wait_until(pilot, lambda: "2 protocol entries deleted." in screen_text(app))
    assert last_action(sqlite_rt) == "ticket.reset"


async def test_promo_codes_added_generated_and_their_uses_shown(sqlite_rt) -> None:
    ticket_article(sqlite_rt, "Konzert VIP", hidden=True)
    add_promo(sqlite_rt, "OLD5", amount_cents=500, uses=3)
    app = HostApp(sqlite_rt, AdminScreen(tab="promos"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "OLD5" in screen_text(app))
        await pilot.press("f5")
        form = await dialog(pilot)
        form.query_one("#field-code").value = "vip2027"
        form.query_one("#field-unlocks").value = "Konzert VIP"
        form.query_one("#field-percent").value = "10"
        form.query_one("#field-uses").value = "20"
        await pilot.press("f2")
        await wait_until(pilot, lambda: "Promo code VIP2027 added." in screen_text(app))
        await wait_until(pilot, lambda: "Konzert VIP" in screen_text(app))
        await pilot.press("f6")
        form = await dialog(pilot)
        form.query_one("#field-count").value = "5"
        form.query_one("#field-prefix").value = "sponsor"
        form.query_one("#field-amount").value = "5.00"
        await pilot.press("f2")
        await wait_until(pilot, lambda: "5 promo codes generated." in screen_text(app))
        await pilot.press("f5")
        form = await dialog(pilot)
        form.query_one("#field-code").value = "bad code!"
        await pilot.press("f2")
        await wait_until(pilot, lambda: "Promo code 'bad code!' must be 1 to" in screen_text(app))
    with transaction(sqlite_rt.engine) as session:
        codes = session.exec(select(PromoCode.code)).all()
    assert "VIP2027" in codes and sum(code.startswith("SPONSOR-") for code in codes) == 5


async def test_reports_show_sales_and_door_tables(sqlite_rt) -> None:
    ticket = issue_tickets(sqlite_rt, ticket_article(sqlite_rt, "Silvester 31.12.2026"))[0]
    redeem(sqlite_rt, ticket.code)
    redeem(sqlite_rt, ticket.code)
    app = HostApp(sqlite_rt, AdminScreen(tab="reports"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "Rejections" in screen_text(app))
        text = screen_text(app)
        assert "General" in text and "€50.00" in text
        assert "already_redeemed" in text
        assert "Gate north" in text


async def test_cashier_gets_nothing_from_the_admin_screen(sqlite_rt) -> None:
    from textual.screen import Screen

    class Start(Screen):
        pass

    app = HostApp(sqlite_rt, Start(), role="cashier")
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(AdminScreen())
        await pilot.pause(0.2)
        assert not isinstance(app.screen, AdminScreen)
