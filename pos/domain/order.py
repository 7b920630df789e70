"""Pricing a cart, its VAT and its payment: pure rules, no I/O.

A ticket article becomes one line per unit (each ticket carries its own code and discount); any other
article becomes one line with its quantity. Prices are gross, so VAT is the part contained in them,
computed once per rate group as a German receipt shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pos.domain.money import format_plain, vat_included
from pos.domain.till import GroupAmount
from pos.errors import Refused

PAYMENT_METHODS = ("cash", "card")


class PaymentError(Refused):
    """A payment that cannot settle the order; the message is one sentence for the cashier."""


@dataclass(frozen=True, slots=True)
class CartItem:
    """An article and how many of it, as the cashier entered it."""

    article_id: int
    name: str
    group: str
    unit_price_cents: int
    vat_bp: int
    is_ticket: bool
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class PricedLine:
    """One order line; `source` is the index of the cart item it came from."""

    source: int
    article_id: int
    name: str
    group: str
    quantity: int
    unit_price_cents: int
    vat_bp: int
    is_ticket: bool
    discount_cents: int = 0  # per unit; only ticket lines carry discounts
    promo_code: str | None = None

    @property
    def final_price_cents(self) -> int:
        return self.unit_price_cents - self.discount_cents

    @property
    def total_cents(self) -> int:
        return self.final_price_cents * self.quantity


@dataclass(frozen=True, slots=True)
class VatGroup:
    rate_bp: int
    net_cents: int
    vat_cents: int
    gross_cents: int


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal_cents: int  # before discounts
    discount_cents: int
    total_cents: int
    vat: tuple[VatGroup, ...]


@dataclass(frozen=True, slots=True)
class Payment:
    method: str  # cash | card | free
    given_cents: int
    change_cents: int


def expand(items: Sequence[CartItem]) -> list[PricedLine]:
    """One line per ticket unit; one line per non-ticket article (repeats of it merge into that line)."""
    lines: list[PricedLine] = []
    merged: dict[int, int] = {}  # article id -> index in lines, for non-ticket articles
    for source, item in enumerate(items):
        if item.quantity < 1:
            raise ValueError(f"the quantity of {item.name} must be at least 1")
        if item.unit_price_cents < 0:
            raise ValueError(f"the price of {item.name} is negative")
        base = PricedLine(
            source=source,
            article_id=item.article_id,
            name=item.name,
            group=item.group,
            quantity=1,
            unit_price_cents=item.unit_price_cents,
            vat_bp=item.vat_bp,
            is_ticket=item.is_ticket,
        )
        if item.is_ticket:
            lines.extend([base] * item.quantity)
        elif item.article_id in merged:
            at = merged[item.article_id]
            lines[at] = replace(lines[at], quantity=lines[at].quantity + item.quantity)
        else:
            merged[item.article_id] = len(lines)
            lines.append(replace(base, quantity=item.quantity))
    return lines


def ticket_lines(lines: Sequence[PricedLine]) -> list[PricedLine]:
    return [line for line in lines if line.is_ticket]


def apply_discounts(
    lines: Sequence[PricedLine], codes: Sequence[str | None], discounts: Sequence[int]
) -> list[PricedLine]:
    """Give the ticket lines, in order, the code and per-ticket discount the promo allocation chose."""
    tickets = len(ticket_lines(lines))
    if len(codes) != tickets or len(discounts) != tickets:
        raise ValueError("one code and one discount per ticket line are needed")
    result: list[PricedLine] = []
    slot = 0
    for line in lines:
        if not line.is_ticket:
            result.append(line)
            continue
        discount = discounts[slot]
        if not 0 <= discount <= line.unit_price_cents:
            raise ValueError(f"a discount of {format_plain(discount)} does not fit the price of {line.name}")
        result.append(replace(line, discount_cents=discount, promo_code=codes[slot]))
        slot += 1
    return result


def vat_groups(lines: Sequence[PricedLine]) -> tuple[VatGroup, ...]:
    """VAT per rate on the gross sum of that rate's lines (rounded once per rate, half up)."""
    gross_by_rate: dict[int, int] = {}
    for line in lines:
        gross_by_rate[line.vat_bp] = gross_by_rate.get(line.vat_bp, 0) + line.total_cents
    groups = []
    for rate, gross in sorted(gross_by_rate.items()):
        vat = vat_included(gross, rate)
        groups.append(VatGroup(rate_bp=rate, net_cents=gross - vat, vat_cents=vat, gross_cents=gross))
    return tuple(groups)


def totals(lines: Sequence[PricedLine]) -> Totals:
    subtotal = sum(line.unit_price_cents * line.quantity for line in lines)
    discount = sum(line.discount_cents * line.quantity for line in lines)
    return Totals(
        subtotal_cents=subtotal,
        discount_cents=discount,
        total_cents=subtotal - discount,
        vat=vat_groups(lines),
    )


def settle(total_cents: int, method: str, given_cents: int | None = None) -> Payment:
    """Cash (given None means paid exactly), card (confirmed by the terminal), or free at total 0."""
    if method not in PAYMENT_METHODS:
        raise PaymentError("Payment method {method!r} is not known; use cash or card.", method=method)
    if given_cents is not None and method != "cash":
        raise PaymentError("An amount given is only for cash payments.")
    if total_cents == 0:
        return Payment(method="free", given_cents=0, change_cents=0)
    if method == "card":
        return Payment(method="card", given_cents=total_cents, change_cents=0)
    given = total_cents if given_cents is None else given_cents
    if given < total_cents:
        raise PaymentError(
            "Cash given ({given}) is less than the total ({total}).",
            given=format_plain(given),
            total=format_plain(total_cents),
        )
    return Payment(method="cash", given_cents=given, change_cents=given - total_cents)


def group_amounts(lines: Sequence[PricedLine]) -> list[GroupAmount]:
    """Units and amount per article group: what a journal line records for the group report."""
    groups: dict[str, list[int]] = {}
    for line in lines:
        parts = groups.setdefault(line.group, [0, 0])
        parts[0] += line.quantity
        parts[1] += line.total_cents
    return [GroupAmount(name, units, total) for name, (units, total) in sorted(groups.items())]
