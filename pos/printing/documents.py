"""What gets printed, as plain data: the loaders in pos/db/printjobs.py fill these, the layouts read them.

Documents hold raw values (cents, UTC times, repeat options), never formatted text, so one document can be
laid out for 58 or 80 mm paper, previewed as text, or drawn as an image, in German or English.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from pos.domain.fiscal import Outage, Signature, fiscal_from_dict
from pos.domain.order import VatGroup


@dataclass(frozen=True)
class Letterhead:
    """The lines on top of every document."""

    venue_name: str
    brand_header: str = ""
    # A German receipt also names the venue's address and its tax number or VAT id ([venue] keys);
    # printed on receipts only, and only when set.
    address: str = ""
    tax_number: str = ""
    vat_id: str = ""


@dataclass(frozen=True)
class TicketDoc:
    letterhead: Letterhead
    code: str
    ticket_id: int
    order_id: int
    article_name: str
    price_cents: int
    issued_at: datetime
    event_date: date | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    repeat: str = "none"
    repeat_limit: int | None = None  # re-entries after the first; None = unlimited
    holder_name: str | None = None
    reprint: bool = False
    training: bool = False  # sold in training mode: printed as such, never valid


@dataclass(frozen=True)
class SlipLine:
    quantity: int
    name: str


@dataclass(frozen=True)
class SlipDoc:
    """The order slip (Orderbon): what the bar or the shop hands out, without prices."""

    letterhead: Letterhead
    order_id: int
    created_at: datetime
    terminal: str
    operator: str
    lines: tuple[SlipLine, ...]
    reprint: bool = False
    training: bool = False


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    quantity: int
    unit_price_cents: int
    discount_cents: int  # per unit
    total_cents: int
    vat_bp: int
    promo_code: str | None = None


@dataclass(frozen=True)
class ReceiptDoc:
    letterhead: Letterhead
    order_id: int
    created_at: datetime
    terminal: str
    operator: str
    lines: tuple[ReceiptLine, ...]
    vat: tuple[VatGroup, ...]
    total_cents: int
    payment_method: str  # cash | card | free | split
    given_cents: int
    change_cents: int
    reprint: bool = False
    tenders: tuple[TenderLine, ...] = ()  # a split payment: what each tender paid
    training: bool = False
    # With a TSE ([fiscal] signer): the journal's consecutive receipt number, and the signature (or the outage
    # mark) printed as the fiscal block with its QR code. None keeps the receipt as it was without a signer.
    receipt_number: int | None = None
    fiscal: Signature | Outage | None = None


@dataclass(frozen=True)
class TenderTotal:
    tender: str  # cash | card | free
    count: int
    cents: int


@dataclass(frozen=True)
class GroupTotal:
    group: str
    units: int
    cents: int


@dataclass(frozen=True)
class VatTotal:
    rate_bp: int
    net_cents: int
    vat_cents: int
    gross_cents: int


@dataclass(frozen=True)
class ZReportDoc:
    """An X report (the shift stays open) or a Z report (at close, with its Z number), summed from the journal.

    Stored as the print job's payload: a reprint shows the same numbers.
    """

    letterhead: Letterhead
    shift_id: int
    z_number: int | None
    terminal: str
    operator: str
    opened_at: datetime
    closed_at: datetime | None
    float_cents: int
    sales_cents: int
    returns_cents: int  # negative
    cash_in_cents: int
    cash_out_cents: int
    cash_taken_cents: int
    change_cents: int
    cash_refunded_cents: int
    expected_cash_cents: int
    counted_cents: int | None
    by_tender: tuple[TenderTotal, ...] = ()
    by_group: tuple[GroupTotal, ...] = ()
    by_vat: tuple[VatTotal, ...] = ()
    tse_outages: int = 0
    reprint: bool = False

    @property
    def difference_cents(self) -> int | None:
        return None if self.counted_cents is None else self.counted_cents - self.expected_cash_cents

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["opened_at"] = self.opened_at.isoformat()
        data["closed_at"] = self.closed_at.isoformat() if self.closed_at else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ZReportDoc:
        values = dict(data)
        values["letterhead"] = Letterhead(**data["letterhead"])
        values["opened_at"] = datetime.fromisoformat(data["opened_at"])
        values["closed_at"] = datetime.fromisoformat(data["closed_at"]) if data["closed_at"] else None
        values["by_tender"] = tuple(TenderTotal(**t) for t in data["by_tender"])
        values["by_group"] = tuple(GroupTotal(**g) for g in data["by_group"])
        values["by_vat"] = tuple(VatTotal(**v) for v in data["by_vat"])
        return cls(**values)


@dataclass(frozen=True)
class ReturnLine:
    name: str
    quantity: int
    refund_cents: int
    ticket_code: str | None = None


@dataclass(frozen=True)
class TenderLine:
    tender: str
    cents: int


@dataclass(frozen=True)
class ReturnDoc:
    """The return slip: what came back from which order, and how the refund was paid out."""

    letterhead: Letterhead
    order_id: int
    journal_number: int
    at: datetime
    terminal: str
    operator: str
    lines: tuple[ReturnLine, ...]
    refunds: tuple[TenderLine, ...]
    refund_cents: int
    forced: bool = False  # an admitted ticket was returned on purpose
    reprint: bool = False
    fiscal: Signature | Outage | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["fiscal"] = self.fiscal.to_dict() if self.fiscal is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReturnDoc:
        values = dict(data)
        values["fiscal"] = fiscal_from_dict(data.get("fiscal"))
        values["letterhead"] = Letterhead(**data["letterhead"])
        values["at"] = datetime.fromisoformat(data["at"])
        values["lines"] = tuple(ReturnLine(**line) for line in data["lines"])
        values["refunds"] = tuple(TenderLine(**t) for t in data["refunds"])
        return cls(**values)


@dataclass(frozen=True)
class CashDoc:
    """A cash movement slip (cash in, cash out): it also opens the drawer."""

    letterhead: Letterhead
    kind: str  # cash_in | cash_out
    amount_cents: int
    reason: str
    at: datetime
    terminal: str
    operator: str
    journal_number: int
    reprint: bool = False
    fiscal: Signature | Outage | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["fiscal"] = self.fiscal.to_dict() if self.fiscal is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CashDoc:
        values = dict(data)
        values["fiscal"] = fiscal_from_dict(data.get("fiscal"))
        values["letterhead"] = Letterhead(**data["letterhead"])
        values["at"] = datetime.fromisoformat(data["at"])
        return cls(**values)


Document = TicketDoc | SlipDoc | ReceiptDoc | ZReportDoc | ReturnDoc | CashDoc
