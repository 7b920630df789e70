"""The configured printer, through python-escpos' own printer classes, and its faults in one sentence.

A network printer is asked for its paper status (DLE EOT 4) before and after each job: the answer before
tells an empty roll from a full one, the answer after confirms the printer received the whole job over a
connection that did not drop. `[printer] status_check = false` turns this off for print servers that
cannot answer.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pos.errors import PosError, Wording
from pos.stdout import quiet_stdout

if TYPE_CHECKING:
    from pos.config import Printer as PrinterConfig

PAPER_STATUS_QUERY = b"\x10\x04\x04"  # DLE EOT 4: paper roll sensor status
PAPER_END_BITS = 0x60  # bits 5 and 6: paper end detected


class PrinterFault(PosError):
    """The printer did not print a job; the sentence says why (offline, connection dropped, paper out)."""


def describe(config: PrinterConfig) -> Wording:
    """'The printer at 10.0.0.5:9100' and so on, as the subject of a message (translated at the face)."""
    if config.kind == "file":
        return Wording("The file printer {path}", path=config.path)
    if config.kind == "network":
        return Wording("The printer at {host}:{port}", host=config.host, port=config.port)
    if config.kind == "usb":
        usb_id = "%04x:%04x" % (config.vendor_id, config.product_id)  # noqa: UP031 - keeps the call extractable
        return Wording("The USB printer {id}", id=usb_id)
    if config.kind == "serial":
        return Wording("The serial printer on {device}", device=config.device)
    if config.kind == "cups":
        return Wording("The CUPS printer {name}", name=config.name or "(default)")
    return Wording("The dummy printer")


def make_printer(config: PrinterConfig) -> Any:
    """An escpos printer object for `[printer] kind`; nothing is opened yet."""
    from escpos import printer

    with quiet_stdout():
        if config.kind == "file":
            from pos.files import ensure_private_file

            ensure_private_file(
                config.path
            )  # an existing file is narrowed to mode 600 too (names, valid codes)
            return _appending_file(printer.File)(devfile=config.path)
        if config.kind == "network":
            return printer.Network(host=config.host, port=config.port, timeout=config.timeout)
        if config.kind == "usb":
            if not printer.Usb.is_usable():
                raise PrinterFault("USB printing needs the pyusb package (pip install pyusb).")
            return printer.Usb(
                idVendor=config.vendor_id, idProduct=config.product_id, timeout=int(config.timeout * 1000)
            )
        if config.kind == "serial":
            return printer.Serial(devfile=config.device, baudrate=config.baudrate, timeout=config.timeout)
        if config.kind == "cups":
            if not printer.CupsPrinter.is_usable():
                raise PrinterFault("CUPS printing needs the pycups package (pip install pycups).")
            return printer.CupsPrinter(printer_name=config.name)
        return printer.Dummy()


def _appending_file(file_printer: type) -> type:
    """python-escpos' File printer, but appending: each job goes after the last one, as on paper (its own open
    truncates the file), and a file it creates is readable by its owner only (tickets carry customer names).
    A device path such as /dev/usb/lp0 is opened the same way; its permissions are left alone."""

    class AppendingFile(file_printer):  # type: ignore[misc]
        def open(self, raise_not_found: bool = True) -> None:
            if self._device:
                self.close()
            descriptor = os.open(self.devfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self.device = os.fdopen(descriptor, "ab")

    return AppendingFile


class PrinterLink:
    """One open printer for a batch of jobs; every call into python-escpos runs with stdout captured."""

    def __init__(self, config: PrinterConfig) -> None:
        self.config = config
        self.printer: Any = None
        self.phase = "open"  # open | status | send: what the link was doing when a fault came

    @property
    def checks_status(self) -> bool:
        return self.config.kind == "network" and self.config.status_check

    def send(self, data: bytes) -> None:
        """Deliver one job's bytes or raise PrinterFault; after a fault the link reconnects on the next send."""
        self.phase = "open"
        try:
            with quiet_stdout():
                self._send(data)
        except PrinterFault:
            self.close()
            raise
        except Exception as exc:  # noqa: BLE001 - every transport error becomes one sentence
            self.close()
            raise self._fault(exc) from exc

    def _send(self, data: bytes) -> None:
        who = describe(self.config)
        if self.printer is None:
            printer = make_printer(self.config)
            if self.config.kind == "cups":
                printer.open(job_name="pos")
            elif self.config.kind != "dummy":
                printer.open()
            self.printer = printer
        if self.checks_status and self._paper_out():
            raise PrinterFault("{who} is out of paper.", who=who)
        self.phase = "send"
        if self.config.kind == "cups" and self.printer.tmpfile.closed:
            self.printer.open(job_name="pos")
        self.printer._raw(data)
        if self.config.kind == "cups":
            self.printer.send()
        if self.checks_status and self._paper_out():
            raise PrinterFault("{who} ran out of paper during printing.", who=who)

    def _paper_out(self) -> bool:
        previous, self.phase = self.phase, "status"
        self.printer._raw(PAPER_STATUS_QUERY)
        answer = self.printer._read()
        if not answer:
            raise ConnectionResetError("the printer closed the connection")
        self.phase = previous
        return bool(answer[-1] & PAPER_END_BITS)

    def _fault(self, exc: BaseException) -> PrinterFault:
        """The first cause that says something, as a sentence naming the printer."""
        who = describe(self.config)
        cause: BaseException = exc
        while not isinstance(cause, OSError) and cause.__context__ is not None:
            cause = cause.__context__
        seconds = f"{self.config.timeout:g}"
        if isinstance(cause, TimeoutError):  # socket.timeout is TimeoutError
            if self.phase == "open":
                return PrinterFault(
                    "{who} did not answer within {s} s; it is offline or unreachable.", who=who, s=seconds
                )
            if self.phase == "status":
                return PrinterFault(
                    "{who} did not answer a status query within {s} s; "
                    "set [printer] status_check = false if it cannot report its status.",
                    who=who,
                    s=seconds,
                )
            return PrinterFault("{who} stopped taking data for {s} s.", who=who, s=seconds)
        if isinstance(cause, ConnectionRefusedError):
            return PrinterFault("{who} is offline (connection refused).", who=who)
        if isinstance(cause, BrokenPipeError | ConnectionResetError | ConnectionAbortedError):
            return PrinterFault("{who}: the connection dropped during printing.", who=who)
        if isinstance(cause, OSError):
            detail = (cause.strerror or str(cause)).rstrip(".")
            if self.phase == "open":
                return PrinterFault("{who} cannot be opened: {detail}.", who=who, detail=detail)
            return PrinterFault("{who} failed: {detail}.", who=who, detail=detail)
        if self.phase == "open":
            return PrinterFault("{who} is not connected or cannot be opened.", who=who)
        detail = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else type(exc).__name__
        return PrinterFault("{who} failed: {detail}.", who=who, detail=detail)

    def close(self) -> None:
        printer, self.printer = self.printer, None
        if printer is None:
            return
        try:
            with quiet_stdout():
                printer.close()
        except Exception:  # noqa: BLE001, S110 - closing a broken connection has nothing left to report
            pass
