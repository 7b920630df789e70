"""The cashier app retries waiting ticket mails in the background while it runs (an SMTP outage loses nothing)."""

import asyncio

from pos.screens.app import PosApp
from pos.services.checkout import CartLine, SaleRequest
from tests.factories import sell
from tests.services.test_mail import smtp_server  # noqa: F401  (fixture)


async def test_app_sends_waiting_mails_in_the_background(make_shop, smtp_server) -> None:  # noqa: F811
    shop = make_shop(smtp={"host": "127.0.0.1", "port": smtp_server.port, "security": "none"})
    sold = sell(
        shop,
        SaleRequest([CartLine("Konzert Erwachsene", 2)], guest_name="Anna", guest_email="anna@example.org",
                    print_tickets=False),
    )  # fmt: skip
    assert smtp_server.inbox.messages == []  # queued by the sale, not sent by it
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(100):
            if len(smtp_server.inbox.messages) == 2:
                break
            await asyncio.sleep(0.1)
        await pilot.pause()
    texts = " ".join(message.get_body(("plain",)).get_content() for message in smtp_server.inbox.messages)
    assert all(code in texts for code in sold.ticket_codes)
    assert len(smtp_server.inbox.messages) == 2
