"""The cart of the sale screen: what the cashier has put together, kept while paying and when going back.

Its own module so the payment screen can take a cart without importing the sale screen (which opens it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pos.domain.till import TenderRequest
from pos.services.loading import load_database_side

if TYPE_CHECKING:
    from pos.services.checkout import SaleRequest


@dataclass
class CartEntry:
    article_id: int
    quantity: int = 1
    valid_from: datetime | None = None  # a window from a cart link (complex validity)
    valid_until: datetime | None = None


@dataclass
class Cart:
    entries: list[CartEntry] = field(default_factory=list)
    unlock_codes: list[str] = field(default_factory=list)
    link: str | None = None  # the signed cart link this cart came from (its customer and promo win)
    link_promo: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    promo_codes: list[str] = field(
        default_factory=list
    )  # entered at payment; kept when going back to the cart
    tenders: list[TenderRequest] = field(default_factory=list)  # part payments already taken

    def units(self, article_id: int) -> int:
        return sum(entry.quantity for entry in self.entries if entry.article_id == article_id)

    def request(self) -> SaleRequest:
        load_database_side()
        from pos.services.checkout import CartLine, SaleRequest

        return SaleRequest(
            lines=[CartLine(e.article_id, e.quantity, e.valid_from, e.valid_until) for e in self.entries],
            unlock_codes=list(self.unlock_codes),
            link_promo=self.link_promo,
            guest_name=self.customer_name,
            guest_email=self.customer_email,
            cart_link=self.link,
        )
