import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import select

from pos.db.engine import transaction
from pos.db.models import PrintJob
from pos.screens.app import PosApp
from tests.screens.helpers import keys, log_in, message
from tests.screens.test_sale import group_key, quick_key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def printer_on(port: int) -> Iterator[list[bytes]]:
    """A raw TCP 'printer' on the loopback: it keeps every byte it is sent."""
    received: list[bytes] = []

    class Job(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            while chunk := self.request.recv(65536):
                received.append(chunk)

    socketserver.TCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", port), Job) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield received
        finally:
            server.shutdown()


async def test_print_failure_names_what_did_not_print_then_retry_prints_it(make_shop) -> None:
    port = free_port()
    printer = {"kind": "network", "host": "127.0.0.1", "port": port, "timeout": 1.0, "status_check": False}
    shop = make_shop(printer=printer)
    app = PosApp(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot)
        await keys(pilot, group_key(app, "Veranstaltungen"))
        await keys(pilot, quick_key(pilot, "Konzert Kind"), "f12")
        await keys(pilot, "f5")
        pay = app.screen
        assert pay.result is not None
        shown = message(pilot)
        assert shown.startswith("Not printed: Ticket 1000") and "Receipt" in shown and "F8: retry" in shown
        assert pay.print_retry
        with printer_on(port) as received:
            await keys(pilot, "f8")
            assert message(pilot) == "Printed. Enter: next sale.", message(pilot)
        printed = b"".join(received)
        assert len(printed) > 100
        assert b"\x1bp" in printed  # a cash payment kicks the drawer on the receipt printer
        await keys(pilot, "enter")
        assert type(app.screen).__name__ == "SaleScreen"
    with transaction(shop.engine) as session:
        jobs = list(session.exec(select(PrintJob)))
    assert {job.kind for job in jobs} >= {"ticket", "receipt"}
    assert {job.status for job in jobs} == {"done"}
