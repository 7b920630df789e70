"""The printer factory: python-escpos' own classes per `[printer] kind`, faults as one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from escpos import printer as escpos_printer

from pos.config import Printer
from pos.devices.printers import PrinterFault, PrinterLink, make_printer
from tests.printing.fixtures import FakePrinter, free_port


def test_each_kind_maps_to_the_escpos_class_with_its_settings(tmp_path: Path) -> None:
    file = make_printer(Printer(kind="file", path=str(tmp_path / "out.bin")))
    assert isinstance(file, escpos_printer.File) and file.devfile == str(tmp_path / "out.bin")
    network = make_printer(Printer(kind="network", host="10.0.0.5", port=9101, timeout=3.5))
    assert isinstance(network, escpos_printer.Network)
    assert (network.host, network.port, network.timeout) == ("10.0.0.5", 9101, 3.5)
    serial = make_printer(Printer(kind="serial", device="/dev/ttyS9", baudrate=38400))
    assert isinstance(serial, escpos_printer.Serial) and (serial.devfile, serial.baudrate) == (
        "/dev/ttyS9",
        38400,
    )
    assert isinstance(make_printer(Printer(kind="dummy")), escpos_printer.Dummy)


@pytest.mark.parametrize(
    ("kind", "cls", "package"), [("usb", "Usb", "pyusb"), ("cups", "CupsPrinter", "pycups")]
)
def test_usb_and_cups_need_their_libraries(kind: str, cls: str, package: str) -> None:
    config = Printer(kind=kind, vendor_id=0x04B8, product_id=0x0202, name="tm")  # type: ignore[arg-type]
    if getattr(escpos_printer, cls).is_usable():
        assert isinstance(make_printer(config), getattr(escpos_printer, cls))
        return
    with pytest.raises(PrinterFault, match=f"needs the {package} package"):
        make_printer(config)
    with pytest.raises(PrinterFault, match=f"needs the {package} package"):
        PrinterLink(config).send(b"x")


def test_file_printer_that_cannot_be_opened(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "printer.bin"
    with pytest.raises(PrinterFault) as fault:
        PrinterLink(Printer(kind="file", path=str(path))).send(b"x")
    assert str(fault.value) == f"The file printer {path} cannot be opened: No such file or directory."


def test_network_link_reconnects_after_a_fault() -> None:
    port = free_port()
    link = PrinterLink(Printer(kind="network", host="127.0.0.1", port=port, timeout=1.0))
    with pytest.raises(PrinterFault, match="offline"):
        link.send(b"first")
    fake = FakePrinter()
    link.config = Printer(kind="network", host="127.0.0.1", port=fake.port, timeout=1.0)
    link.send(b"second")
    link.send(b"third")
    link.close()
    fake.close()
    assert fake.data == b"secondthird" and len(fake.connections) == 1


def test_file_printer_appends_jobs_and_creates_its_file_private(tmp_path: Path) -> None:
    """Issue 16 problem 11: one job after the other, as on paper; the file holds customer names (mode 600)."""
    import stat

    path = tmp_path / "printer.bin"
    for job in (b"order 1\n", b"order 2\n"):
        link = PrinterLink(Printer(kind="file", path=str(path)))
        link.send(job)
        link.close()
    assert path.read_bytes() == b"order 1\norder 2\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
