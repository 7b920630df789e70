from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from pos.screens.app import PosApp
from pos.services.cart_links import LinkRequest, create_cart_link
from tests.factories import ADMIN
from tests.screens.helpers import keys, log_in, message, scanner_burst
from tests.screens.test_printing import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(BytesParser(policy=default).parsebytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


async def test_tickets_go_by_e_mail_from_the_payment_screen(make_shop, inbox) -> None:
    box, port = inbox
    shop = make_shop("de", smtp={"host": "127.0.0.1", "port": port, "security": "none"})
    _link, url = create_cart_link(
        shop,
        ADMIN,
        LinkRequest(items=["Konzert Kind:2"], customer_name="Gast", customer_email="gast@example.org"),
    )
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        # The app's background sender retries due mails every 10 s; on a loaded machine it would send these
        # before F7 does. This test is about F7, so the background sender stops here.
        app._mail_stop.set()
        await scanner_burst(pilot, url)
        await keys(pilot, "f12")
        await keys(pilot, "f5")
        assert app.screen.result is not None, message(pilot)
        await keys(pilot, "f7")
        assert message(pilot) == "2 E-Mails gesendet."
        await keys(pilot, "f7")
        assert message(pilot) == "Keine E-Mail wartete auf den Versand."
    assert len(box.messages) == 2
    assert {m["To"] for m in box.messages} == {"gast@example.org"}
