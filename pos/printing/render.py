"""One entry point per output: printer bytes, text preview, PNG and PDF, all from the same layout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pos.i18n import Language, venue_language
from pos.printing.documents import Document, TicketDoc
from pos.printing.layout import columns_for, layout, plain_lines

if TYPE_CHECKING:
    from pos.config import Config


@dataclass(frozen=True)
class PrintSettings:
    lang: Language
    paper_mm: int = 80
    cash_drawer: bool = False

    @property
    def width(self) -> int:
        return columns_for(self.paper_mm)

    @classmethod
    def from_config(cls, config: Config, *, language: str | None = None) -> PrintSettings:
        return cls(
            lang=venue_language(config.venue, language),
            paper_mm=config.printer.paper_mm,
            cash_drawer=config.printer.cash_drawer,
        )


def printer_bytes(doc: Document, settings: PrintSettings) -> bytes:
    from pos.printing.escpos_render import escpos_bytes

    blocks = layout(doc, settings.lang, settings.width, cash_drawer=settings.cash_drawer)
    return escpos_bytes(blocks, settings.paper_mm, settings.width)


def preview(doc: Document, settings: PrintSettings) -> str:
    """Plain text, as wide as the paper: what the TUI shows before printing."""
    blocks = layout(doc, settings.lang, settings.width)
    return "\n".join(plain_lines(blocks, settings.width, settings.lang))


def ticket_png(doc: TicketDoc, lang: Language) -> bytes:
    from pos.printing.images import IMAGE_COLUMNS, png_bytes

    return png_bytes(layout(doc, lang, IMAGE_COLUMNS))


def ticket_pdf(doc: TicketDoc, lang: Language) -> bytes:
    from pos.printing.images import IMAGE_COLUMNS, pdf_bytes

    return pdf_bytes(layout(doc, lang, IMAGE_COLUMNS))
