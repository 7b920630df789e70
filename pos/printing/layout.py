"""Layouts: a document becomes a list of blocks (text lines, barcode, QR code, cut).

The same blocks drive the ESC/POS bytes, the text preview and the e-mail image, so what the cashier sees
before printing is what the printer gets. Widths are in characters of the printer's font A: 48 on 80 mm
paper, 32 on 58 mm; large (double width and height) text takes two columns per character.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pos.domain.fiscal import Outage, Signature, tse_time
from pos.domain.money import rate_number
from pos.domain.repeat import total_entries
from pos.i18n import Language
from pos.printing.documents import CashDoc, Document, ReceiptDoc, ReturnDoc, SlipDoc, TicketDoc, ZReportDoc

Align = Literal["left", "center", "right"]
COLUMNS = {80: 48, 58: 32}


@dataclass(frozen=True)
class Line:
    text: str
    align: Align = "left"
    bold: bool = False
    large: bool = False  # double width and height


@dataclass(frozen=True)
class Rule:
    """A separator across the paper."""


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Barcode:
    """Code128 in code set C: the digits of a ticket code, two per symbol."""

    digits: str


@dataclass(frozen=True)
class QrCode:
    data: str


@dataclass(frozen=True)
class CashDrawer:
    """Kick the drawer attached to the receipt printer."""


@dataclass(frozen=True)
class Cut:
    pass


Block = Line | Rule | Feed | Barcode | QrCode | CashDrawer | Cut


def columns_for(paper_mm: int) -> int:
    return COLUMNS[paper_mm]


def plain(text: str) -> str:
    """Babel puts no-break spaces into amounts and times; a plain space prints and previews the same everywhere."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def wrap(
    text: str, width: int, *, align: Align = "left", bold: bool = False, large: bool = False
) -> list[Line]:
    """Long names wrap onto further lines instead of running off the paper."""
    room = width // 2 if large else width
    parts = textwrap.wrap(plain(text), room, break_long_words=True, break_on_hyphens=False) or [""]
    return [Line(part, align, bold, large) for part in parts]


def pair(left: str, right: str, width: int, *, bold: bool = False) -> list[Line]:
    """A label on the left and an amount flush right; the label wraps if both do not fit."""
    left, right = plain(left), plain(right)
    room = width - len(right) - 1
    if room < 8:
        return [*wrap(left, width, bold=bold), Line(right, "right", bold)]
    parts = textwrap.wrap(left, room, break_long_words=True) or [""]
    last = parts[-1].ljust(room) + " " + right
    return [*(Line(part, bold=bold) for part in parts[:-1]), Line(last, bold=bold)]


def reprint_banner(lang: Language) -> list[Block]:
    return [Line(lang._("REPRINT"), "center", bold=True, large=True), Feed()]


def training_banner(lang: Language, width: int) -> list[Block]:
    """A training sale says so on every document: not takings, not a valid ticket."""
    return [
        Line(lang._("TRAINING"), "center", bold=True, large=True),
        *wrap(lang._("Training mode: not valid, not a sale."), width, align="center", bold=True),
        Feed(),
    ]


def letterhead(doc: Document, width: int) -> list[Block]:
    head = doc.letterhead
    blocks: list[Block] = []
    if head.brand_header:
        blocks += wrap(head.brand_header, width, align="center", bold=True)
    blocks += wrap(head.venue_name, width, align="center", bold=True)
    return blocks


def repeat_rule(lang: Language, repeat: str, repeat_limit: int | None) -> str:
    """The repeat option in words a door steward and a customer understand."""
    entries = total_entries(repeat, repeat_limit)
    if entries == 1:
        return lang._("Single entry")
    if repeat == "anytime":
        if entries is None:
            return lang._("Season card: unlimited entries")
        return lang._("{n}-ride card: {n} entries").format(n=entries)
    if repeat == "daily":
        if entries is None:
            return lang._("Day pass: one entry per day")
        return lang._("{n} entries, at most one per day").format(n=entries)
    if entries is None:
        return lang._("Day ticket with re-entry")
    return lang._("Day ticket with re-entry: {n} entries").format(n=entries)


def validity_lines(lang: Language, doc: TicketDoc) -> list[str]:
    """The event date, or the validity window in venue local time."""
    if doc.event_date is not None:
        return [lang.date(doc.event_date, "full")]
    lines = []
    if doc.valid_from is not None:
        lines.append(lang._("Valid from {time}").format(time=lang.datetime(doc.valid_from)))
    if doc.valid_until is not None:
        lines.append(lang._("Valid until {time}").format(time=lang.datetime(doc.valid_until)))
    return lines


def ticket_layout(doc: TicketDoc, lang: Language, width: int) -> list[Block]:
    blocks: list[Block] = reprint_banner(lang) if doc.reprint else []
    blocks += letterhead(doc, width)
    if doc.training:
        blocks += training_banner(lang, width)
    blocks.append(Rule())
    blocks += wrap(doc.article_name, width, align="center", bold=True, large=True)
    for text in validity_lines(lang, doc):
        blocks += wrap(text, width, align="center")
    blocks += wrap(repeat_rule(lang, doc.repeat, doc.repeat_limit), width, align="center", bold=True)
    blocks += wrap(lang.money(doc.price_cents), width, align="center")
    if doc.holder_name:
        blocks += wrap(doc.holder_name, width, align="center")
    blocks.append(Rule())
    blocks += pair(lang._("Order {number}").format(number=doc.order_id), lang.datetime(doc.issued_at), width)
    blocks += [Feed(), Barcode(doc.code), Line(doc.code, "center"), Feed(), QrCode(doc.code), Cut()]
    return blocks


def order_heading(doc: SlipDoc | ReceiptDoc, lang: Language, width: int) -> list[Block]:
    blocks = pair(lang._("Order {number}").format(number=doc.order_id), lang.datetime(doc.created_at), width)
    who = ", ".join(part for part in (doc.terminal, doc.operator) if part)
    if who:
        blocks += wrap(who, width)
    return [*blocks, Rule()]


def slip_layout(doc: SlipDoc, lang: Language, width: int) -> list[Block]:
    blocks: list[Block] = reprint_banner(lang) if doc.reprint else []
    blocks += wrap(lang._("Order slip"), width, align="center", bold=True, large=True)
    if doc.training:
        blocks += training_banner(lang, width)
    blocks += letterhead(doc, width)
    blocks += order_heading(doc, lang, width)
    for item in doc.lines:
        blocks += wrap(f"{item.quantity} x {item.name}", width, bold=True, large=True)
    return [*blocks, Rule(), Cut()]


def receipt_items(doc: ReceiptDoc, lang: Language, width: int) -> list[Block]:
    blocks: list[Block] = []
    for item in doc.lines:
        gross = item.unit_price_cents * item.quantity
        label = item.name if item.quantity == 1 else f"{item.quantity} x {item.name}"
        blocks += pair(label, lang.money(gross), width)
        if item.quantity > 1:
            each = lang._("each {price}").format(price=lang.money(item.unit_price_cents))
            blocks += wrap("  " + each, width)
        if item.discount_cents:
            reason = lang._("Discount")
            if item.promo_code:
                reason = f"{reason} {item.promo_code}"
            blocks += pair("  " + reason, lang.money(-item.discount_cents * item.quantity), width)
    return blocks


def payment_name(lang: Language, method: str) -> str:
    names = {"cash": lang._("Cash"), "card": lang._("Card"), "free": lang._("Free of charge")}
    return names.get(method, method)


def venue_details(doc: ReceiptDoc, lang: Language, width: int) -> list[Block]:
    """The address and the tax number or VAT id under the venue's name, as a German receipt needs them."""
    head = doc.letterhead
    blocks: list[Block] = []
    if head.address:
        blocks += wrap(head.address, width, align="center")
    if head.tax_number:
        blocks += wrap(lang._("Tax number {number}").format(number=head.tax_number), width, align="center")
    if head.vat_id:
        blocks += wrap(lang._("VAT ID {number}").format(number=head.vat_id), width, align="center")
    return blocks


def fiscal_block(fiscal: Signature | Outage, lang: Language, width: int) -> list[Block]:
    """The TSE data a German receipt prints (KassenSichV), then the QR code holding them (DSFinV-K Anhang I)."""
    blocks: list[Block] = [Rule()]
    if isinstance(fiscal, Outage):
        blocks += wrap(lang._("TSE failed"), width, align="center", bold=True)
        return blocks
    if fiscal.test:
        blocks += wrap(lang._("Test TSE: no legal value"), width, align="center", bold=True)
    fields = (
        (lang._("TSE transaction"), str(fiscal.tx_number)),
        (lang._("TSE signature counter"), str(fiscal.signature_counter)),
        (lang._("TSE start"), tse_time(fiscal.start)),
        (lang._("TSE end"), tse_time(fiscal.end)),
        (lang._("TSE time format"), fiscal.time_format),
        (lang._("TSE algorithm"), fiscal.algorithm),
        (lang._("Cash register serial number"), fiscal.client_serial),
        (lang._("TSE serial number"), fiscal.serial),
        (lang._("TSE signature"), fiscal.value),
    )
    for label, value in fields:
        if len(label) + 1 + len(value) <= width:
            blocks += pair(label, value, width)
        else:  # the label on its own line, the value (a serial, a signature) wrapped below it
            blocks += [
                *wrap(label, width),
                *wrap(value, width, align="right" if len(value) <= width else "left"),
            ]
    return [*blocks, Feed(), QrCode(fiscal.qr)]


def receipt_layout(doc: ReceiptDoc, lang: Language, width: int, *, cash_drawer: bool = False) -> list[Block]:
    blocks: list[Block] = []
    takes_cash = doc.payment_method == "cash" or any(t.tender == "cash" for t in doc.tenders)
    if cash_drawer and takes_cash and not doc.reprint:
        blocks.append(CashDrawer())  # first, so the drawer is open while the receipt prints
    if doc.reprint:
        blocks += reprint_banner(lang)
    blocks += letterhead(doc, width)
    if doc.training:
        blocks += training_banner(lang, width)
    blocks += venue_details(doc, lang, width)
    blocks += wrap(lang._("Receipt"), width, align="center", bold=True)
    if doc.receipt_number is not None:
        blocks += wrap(
            lang._("Receipt no. {number}").format(number=doc.receipt_number), width, align="center"
        )
    blocks += order_heading(doc, lang, width)
    blocks += receipt_items(doc, lang, width)
    blocks.append(Rule())
    blocks += pair(lang._("Total"), lang.money(doc.total_cents), width, bold=True)
    if doc.tenders:
        for tender in doc.tenders:
            blocks += pair(payment_name(lang, tender.tender), lang.money(tender.cents), width)
        if doc.change_cents:
            blocks += pair(
                lang._("Cash given"),
                lang.money(doc.given_cents - sum(t.cents for t in doc.tenders if t.tender != "cash")),
                width,
            )
            blocks += pair(lang._("Change"), lang.money(doc.change_cents), width)
    else:
        blocks += pair(payment_name(lang, doc.payment_method), lang.money(doc.given_cents), width)
        if doc.payment_method == "cash":
            blocks += pair(lang._("Change"), lang.money(doc.change_cents), width)
    blocks.append(Rule())
    for group in doc.vat:
        label = lang._("VAT {rate} of {gross}").format(
            rate=format_rate(lang, group.rate_bp), gross=lang.money(group.gross_cents)
        )
        blocks += pair(label, lang.money(group.vat_cents), width)
        if doc.fiscal is not None:  # a German receipt shows net, VAT and gross per rate
            blocks += pair("  " + lang._("Net"), lang.money(group.net_cents), width)
    if doc.fiscal is not None:
        blocks += fiscal_block(doc.fiscal, lang, width)
    blocks += [Feed(), *wrap(lang._("Thank you!"), width, align="center"), Cut()]
    return blocks


def format_rate(lang: Language, bp: int) -> str:
    """1900 -> '19 %', 770 -> '7,7 %' (de) or '7.7 %' (en)."""
    text = str(rate_number(bp))
    return (text.replace(".", ",") if lang.code == "de" else text) + " %"


def zreport_layout(doc: ZReportDoc, lang: Language, width: int) -> list[Block]:
    """The X report (interim) or the Z report (with its number): every figure summed from the journal."""
    blocks: list[Block] = reprint_banner(lang) if doc.reprint else []
    title = (
        lang._("X report")
        if doc.z_number is None
        else lang._("Z report {number}").format(number=doc.z_number)
    )
    blocks += wrap(title, width, align="center", bold=True, large=True)
    blocks += letterhead(doc, width)
    blocks += wrap(lang._("Shift {number}").format(number=doc.shift_id), width, align="center")
    who = ", ".join(part for part in (doc.terminal, doc.operator) if part)
    blocks += wrap(who, width, align="center")
    blocks += pair(lang._("Opened"), lang.datetime(doc.opened_at), width)
    closed = lang.datetime(doc.closed_at) if doc.closed_at else lang._("open")
    blocks += pair(lang._("Closed"), closed, width)
    blocks += [Rule(), *wrap(lang._("Sales by tender"), width, bold=True)]
    for tender in doc.by_tender:
        blocks += pair(
            f"{payment_name(lang, tender.tender)} ({tender.count})", lang.money(tender.cents), width
        )
    blocks += pair(lang._("Sales"), lang.money(doc.sales_cents), width, bold=True)
    blocks += pair(lang._("Returns"), lang.money(doc.returns_cents), width)
    blocks += pair(lang._("Net sales"), lang.money(doc.sales_cents + doc.returns_cents), width, bold=True)
    blocks += [Rule(), *wrap(lang._("Sales by article group"), width, bold=True)]
    for group in doc.by_group:
        blocks += pair(f"{group.group} ({group.units})", lang.money(group.cents), width)
    blocks += [Rule(), *wrap(lang._("VAT by rate"), width, bold=True)]
    for vat in doc.by_vat:
        blocks += pair(format_rate(lang, vat.rate_bp), lang.money(vat.gross_cents), width, bold=True)
        blocks += pair("  " + lang._("Net"), lang.money(vat.net_cents), width)
        blocks += pair("  " + lang._("VAT"), lang.money(vat.vat_cents), width)
    blocks += [Rule(), *wrap(lang._("Cash drawer"), width, bold=True)]
    blocks += pair(lang._("Float"), lang.money(doc.float_cents), width)
    blocks += pair(lang._("Cash taken"), lang.money(doc.cash_taken_cents), width)
    blocks += pair(lang._("Change given"), lang.money(-doc.change_cents), width)
    blocks += pair(lang._("Cash refunded"), lang.money(-doc.cash_refunded_cents), width)
    blocks += pair(lang._("Cash in"), lang.money(doc.cash_in_cents), width)
    blocks += pair(lang._("Cash out"), lang.money(-doc.cash_out_cents), width)
    blocks += pair(lang._("Expected cash"), lang.money(doc.expected_cash_cents), width, bold=True)
    counted = lang._("not counted") if doc.counted_cents is None else lang.money(doc.counted_cents)
    blocks += pair(lang._("Counted cash"), counted, width)
    if doc.difference_cents is not None:
        blocks += pair(lang._("Difference"), lang.money(doc.difference_cents), width, bold=True)
    if doc.tse_outages:
        blocks += [Rule(), *wrap(lang._("TSE outages: {n}").format(n=doc.tse_outages), width, bold=True)]
    return [*blocks, Rule(), Cut()]


def return_layout(doc: ReturnDoc, lang: Language, width: int, *, cash_drawer: bool = False) -> list[Block]:
    blocks: list[Block] = []
    if cash_drawer and any(t.tender == "cash" for t in doc.refunds) and not doc.reprint:
        blocks.append(CashDrawer())
    if doc.reprint:
        blocks += reprint_banner(lang)
    blocks += letterhead(doc, width)
    blocks += wrap(lang._("Return"), width, align="center", bold=True, large=True)
    blocks += wrap(lang._("Receipt no. {number}").format(number=doc.journal_number), width, align="center")
    blocks += pair(lang._("Order {number}").format(number=doc.order_id), lang.datetime(doc.at), width)
    who = ", ".join(part for part in (doc.terminal, doc.operator) if part)
    blocks += [*wrap(who, width), Rule()]
    for line in doc.lines:
        name = line.name if line.quantity == 1 else f"{line.quantity} x {line.name}"
        blocks += pair(name, lang.money(-line.refund_cents), width)
        if line.ticket_code:
            blocks += wrap(f"  {line.ticket_code}", width)
    if doc.forced:
        blocks += wrap(lang._("Includes a ticket already used at the door."), width)
    blocks.append(Rule())
    blocks += pair(lang._("Refund"), lang.money(-doc.refund_cents), width, bold=True)
    for tender in doc.refunds:
        blocks += pair(payment_name(lang, tender.tender), lang.money(tender.cents), width)
    if doc.fiscal is not None:
        blocks += fiscal_block(doc.fiscal, lang, width)
    blocks += [Feed(), *wrap(lang._("Signature"), width), Feed(2), Rule(), Cut()]
    return blocks


def cash_layout(doc: CashDoc, lang: Language, width: int, *, cash_drawer: bool = False) -> list[Block]:
    blocks: list[Block] = [CashDrawer()] if cash_drawer and not doc.reprint else []
    if doc.reprint:
        blocks += reprint_banner(lang)
    blocks += letterhead(doc, width)
    title = lang._("Cash in") if doc.kind == "cash_in" else lang._("Cash out")
    blocks += wrap(title, width, align="center", bold=True, large=True)
    blocks += wrap(lang._("Receipt no. {number}").format(number=doc.journal_number), width, align="center")
    blocks += pair(", ".join(p for p in (doc.terminal, doc.operator) if p), lang.datetime(doc.at), width)
    blocks += [Rule(), *pair(lang._("Amount"), lang.money(doc.amount_cents), width, bold=True)]
    blocks += wrap(doc.reason, width)
    if doc.fiscal is not None:
        blocks += fiscal_block(doc.fiscal, lang, width)
    blocks += [Feed(), *wrap(lang._("Signature"), width), Feed(2), Rule(), Cut()]
    return blocks


def layout(doc: Document, lang: Language, width: int, *, cash_drawer: bool = False) -> list[Block]:
    if isinstance(doc, TicketDoc):
        return ticket_layout(doc, lang, width)
    if isinstance(doc, SlipDoc):
        return slip_layout(doc, lang, width)
    if isinstance(doc, ReceiptDoc):
        return receipt_layout(doc, lang, width, cash_drawer=cash_drawer)
    if isinstance(doc, ReturnDoc):
        return return_layout(doc, lang, width, cash_drawer=cash_drawer)
    if isinstance(doc, CashDoc):
        return cash_layout(doc, lang, width, cash_drawer=cash_drawer)
    return zreport_layout(doc, lang, width)


def plain_lines(blocks: Sequence[Block], width: int, lang: Language) -> list[str]:
    """The text preview: what the TUI shows before printing."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Line):
            out.append(_aligned(block.text, block.align, width))
        elif isinstance(block, Rule):
            out.append("-" * width)
        elif isinstance(block, Feed):
            out.extend([""] * block.lines)
        elif isinstance(block, Barcode):
            out.append(_aligned("||| " + lang._("Barcode") + " |||", "center", width))  # extractable
        elif isinstance(block, QrCode):
            out.append(_aligned("[" + lang._("QR code") + "]", "center", width))
        elif isinstance(block, Cut):
            out.append("=" * width)
    return out


def _aligned(text: str, align: Align, width: int) -> str:
    if align == "center":
        return text.center(width).rstrip()
    if align == "right":
        return text.rjust(width)
    return text
