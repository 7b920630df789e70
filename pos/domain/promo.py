"""Promo codes on a cart: which entered code goes on which ticket so that the total deduction is the largest.

Solved exactly, not greedily in entry order (greedy gives a 50.00 code to a 20.00 ticket when it comes first
and loses 30.00). The rules: every hidden ticket is unlocked by exactly one code that unlocks its article;
every ticket gets at most one reduction; a code that both unlocks and reduces the same ticket costs one use,
an unlock by one code and a reduction by another cost one use of each. Among the allocations with the
largest total deduction the one with the fewest uses wins; a code left unused is not consumed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from pos.domain.money import percent_of
from pos.errors import Refused

# The solvers work in float64: every cost they add up must stay an exact integer.
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

    def unlocks_slot(self, slot: TicketSlot) -> bool:
        """A hidden ticket is sold only with a code that unlocks its article."""
        return slot.hidden and slot.article_id in self.unlocks


@dataclass(frozen=True)
class TicketSlot:
    """One ticket in the cart (a line of quantity 3 is three slots)."""

    article_id: int
    price_cents: int
    hidden: bool
    label: str | None = field(default=None, compare=False)  # the article name, for error messages


_Choice = tuple[
    PromoRule | None, PromoRule | None
]  # per ticket: (the code that unlocks, the one that reduces)


@dataclass(frozen=True)
class Allocation:
    """Per slot, in the order the slots were given, plus the totals."""

    codes: tuple[str | None, ...]  # the code recorded on the ticket line: its reduction, else its unlock
    discounts: tuple[int, ...]
    total_discount_cents: int
    uses: Mapping[str, int]  # code -> uses consumed (only codes used at least once)
    unused: tuple[str, ...]  # entered codes the optimum does not use: not consumed
    reduction_codes: tuple[str | None, ...]  # the code that reduces the ticket (None: full price)
    unlock_codes: tuple[str | None, ...]  # the code that unlocks a hidden ticket (None for the others)


def allocate(slots: Sequence[TicketSlot], rules: Sequence[PromoRule]) -> Allocation:
    """The allocation with the largest total deduction, then the fewest uses consumed.

    The result does not depend on the order of the slots or rules: both are put in a canonical order
    before the solver sees them (it is deterministic), and the answer is mapped back to the caller's order.
    """
    canonical_rules = _canonical_rules(rules)
    order = sorted(range(len(slots)), key=lambda i: (_slot_key(slots[i]), i))
    chosen = _solve([slots[i] for i in order], canonical_rules)
    unlock_codes: list[str | None] = [None] * len(slots)
    reduction_codes: list[str | None] = [None] * len(slots)
    discounts = [0] * len(slots)
    uses: dict[str, int] = {}
    for position, (unlocker, reducer) in zip(order, chosen, strict=True):
        if unlocker is not None:
            unlock_codes[position] = unlocker.code
        if reducer is not None:
            reduction_codes[position] = reducer.code
            discounts[position] = reducer.discount(slots[position])
        for code in {rule.code for rule in (unlocker, reducer) if rule is not None}:  # both at once: one use
            uses[code] = uses.get(code, 0) + 1
    unused = tuple(rule.code for rule in canonical_rules if rule.code not in uses)
    return Allocation(
        codes=tuple(r or u for r, u in zip(reduction_codes, unlock_codes, strict=True)),
        discounts=tuple(discounts),
        total_discount_cents=sum(discounts),
        uses=dict(sorted(uses.items())),
        unused=unused,
        reduction_codes=tuple(reduction_codes),
        unlock_codes=tuple(unlock_codes),
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


def _solve(slots: Sequence[TicketSlot], rules: Sequence[PromoRule]) -> list[_Choice]:
    """Slots in canonical order; per slot (unlocking rule, reducing rule)."""
    if not slots:
        return []
    if not any(slot.hidden for slot in slots):  # most carts: a plain assignment problem
        return [(None, reducer) for reducer in _assign_reductions(slots, rules)]
    _refuse_unless_unlockable(slots, rules)
    return _solve_with_unlocks(slots, rules)


def _kinds(slots: Sequence[TicketSlot]) -> dict[tuple[int, int, bool], list[int]]:
    """Identical tickets (same article, price, hidden) grouped: slot positions per kind, in slot order."""
    kinds: dict[tuple[int, int, bool], list[int]] = {}
    for position, slot in enumerate(slots):
        kinds.setdefault(_slot_key(slot), []).append(position)
    return kinds


def _discounts(samples: Sequence[TicketSlot], rules: Sequence[PromoRule]) -> list[list[int]]:
    """What each rule takes off one ticket of each kind (computed once per kind, not per ticket)."""
    return [[rule.discount(sample) for rule in rules] for sample in samples]


def _assign_reductions(slots: Sequence[TicketSlot], rules: Sequence[PromoRule]) -> list[PromoRule | None]:
    """No hidden tickets: min-cost assignment of tickets (rows) to code uses plus one 'no code' per ticket.

    Cost of a code on a ticket: -(discount * weight) + 1, where weight exceeds the number of tickets, so a
    single cent of deduction outweighs every use penalty together, and a use that gives nothing is avoided.
    """
    n = len(slots)
    if not rules:
        return [None] * n
    import numpy as np  # here, not at the top: one-shot commands without codes start faster
    from scipy.optimize import linear_sum_assignment

    weight = n + 1
    kinds = _kinds(slots)
    kind_of = np.empty(n, dtype=np.int64)
    for index, positions in enumerate(kinds.values()):
        kind_of[positions] = index
    samples = [slots[positions[0]] for positions in kinds.values()]
    discount = np.array(_discounts(samples, rules), dtype=np.int64).reshape(len(kinds), len(rules))[kind_of]
    if n * (int(discount.max(initial=0)) * weight + 1) >= _EXACT_LIMIT:
        raise _too_large()
    useful = discount > 0
    counts = [max(0, min(rule.uses_left, int(useful[:, j].sum()))) for j, rule in enumerate(rules)]
    columns = np.repeat(np.arange(len(rules)), counts)
    per_rule = np.where(useful, 1 - discount * weight, 1)
    cost = np.hstack([per_rule[:, columns], np.zeros((n, n), dtype=np.int64)]).astype(np.float64)
    rows, cols = linear_sum_assignment(cost)
    chosen: list[PromoRule | None] = [None] * n
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        if col < len(columns):
            chosen[row] = rules[int(columns[col])]
    return chosen


def _refuse_unless_unlockable(slots: Sequence[TicketSlot], rules: Sequence[PromoRule]) -> None:
    """Every hidden ticket needs one unlock use: a max flow kinds -> codes; a kind left short is named.

    Reductions never make a cart infeasible (they are optional), so this decides feasibility alone.
    """
    hidden = {key: positions for key, positions in _kinds(slots).items() if key[2]}
    samples = [slots[positions[0]] for positions in hidden.values()]
    unlockers = [j for j, rule in enumerate(rules) if rule.unlocks and rule.uses_left > 0]
    edges = [
        (k, i)
        for k, sample in enumerate(samples)
        for i, j in enumerate(unlockers)
        if rules[j].unlocks_slot(sample)
    ]
    served = {k for k, _ in edges}
    for k, sample in enumerate(samples):
        if k not in served:
            raise _unserved(sample)
    import numpy as np
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import maximum_flow

    # nodes: 0 source, 1..K kinds, K+1..K+J codes, K+J+1 sink
    k_count, j_count = len(samples), len(unlockers)
    sink = k_count + j_count + 1
    demand = [len(positions) for positions in hidden.values()]
    tails = [0] * k_count + [1 + k for k, _ in edges] + [1 + k_count + i for i in range(j_count)]
    heads = [1 + k for k in range(k_count)] + [1 + k_count + i for _, i in edges] + [sink] * j_count
    capacity = demand + [max(demand)] * len(edges) + [min(rules[j].uses_left, sum(demand)) for j in unlockers]
    graph = csr_array(
        (np.array(capacity, dtype=np.int32), (np.array(tails), np.array(heads))), shape=(sink + 1, sink + 1)
    )
    flow = maximum_flow(graph, 0, sink).flow
    for k, sample in enumerate(samples):
        if flow[0, 1 + k] < demand[k]:
            raise _unserved(sample)


def _solve_with_unlocks(slots: Sequence[TicketSlot], rules: Sequence[PromoRule]) -> list[_Choice]:
    """Hidden tickets: an exact integer program (HiGHS) over kinds of identical tickets.

    Variables: how many tickets of kind k code j unlocks only (hidden k, j unlocks it), reduces only (j takes
    something off), or unlocks and reduces (one use). Each hidden kind gets exactly one unlock per ticket,
    each kind at most one reduction per ticket, each code at most its uses left. Objective: weight *
    deduction - uses, weight above the largest possible number of uses, so one cent outweighs every use.
    The solution is then handed out to the tickets of each kind in a fixed order.
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    kinds = _kinds(slots)
    samples = [slots[positions[0]] for positions in kinds.values()]
    discount = _discounts(samples, rules)
    weight = 2 * len(slots) + 1
    if weight * sum(slot.price_cents for slot in slots) + weight >= _EXACT_LIMIT:
        raise _too_large()
    variables: list[tuple[int, int, str]] = []  # (kind, rule, "unlock" | "reduce" | "both")
    for k, sample in enumerate(samples):
        for j, rule in enumerate(rules):
            if discount[k][j] > 0:
                variables.append((k, j, "reduce"))
            if rule.unlocks_slot(sample):
                variables.append((k, j, "unlock"))
                if discount[k][j] > 0:
                    variables.append((k, j, "both"))
    count = [len(positions) for positions in kinds.values()]
    n_kinds, n_vars = len(samples), len(variables)
    # rows: 0..K-1 unlocks per kind (== count for hidden kinds), K..2K-1 reductions per kind, then per rule
    rows: list[int] = []
    columns: list[int] = []
    objective = np.zeros(n_vars)
    upper = np.zeros(n_vars)
    for v, (k, j, kind) in enumerate(variables):
        if kind != "reduce":
            rows.append(k)
            columns.append(v)
        if kind != "unlock":
            rows.append(n_kinds + k)
            columns.append(v)
            objective[v] -= weight * discount[k][j]
        rows.append(2 * n_kinds + j)
        columns.append(v)
        objective[v] += 1
        upper[v] = max(0, min(count[k], rules[j].uses_left))
    matrix = coo_array(
        (np.ones(len(rows)), (np.array(rows), np.array(columns))), shape=(2 * n_kinds + len(rules), n_vars)
    ).tocsr()
    hidden_count = [c if sample.hidden else 0 for c, sample in zip(count, samples, strict=True)]
    lower_bounds = hidden_count + [0] * (n_kinds + len(rules))
    upper_bounds = hidden_count + count + [max(0, rule.uses_left) for rule in rules]
    problem = {
        "c": objective,
        "bounds": Bounds(np.zeros(n_vars), upper),
        "constraints": LinearConstraint(matrix, lower_bounds, upper_bounds),
    }
    # The relaxation is often integral already (then it is the optimum too) and is several times faster.
    result = milp(**problem)
    if result.status != 0 or result.x is None or np.abs(result.x - np.rint(result.x)).max() > 1e-6:
        result = milp(**problem, integrality=np.ones(n_vars), options={"mip_rel_gap": 0.0})
    if result.status != 0 or result.x is None:  # feasibility was checked: this is a solver failure
        raise RuntimeError(f"promo allocation: the integer program failed ({result.message})")
    amounts = np.rint(result.x).astype(np.int64).tolist()
    return _hand_out(slots, kinds, rules, variables, amounts)


def _hand_out(
    slots: Sequence[TicketSlot],
    kinds: Mapping[tuple[int, int, bool], list[int]],
    rules: Sequence[PromoRule],
    variables: Sequence[tuple[int, int, str]],
    amounts: Sequence[int],
) -> list[_Choice]:
    """Per kind, in slot order: first the tickets that one code unlocks and reduces, then the unlock-only
    tickets (which take the reduce-only uses first), then the rest."""
    chosen: list[_Choice] = [(None, None)] * len(slots)
    wanted: dict[tuple[int, str], list[PromoRule]] = {}
    for (k, j, kind), amount in zip(variables, amounts, strict=True):
        wanted.setdefault((k, kind), []).extend([rules[j]] * amount)
    for k, positions in enumerate(kinds.values()):
        unlocks: list[_Choice] = [(rule, rule) for rule in wanted.get((k, "both"), [])]
        reductions = iter(wanted.get((k, "reduce"), []))
        unlocks += [(rule, next(reductions, None)) for rule in wanted.get((k, "unlock"), [])]
        plain: list[_Choice] = [(None, rule) for rule in reductions]
        if slots[positions[0]].hidden:
            if len(unlocks) != len(positions) or plain:
                raise RuntimeError("promo allocation: the integer program broke a per-ticket rule")
            given = unlocks
        else:
            given = plain + [(None, None)] * (len(positions) - len(plain))
        for position, choice in zip(positions, given, strict=True):
            chosen[position] = choice
    return chosen


def _too_large() -> PromoError:
    return PromoError("The prices in this cart are too large to allocate promo codes exactly.")


def _unserved(slot: TicketSlot) -> PromoError:
    name = slot.label or f"article #{slot.article_id}"
    return PromoError(
        f"{name} is hidden and no entered code with a use left unlocks this ticket.",
        article_id=slot.article_id,
    )


# --- entered codes: stages and validity ---------------------------------------------------------------


@dataclass(frozen=True)
class StoredCode:
    """A promo code as stored: what it does, its uses and its validity window."""

    code: str
    amount_cents: int | None
    percent_bp: int | None
    uses: int
    used: int
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    unlocks: frozenset[int] = frozenset()
    applies_to: frozenset[int] | None = None

    def rule(self) -> PromoRule:
        return PromoRule(
            code=self.code,
            amount_cents=self.amount_cents,
            percent_bp=self.percent_bp,
            uses_left=self.uses - self.used,
            unlocks=self.unlocks,
            applies_to=self.applies_to,
        )


@dataclass(frozen=True)
class EnteredCodes:
    """The codes of one order by stage: unlock codes at the start, promo codes at payment, a direct link."""

    unlock: tuple[str, ...] = ()
    promo: tuple[str, ...] = ()
    link: str | None = None

    @classmethod
    def of(
        cls, unlock: Sequence[str] = (), promo: Sequence[str] = (), link: str | None = None
    ) -> EnteredCodes:
        """Normalised (trimmed, upper case), empty entries dropped, a code entered twice counted once."""
        return cls(
            unlock=_unique(normalise_code(c) for c in unlock),
            promo=_unique(normalise_code(c) for c in promo),
            link=normalise_code(link) if link and link.strip() else None,
        )

    @property
    def all(self) -> tuple[str, ...]:
        return _unique([*([self.link] if self.link else []), *self.unlock, *self.promo])

    def __bool__(self) -> bool:
        return bool(self.all)


def normalise_code(text: str) -> str:
    return text.strip().upper()


def _unique(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for c in codes if c))


def check_codes(
    entered: EnteredCodes, stored: Mapping[str, StoredCode], now: datetime, zone: ZoneInfo
) -> list[PromoRule]:
    """The entered codes as rules for the allocation; any code that cannot be used refuses the whole order.

    Stages: unlock codes come at the start and may not be pure reductions; promo codes come at payment and may
    be anything; a direct-link code may reduce at the start, but then the order takes no other code.
    """
    link = entered.link
    if link:
        others = [c for c in (*entered.unlock, *entered.promo) if c != link]
        if others:
            raise Refused(
                "Code {code} cannot be added: an order from a promo direct link ({link}) takes no other code.",
                code=others[0],
                link=link,
            )
    rules = []
    for code in entered.all:
        promo = stored.get(code)
        if promo is None:
            raise Refused("Promo code {code} does not exist.", code=code)
        check_usable(promo, now, zone)
        rule = promo.rule()
        at_start_only = code in entered.unlock and code not in entered.promo and code != link
        if at_start_only and not rule.unlocks:
            raise Refused("Code {code} reduces prices; enter it at payment.", code=code)
        rules.append(rule)
    return rules


def check_usable(promo: StoredCode, now: datetime, zone: ZoneInfo) -> None:
    """Inside its validity window and with a use left (the sale's compare-and-set decides races)."""
    if promo.valid_from is not None and now < promo.valid_from:
        when = f"{promo.valid_from.astimezone(zone):%Y-%m-%d %H:%M}"
        raise Refused("Promo code {code} is not valid before {when}.", code=promo.code, when=when)
    if promo.valid_until is not None and now >= promo.valid_until:
        when = f"{promo.valid_until.astimezone(zone):%Y-%m-%d %H:%M}"
        raise Refused("Promo code {code} expired on {when}.", code=promo.code, when=when)
    if promo.used >= promo.uses:
        raise Refused("Promo code {code} is used up.", code=promo.code)


def unlocked_by(rules: Sequence[PromoRule]) -> frozenset[int]:
    return frozenset().union(*(rule.unlocks for rule in rules)) if rules else frozenset()


# --- defining codes -----------------------------------------------------------------------------------

MAX_CODE_LENGTH = 64
MAX_BATCH = 100_000


def check_code_text(text: str) -> str:
    """A code as customers type it: 1 to 64 printable characters without spaces, not starting with '#'."""
    code = normalise_code(text)
    if not code or len(code) > MAX_CODE_LENGTH or any(ch.isspace() or not ch.isprintable() for ch in code):
        raise Refused(
            "Promo code {code!r} must be 1 to {n} characters without spaces.", code=text, n=MAX_CODE_LENGTH
        )
    if code.startswith("#"):
        raise Refused("Promo code {code} must not start with '#'.", code=code)
    return code


def check_definition(
    *,
    amount_cents: int | None,
    percent_bp: int | None,
    unlocks: bool,
    applies_to: bool,
    uses: int,
    valid_from: datetime | None,
    valid_until: datetime | None,
) -> None:
    """What a new code may be: it does something, reduces one way at most, has uses, a window that makes sense."""
    if amount_cents is not None and percent_bp is not None:
        raise Refused("A code reduces by a fixed amount or by a percentage, not both.")
    if amount_cents is not None and amount_cents <= 0:
        raise Refused("The amount of a code must be more than 0.")
    if percent_bp is not None and not 0 < percent_bp <= 10000:
        raise Refused("The percentage of a code must be more than 0 and at most 100.")
    if amount_cents is None and percent_bp is None and not unlocks:
        raise Refused("A code must do something: reduce by an amount or a percentage, or unlock an article.")
    if uses < 1:
        raise Refused("The number of uses must be 1 or more.")
    if valid_from and valid_until and valid_until <= valid_from:
        raise Refused("The validity window ends before it starts.")
    if applies_to and amount_cents is None and percent_bp is None:
        raise Refused("Limiting a code to articles needs a reduction (an amount or a percentage).")
