"""Promo codes on a cart: which entered code goes on which ticket so that the total deduction is the largest.

An exact assignment problem (tickets x code uses), not a greedy pass in entry order: greedy gives a 50.00
code to a 20.00 ticket when it comes first and loses 30.00. Hidden tickets must each get a code that
unlocks them; a code is never consumed where it gives nothing (an unlock-only code only on a hidden ticket).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pos.domain.money import percent_of

# The solver works in float64: every cost it adds up must stay an exact integer.
_EXACT_LIMIT = 2**52


class PromoError(ValueError):
    """The codes cannot serve the cart (a hidden ticket no entered code unlocks); one sentence."""

    def __init__(self, message: str, *, article_id: int | None = None) -> None:
        super().__init__(message)
        self.article_id = article_id


@dataclass(frozen=True)
class PromoRule:
    """One entered code as the allocation sees it: what it does and how many uses it has left."""

    code: str
    amount_cents: int | None
    percent_bp: int | None
    uses_left: int
    unlocks: frozenset[int] = frozenset()
    applies_to: frozenset[int] | None = None  # None: every ticket article

    def __post_init__(self) -> None:
        if self.amount_cents is not None and self.percent_bp is not None:
            raise ValueError(f"Code {self.code} has both a fixed amount and a percentage; give one.")
        if (self.amount_cents or 0) < 0 or not 0 <= (self.percent_bp or 0) <= 10000:
            raise ValueError(f"Code {self.code} has a negative amount or a percentage above 100.")

    @property
    def reduces(self) -> bool:
        return self.amount_cents is not None or self.percent_bp is not None

    def discount(self, slot: TicketSlot) -> int:
        """What this code takes off this ticket (0 when it does not apply); never below a price of 0."""
        if self.applies_to is not None and slot.article_id not in self.applies_to:
            return 0
        if self.amount_cents is not None:
            return min(self.amount_cents, slot.price_cents)
        if self.percent_bp is not None:
            return min(percent_of(slot.price_cents, self.percent_bp), slot.price_cents)
        return 0

    def can_serve(self, slot: TicketSlot) -> bool:
        """A hidden ticket takes only a code that unlocks its article; any other ticket takes any code."""
        return not slot.hidden or slot.article_id in self.unlocks


@dataclass(frozen=True)
class TicketSlot:
    """One ticket in the cart (a line of quantity 3 is three slots)."""

    article_id: int
    price_cents: int
    hidden: bool
    label: str | None = field(default=None, compare=False)  # the article name, for error messages


@dataclass(frozen=True)
class Allocation:
    codes: tuple[str | None, ...]  # per slot, in the order the slots were given
    discounts: tuple[int, ...]
    total_discount_cents: int
    uses: Mapping[str, int]  # code -> uses consumed (only codes used at least once)
    unused: tuple[str, ...]  # entered codes the optimum does not use: not consumed


def allocate(slots: Sequence[TicketSlot], rules: Sequence[PromoRule]) -> Allocation:
    """The allocation with the largest total deduction, then the fewest uses consumed.

    The result does not depend on the order of the slots or rules: both are put in a canonical order
    before the matrix is built, and the answer is mapped back to the caller's order.
    """
    canonical_rules = _canonical_rules(rules)
    order = sorted(range(len(slots)), key=lambda i: (_slot_key(slots[i]), i))
    ordered_slots = [slots[i] for i in order]
    chosen = _solve(ordered_slots, canonical_rules)
    codes: list[str | None] = [None] * len(slots)
    discounts = [0] * len(slots)
    uses: dict[str, int] = {}
    for position, rule in zip(order, chosen, strict=True):
        if rule is None:
            continue
        codes[position] = rule.code
        discounts[position] = rule.discount(slots[position])
        uses[rule.code] = uses.get(rule.code, 0) + 1
    unused = tuple(rule.code for rule in canonical_rules if rule.code not in uses)
    return Allocation(
        codes=tuple(codes),
        discounts=tuple(discounts),
        total_discount_cents=sum(discounts),
        uses=dict(sorted(uses.items())),
        unused=unused,
    )


def _slot_key(slot: TicketSlot) -> tuple[int, int, bool]:
    return (slot.article_id, slot.price_cents, slot.hidden)


def _canonical_rules(rules: Sequence[PromoRule]) -> list[PromoRule]:
    """Sorted by code; a code given twice counts once (the first, after sorting, wins)."""
    seen: dict[str, PromoRule] = {}
    for rule in sorted(rules, key=_rule_key):
        seen.setdefault(rule.code, rule)
    return list(seen.values())


def _rule_key(rule: PromoRule) -> tuple[str, int, int, int, tuple[int, ...], tuple[int, ...] | None]:
    applies = None if rule.applies_to is None else tuple(sorted(rule.applies_to))
    return (
        rule.code,
        -1 if rule.amount_cents is None else rule.amount_cents,
        -1 if rule.percent_bp is None else rule.percent_bp,
        -rule.uses_left,
        tuple(sorted(rule.unlocks)),
        applies,
    )


def _solve(slots: Sequence[TicketSlot], rules: Sequence[PromoRule]) -> list[PromoRule | None]:
    """Min-cost assignment of tickets (rows) to code-use columns plus one 'no code' column per ticket.

    Cost of a code on a ticket: -(discount * weight) + 1, where weight exceeds the number of tickets, so a
    single cent of deduction outweighs every use penalty together, and a use that gives nothing is avoided.
    Pairs that are not allowed (a hidden ticket without its unlock code) cost `forbidden`, larger than any
    sum of allowed costs, so the solver uses one only when no allowed assignment exists.
    """
    n = len(slots)
    if n == 0:
        return []
    if not rules:
        hidden_slot = next((slot for slot in slots if slot.hidden), None)
        if hidden_slot is not None:
            raise _unserved(hidden_slot)
        return [None] * n
    import numpy as np  # here, not at the top: one-shot commands without codes start faster
    from scipy.optimize import linear_sum_assignment

    weight = n + 1
    kinds = list(dict.fromkeys(_slot_key(slot) for slot in slots))  # a cart has few distinct tickets
    kind_of = np.array([kinds.index(_slot_key(slot)) for slot in slots])
    samples = [TicketSlot(*kind) for kind in kinds]
    discount = np.array([[r.discount(s) for r in rules] for s in samples], dtype=np.int64)
    discount = discount.reshape(len(kinds), len(rules))[kind_of]
    allowed = np.array([[r.can_serve(s) for r in rules] for s in samples], dtype=bool)
    allowed = allowed.reshape(len(kinds), len(rules))[kind_of]
    top = int(discount.max(initial=0)) * weight + 1
    forbidden = n * top + n + 1
    if 2 * n * forbidden >= _EXACT_LIMIT:
        raise PromoError("The prices in this cart are too large to allocate promo codes exactly.")
    per_rule = np.where(allowed, 1 - discount * weight, forbidden)
    hidden = np.array([slot.hidden for slot in slots], dtype=bool)
    useful = allowed & (hidden[:, None] | (discount > 0))  # elsewhere a use would only cost
    counts = [max(0, min(rule.uses_left, int(useful[:, j].sum()))) for j, rule in enumerate(rules)]
    columns = np.repeat(np.arange(len(rules)), counts)
    no_code = np.where(hidden, forbidden, 0)[:, None] * np.ones((1, n), dtype=np.int64)
    cost = np.hstack([per_rule[:, columns], no_code]).astype(np.float64)
    rows, cols = linear_sum_assignment(cost)
    chosen: list[PromoRule | None] = [None] * n
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        if cost[row, col] >= forbidden:
            raise _unserved(slots[row])
        if col < len(columns):
            chosen[row] = rules[int(columns[col])]
    return chosen


def _unserved(slot: TicketSlot) -> PromoError:
    name = slot.label or f"article #{slot.article_id}"
    return PromoError(
        f"{name} is hidden and no entered code with a use left unlocks this ticket.",
        article_id=slot.article_id,
    )
