"""What gets printed, as plain data: the loaders in pos/db/printjobs.py fill these, the layouts read them.

Documents hold raw values (cents, UTC times, repeat options), never formatted text, so one document can be
laid out for 58 or 80 mm paper, previewed as text, or drawn as an image, in German or English.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from pos.domain.fiscal import Outage, Signature
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
    payment_method: str  # cash | card | free
    given_cents: int
    change_cents: int
    reprint: bool = False
    # With a TSE ([fiscal] signer): the journal's consecutive receipt number, and the signature (or the outage
    # mark) printed as the fiscal block with its QR code. None keeps the receipt as it was without a signer.
    receipt_number: int | None = None
    fiscal: Signature | Outage | None = None


@dataclass(frozen=True)
class PaymentTotal:
    method: str
    orders: int
    cents: int


@dataclass(frozen=True)
class GroupTotal:
    group: str
    cents: int


@dataclass(frozen=True)
class ZReportDoc:
    """The shift close: a snapshot stored as the print job's payload, so a reprint shows the same numbers."""

    letterhead: Letterhead
    shift_id: int
    terminal: str
    operator: str
    opened_at: datetime
    closed_at: datetime | None
    float_cents: int
    by_payment: tuple[PaymentTotal, ...]
    by_group: tuple[GroupTotal, ...]
    cash_sales_cents: int
    counted_cents: int | None
    cancelled_orders: int = 0
    cancelled_cents: int = 0
    reprint: bool = False
    sales_cents: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sales_cents", sum(p.cents for p in self.by_payment))

    @property
    def expected_cash_cents(self) -> int:
        return self.float_cents + self.cash_sales_cents

    @property
    def difference_cents(self) -> int | None:
        return None if self.counted_cents is None else self.counted_cents - self.expected_cash_cents

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("sales_cents")
        data["opened_at"] = self.opened_at.isoformat()
        data["closed_at"] = self.closed_at.isoformat() if self.closed_at else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ZReportDoc:
        return cls(
            letterhead=Letterhead(**data["letterhead"]),
            shift_id=data["shift_id"],
            terminal=data["terminal"],
            operator=data["operator"],
            opened_at=datetime.fromisoformat(data["opened_at"]),
            closed_at=datetime.fromisoformat(data["closed_at"]) if data["closed_at"] else None,
            float_cents=data["float_cents"],
            by_payment=tuple(PaymentTotal(**p) for p in data["by_payment"]),
            by_group=tuple(GroupTotal(**g) for g in data["by_group"]),
            cash_sales_cents=data["cash_sales_cents"],
            counted_cents=data["counted_cents"],
            cancelled_orders=data.get("cancelled_orders", 0),
            cancelled_cents=data.get("cancelled_cents", 0),
            reprint=data.get("reprint", False),
        )


Document = TicketDoc | SlipDoc | ReceiptDoc | ZReportDoc
