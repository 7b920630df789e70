"""A ticket as a PNG or PDF for e-mail, drawn from the same blocks as the printout.

The barcode is drawn module by module from python-barcode's Code128 encoding (code set C for the digits) at
whole pixels per module, and the QR code by qrcode, so a phone screen shows codes a door scanner reads.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from pos.printing.layout import Barcode, Block, CashDrawer, Cut, Feed, Line, QrCode, Rule

if TYPE_CHECKING:
    from PIL import Image, ImageFont

IMAGE_COLUMNS = 40  # characters per line in the image; layouts for the image are made this wide
MARGIN = 32
FONT_SIZE = 24
MODULE_PX = 3  # Code128 module width
QUIET_MODULES = 10
BAR_HEIGHT = 110
QR_BOX_PX = 8
DPI = 200
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/TTF/DejaVuSansMono.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeMono.ttf",
    "/Library/Fonts/Courier New.ttf",
    "C:/Windows/Fonts/cour.ttf",
)
BOLD_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf",
)
# Pillow's built-in font has no umlauts: without a system font, text is spelled out in ASCII instead.
ASCII_SPELLING = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "€": "EUR"}
)


@cache
def _font_path(bold: bool) -> str | None:
    for candidate in (*(BOLD_CANDIDATES if bold else ()), *FONT_CANDIDATES):
        if Path(candidate).is_file():
            return str(candidate)
    return None


@cache
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    path = _font_path(bold)
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size)


def _text(text: str) -> str:
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    return text if _font_path(False) else text.translate(ASCII_SPELLING)


def barcode_image(digits: str) -> Image.Image:
    """Code128 (set C for an even number of digits) with whole-pixel modules and quiet zones."""
    from barcode import Code128
    from PIL import Image, ImageDraw

    modules = Code128(digits).build()[0]
    width = (len(modules) + 2 * QUIET_MODULES) * MODULE_PX
    image = Image.new("L", (width, BAR_HEIGHT), 255)
    draw = ImageDraw.Draw(image)
    for index, bit in enumerate(modules):
        if bit == "1":
            left = (QUIET_MODULES + index) * MODULE_PX
            draw.rectangle((left, 0, left + MODULE_PX - 1, BAR_HEIGHT - 1), fill=0)
    return image


def qr_image(data: str, max_width: int | None = None) -> Image.Image:
    """A QR code with whole-pixel modules; a long one (a receipt's TSE data) gets smaller modules to fit."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=QR_BOX_PX, border=4)
    code.add_data(data)
    code.make(fit=True)
    if max_width is not None:
        modules = code.modules_count + 2 * code.border
        code.box_size = max(2, min(QR_BOX_PX, max_width // modules))
    image: Image.Image = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
    return image


def _line_image(line: Line, width: int) -> Image.Image:
    from PIL import Image, ImageDraw

    size = FONT_SIZE * 2 if line.large else FONT_SIZE
    font = _font(size, line.bold or line.large)
    text = _text(line.text)
    left, top, right, bottom = font.getbbox(text or " ")
    height = int(size * 1.35)
    image = Image.new("L", (width, height), 255)
    text_width = right - left
    x = {"left": 0, "center": (width - text_width) // 2, "right": width - text_width}[line.align]
    ImageDraw.Draw(image).text((max(x, 0), (height - size) // 2), text, font=font, fill=0)
    return image


def draw_blocks(blocks: Sequence[Block]) -> Image.Image:
    """One image for a document: text, barcode and QR code stacked, white background."""
    from PIL import Image

    inner = max(text_width(IMAGE_COLUMNS), barcode_width_hint())
    parts: list[Image.Image] = []
    for block in blocks:
        if isinstance(block, Line):
            parts.append(_line_image(block, inner))
        elif isinstance(block, Rule):
            rule = Image.new("L", (inner, FONT_SIZE), 255)
            rule.paste(0, (0, FONT_SIZE // 2, inner, FONT_SIZE // 2 + 2))
            parts.append(rule)
        elif isinstance(block, Feed):
            parts.append(Image.new("L", (inner, FONT_SIZE * block.lines), 255))
        elif isinstance(block, Barcode):
            parts.append(barcode_image(block.digits))
        elif isinstance(block, QrCode):
            parts.append(qr_image(block.data, inner))
        elif isinstance(block, CashDrawer | Cut):
            continue
    height = sum(part.height for part in parts) + 2 * MARGIN
    page = Image.new("L", (inner + 2 * MARGIN, height), 255)
    y = MARGIN
    for part in parts:
        page.paste(part, (MARGIN + (inner - part.width) // 2, y))
        y += part.height
    return page


def text_width(columns: int) -> int:
    """Pixels for a full line: the font is monospaced, and large text has half as many characters."""
    return math.ceil(_font(FONT_SIZE, False).getlength("0" * columns))


def barcode_width_hint() -> int:
    """Room for a 24-digit code: 167 modules plus the quiet zones."""
    return (167 + 2 * QUIET_MODULES) * MODULE_PX


def png_bytes(blocks: Sequence[Block]) -> bytes:
    out = io.BytesIO()
    draw_blocks(blocks).save(out, format="PNG", dpi=(DPI, DPI))
    return out.getvalue()


def pdf_bytes(blocks: Sequence[Block]) -> bytes:
    out = io.BytesIO()
    draw_blocks(blocks).convert("RGB").save(out, format="PDF", resolution=DPI)
    return out.getvalue()
