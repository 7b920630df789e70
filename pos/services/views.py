"""What the cashier app's first screens get from the use cases, as plain data importable without the database.

The login and the first sale screen can come from another process (pos/screens/login_helper.py), pickled: these
classes load without SQLAlchemy and the tables, so the process that shows them need not load either for its
first screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pos.domain.availability import remaining
from pos.domain.clock import iso_local
from pos.domain.money import rate_number
from pos.domain.repeat import limit_json
from pos.services.base import Actor


@dataclass(frozen=True)
class ArticleView:
    """An article as every face sees it (the table row's values, nothing attached to a session)."""

    id: int
    name: str
    price_cents: int
    vat_bp: int
    group: str
    shop_group: str
    assortment: str
    is_ticket: bool
    hidden: bool
    stock_limit: int | None
    sold: int
    valid_from: datetime | None
    valid_until: datetime | None
    event_date: date | None
    repeat: str
    repeat_limit: int | None
    ean: str | None
    position: int

    @property
    def remaining(self) -> int | None:
        return remaining(self.stock_limit, self.sold)

    @property
    def sold_out(self) -> bool:
        return self.remaining == 0

    def json(self, zone: ZoneInfo) -> dict[str, Any]:
        left = self.remaining
        return {
            "id": self.id,
            "name": self.name,
            "price_cents": self.price_cents,
            "vat": rate_number(self.vat_bp),
            "group": self.group,
            "shop_group": self.shop_group,
            "assortment": self.assortment,
            "ticket": self.is_ticket,
            "hidden": self.hidden,
            "limit": self.stock_limit,
            "available": left,
            "sold_out": left == 0,
            "valid_from": iso_local(self.valid_from, zone),
            "valid_until": iso_local(self.valid_until, zone),
            "event_date": self.event_date.isoformat() if self.event_date else None,
            "repeat": self.repeat,
            "repeat_limit": limit_json(self.repeat, self.repeat_limit),
        }


@dataclass(frozen=True)
class ShiftView:
    id: int
    terminal: str
    operator: str
    operator_id: int | None
    opened_at: datetime
    float_cents: int
    closed_at: datetime | None
    counted_cents: int | None
    z_number: int | None


@dataclass(frozen=True)
class LoginShift:
    """What a login finds on this terminal: its own open shift, none, or another operator's open shift."""

    state: str  # own | none | other
    shift: ShiftView | None = None
    operator: str = ""


@dataclass(frozen=True)
class Login:
    """Who logged in, and what the login found on this terminal."""

    actor: Actor
    shift: LoginShift
