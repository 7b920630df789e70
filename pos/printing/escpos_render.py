"""Blocks to ESC/POS commands through python-escpos, on any of its printer classes.

The code page is chosen once, up front (CP858: German umlauts, ß and €), so the library never switches
code pages in the middle of a line. Characters CP858 lacks print as '?'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pos.printing.layout import Barcode, Block, CashDrawer, Cut, Feed, Line, QrCode, Rule
from pos.stdout import quiet_stdout

CODE_PAGE = "CP858"
# Code128 module width in dots: 167 modules for 24 digits in set C must fit 384 dots (58 mm) or 576 (80 mm)
# with a quiet zone of at least ten modules on each side.
BARCODE_MODULE = {58: 2, 80: 3}
QR_MODULE = {58: 5, 80: 6}
BARCODE_HEIGHT = 80  # dots, 10 mm at 203 dpi


def printable(text: str) -> str:
    """Babel puts no-break spaces into amounts; a plain space prints the same on every printer."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def print_blocks(printer: Any, blocks: Sequence[Block], paper_mm: int, width: int) -> None:
    """Send blocks to an escpos printer object; every call runs with stdout captured."""
    with quiet_stdout():
        printer.hw("INIT")
        printer.charcode(CODE_PAGE)
        style: tuple[str, bool, bool] | None = None
        for block in blocks:
            if isinstance(block, Line):
                wanted = (block.align, block.bold, block.large)
                if wanted != style:
                    printer.set_with_default(
                        align=block.align,
                        bold=block.bold,
                        double_width=block.large,
                        double_height=block.large,
                    )
                    style = wanted
                printer.textln(printable(block.text))
            elif isinstance(block, Rule):
                if style != ("left", False, False):
                    printer.set_with_default()
                    style = ("left", False, False)
                printer.textln("-" * width)
            elif isinstance(block, Feed):
                printer.ln(block.lines)
            elif isinstance(block, Barcode):
                printer.barcode(
                    "{C" + block.digits,
                    "CODE128",
                    height=BARCODE_HEIGHT,
                    width=BARCODE_MODULE[paper_mm],
                    pos="OFF",
                    function_type="B",
                    align_ct=True,
                )
                style = None  # barcode() changes the alignment
            elif isinstance(block, QrCode):
                printer.set_with_default(align="center")
                style = ("center", False, False)
                printer.qr(block.data, size=QR_MODULE[paper_mm], native=True)
            elif isinstance(block, CashDrawer):
                printer.cashdraw(2)
            elif isinstance(block, Cut):
                printer.cut()


def escpos_bytes(blocks: Sequence[Block], paper_mm: int, width: int) -> bytes:
    """The exact bytes a printer gets, rendered through escpos' Dummy printer."""
    from escpos.printer import Dummy

    with quiet_stdout():
        dummy = Dummy()
    print_blocks(dummy, blocks, paper_mm, width)
    return bytes(dummy.output)
