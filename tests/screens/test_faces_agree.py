"""One rule, one sentence: the same refusal through `pos` (the CLI) and through the cashier app (the Pilot).

Each rule lives in pos/domain or pos/services once; both faces call it, so they answer alike. These are the rules
that used to be written twice and disagreed (availability, hidden articles, cash given, the guest's name).
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import Article
from pos.runtime import Runtime
from pos.screens.app import PosApp
from pos.services.articles import set_availability
from tests.conftest import PosCommand
from tests.factories import ADMIN
from tests.screens.helpers import keys, log_in, message, names_in_grid
from tests.screens.test_sale import group_key, quick_key


def cli_error(shop: Runtime, config_file: Path, *args: str) -> str:
    result = PosCommand(shop.database_url, config_file)(*args)
    assert result.returncode == 2, result.stderr
    line = result.stderr.strip()
    assert line.startswith("Error: ") and "\n" not in line
    return line.removeprefix("Error: ")


async def test_sold_out_and_only_n_left(shop: Runtime, config_file: Path) -> None:
    set_availability(shop, ADMIN, "T-Shirt Größe M", 2)
    app = PosApp(shop)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Veranstaltungen"))
        await keys(pilot, quick_key(pilot, "Konzert Frühbucher"))
        sold_out = message(pilot)
        await keys(pilot, group_key(app, "Merchandise"))
        shirt = quick_key(pilot, "T-Shirt Größe M")
        await keys(pilot, shirt, shirt, shirt)
        only = message(pilot)
    assert (
        sold_out
        == "Konzert Frühbucher is sold out."
        == cli_error(shop, config_file, "sell", "Konzert Frühbucher")
    )
    assert (
        only == "Only 2 of T-Shirt Größe M left." == cli_error(shop, config_file, "sell", "T-Shirt Größe M:3")
    )


async def test_a_hidden_article_needs_its_unlock_code(shop: Runtime, config_file: Path) -> None:
    with transaction(shop.engine) as session:
        vip = session.exec(select(Article).where(Article.name == "Konzert VIP")).one()
        vip.ean = "4006381333948"
    app = PosApp(shop)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(pilot)
        assert "Konzert VIP" not in names_in_grid(pilot)
        assert app.screen.route_scan("4006381333948")  # its barcode, scanned
        await keys(pilot)
        hidden = message(pilot)
    assert hidden == "Konzert VIP is hidden; enter an unlock code for it."
    assert hidden == cli_error(shop, config_file, "sell", "Konzert VIP")


async def test_cash_given_below_the_total_and_a_guest_email_without_a_name(
    shop: Runtime, config_file: Path
) -> None:
    app = PosApp(shop)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Getränke"))
        await keys(pilot, quick_key(pilot, "Bier 0,5 l"), "f12")
        await keys(pilot, "f4", "enter", *"gast@example.org", "f5")
        no_name = message(pilot)
        app.screen.query_one("#name").value = "Gast"
        await keys(pilot, "f3", "9", "f6")
        card_over = message(pilot)
        assert app.screen.result is None  # nothing was sold
    assert no_name == "A guest e-mail needs the guest's name too."
    assert no_name == cli_error(
        shop, config_file, "sell", "Bier 0,5 l", "--customer-email", "gast@example.org"
    )
    assert card_over == "Card pays at most what is due (4.50); only cash gives change."
    assert card_over == cli_error(shop, config_file, "sell", "Bier 0,5 l", "--pay", "card:9")
