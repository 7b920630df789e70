"""Promo allocation: exact optimum (checked against brute force), hidden tickets, rounding, order independence.

The model: each hidden ticket is unlocked by exactly one code that unlocks its article; each ticket gets at
most one reduction; one code unlocking and reducing the same ticket costs one use, two codes one use each.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos.domain.promo import Allocation, PromoError, PromoRule, TicketSlot, allocate

ADULT, CHILD, VIP, SPONSOR, BACKSTAGE = 1, 2, 3, 4, 5
HIDDEN = {VIP, SPONSOR, BACKSTAGE}


def amount(code: str, cents: int, uses: int = 1, **kw: object) -> PromoRule:
    return PromoRule(code=code, amount_cents=cents, percent_bp=None, uses_left=uses, **kw)  # type: ignore[arg-type]


def percent(code: str, bp: int, uses: int = 1, **kw: object) -> PromoRule:
    return PromoRule(code=code, amount_cents=None, percent_bp=bp, uses_left=uses, **kw)  # type: ignore[arg-type]


def unlock(code: str, *articles: int, uses: int = 1) -> PromoRule:
    return PromoRule(
        code=code, amount_cents=None, percent_bp=None, uses_left=uses, unlocks=frozenset(articles)
    )


def ticket(article: int, cents: int) -> TicketSlot:
    return TicketSlot(article_id=article, price_cents=cents, hidden=article in HIDDEN)


# --- examples --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [("C50", "C20"), ("C20", "C50")])
def test_seed_example_both_tickets_free_whatever_the_entry_order(order: tuple[str, str]) -> None:
    codes = {"C50": amount("C50", 5000), "C20": amount("C20", 2000)}
    slots = [ticket(ADULT, 5000), ticket(CHILD, 2000)]
    result = allocate(slots, [codes[c] for c in order])
    assert result.codes == ("C50", "C20")
    assert result.discounts == (5000, 2000)
    assert sum(s.price_cents for s in slots) - result.total_discount_cents == 0
    assert dict(result.uses) == {"C20": 1, "C50": 1} and result.unused == ()


def greedy_in_entry_order(slots: Sequence[TicketSlot], rules: Sequence[PromoRule]) -> int:
    """What the systems we replace do: each code, as entered, on the ticket where it takes off most."""
    taken: set[int] = set()
    total = 0
    for rule in rules:
        for _ in range(rule.uses_left):
            options = [(rule.discount(s), -i) for i, s in enumerate(slots) if i not in taken and not s.hidden]
            if not options:
                break
            best, neg_index = max(options)
            if best == 0:
                break
            taken.add(-neg_index)
            total += best
    return total


def test_greedy_in_entry_order_loses_money_the_optimum_does_not() -> None:
    slots = [ticket(ADULT, 5000), ticket(CHILD, 2000), ticket(CHILD, 2000)]
    rules = [amount("FIRST20", 2000), percent("HALF", 5000, uses=2), amount("LATE50", 5000)]
    greedy = greedy_in_entry_order(slots, rules)
    result = allocate(slots, rules)
    assert greedy == 2000 + 1000 + 1000  # FIRST20 grabs the adult ticket; HALF the children; LATE50 is left
    assert result.total_discount_cents == 5000 + 2000 + 1000
    assert result.total_discount_cents == brute_force(slots, rules)[0]
    assert result.codes == ("LATE50", "FIRST20", "HALF")


@pytest.mark.parametrize(
    ("price", "bp", "expected"),
    [
        (999, 3300, 330),  # 329.67 cents
        (999, 1000, 100),  # 99.9
        (1, 5000, 1),  # 0.5 rounds half up
        (3, 5000, 2),  # 1.5
        (5, 1250, 1),  # 0.625
        (4, 1250, 1),  # 0.5
        (3, 1250, 0),  # 0.375
        (5000, 10000, 5000),
        (0, 5000, 0),
    ],
)
def test_percentage_rounds_half_up_to_the_cent(price: int, bp: int, expected: int) -> None:
    assert percent("P", bp).discount(ticket(ADULT, price)) == expected


def test_fixed_amount_never_takes_a_price_below_zero() -> None:
    result = allocate([ticket(CHILD, 2000)], [amount("BIG", 5000)])
    assert result.discounts == (2000,)


def test_one_cent_is_worth_a_use() -> None:
    result = allocate([ticket(ADULT, 1), ticket(CHILD, 999)], [amount("CENT", 1, uses=2), percent("P", 1)])
    assert result.discounts == (1, 1) and result.total_discount_cents == 2


def test_zero_value_code_is_not_consumed() -> None:
    result = allocate([ticket(ADULT, 0)], [percent("P", 1000), amount("A", 500)])
    assert result.codes == (None,) and result.uses == {} and result.unused == ("A", "P")


def test_unlock_only_code_is_used_only_where_needed() -> None:
    slots = [ticket(ADULT, 5000), ticket(VIP, 12000)]
    result = allocate(slots, [unlock("VIP", VIP, uses=5), percent("TEN", 1000)])
    assert result.unlock_codes == (None, "VIP")
    assert result.reduction_codes == (None, "TEN") and result.discounts == (0, 1200)  # 10 % of the dearer
    assert result.codes == (None, "TEN")  # the line shows its reduction
    assert dict(result.uses) == {"TEN": 1, "VIP": 1}


def test_unlock_only_code_does_not_block_a_reduction_on_the_same_ticket() -> None:
    """The demo case: VIP2027 unlocks Konzert VIP (120.00), SAVE10 takes 10 % off it: two uses, one each."""
    slot = TicketSlot(VIP, 12000, hidden=True, label="Konzert VIP")
    rules = [unlock("VIP2027", VIP, uses=20), percent("SAVE10", 1000, uses=100)]
    for entered in (rules, rules[::-1]):
        result = allocate([slot], entered)
        assert result.unlock_codes == ("VIP2027",) and result.reduction_codes == ("SAVE10",)
        assert result.discounts == (1200,) and 12000 - result.total_discount_cents == 10800
        assert dict(result.uses) == {"SAVE10": 1, "VIP2027": 1} and result.unused == ()


def test_unlock_only_ticket_line_shows_its_unlock_code() -> None:
    result = allocate([ticket(VIP, 12000)], [unlock("VIP", VIP)])
    assert result.codes == ("VIP",) and result.reduction_codes == (None,) and result.discounts == (0,)


def test_combined_code_on_one_ticket_costs_one_use_rather_than_adding_an_unlock_only_code() -> None:
    both = PromoRule("VIPHALF", None, 5000, uses_left=1, unlocks=frozenset({VIP}))
    result = allocate([ticket(VIP, 12000)], [unlock("U", VIP, uses=3), both])
    assert result.unlock_codes == ("VIPHALF",) and result.reduction_codes == ("VIPHALF",)
    assert result.discounts == (6000,) and dict(result.uses) == {"VIPHALF": 1} and result.unused == ("U",)


@pytest.mark.parametrize("unlock_uses", [1, 2])
def test_one_use_combined_code_and_an_unlock_only_code_serve_two_hidden_tickets(unlock_uses: int) -> None:
    """Feasible only because the combined code's single use both unlocks and reduces one ticket."""
    both = PromoRule("VIPHALF", None, 5000, uses_left=1, unlocks=frozenset({VIP}))
    result = allocate([ticket(VIP, 12000), ticket(VIP, 12000)], [both, unlock("U", VIP, uses=unlock_uses)])
    assert Counter(zip(result.unlock_codes, result.reduction_codes, strict=True)) == Counter(
        {("VIPHALF", "VIPHALF"): 1, ("U", None): 1}
    )
    assert result.total_discount_cents == 6000 and dict(result.uses) == {"U": 1, "VIPHALF": 1}


def test_one_use_combined_code_cannot_unlock_two_hidden_tickets() -> None:
    both = PromoRule("VIPHALF", None, 5000, uses_left=1, unlocks=frozenset({VIP}))
    with pytest.raises(PromoError):
        allocate([ticket(VIP, 12000), ticket(VIP, 12000)], [both, percent("TEN", 1000, uses=5)])


def test_scarce_unlock_uses_go_where_they_keep_the_cart_feasible() -> None:
    """ANY unlocks both hidden articles; ONLY_VIP only VIP: ANY must go to the sponsor ticket."""
    rules = [unlock("ANY", VIP, SPONSOR), unlock("ONLY_VIP", VIP), percent("TEN", 1000, uses=2)]
    result = allocate([ticket(SPONSOR, 8000), ticket(VIP, 12000)], rules)
    assert result.unlock_codes == ("ANY", "ONLY_VIP") and result.reduction_codes == ("TEN", "TEN")
    assert result.discounts == (800, 1200) and dict(result.uses) == {"ANY": 1, "ONLY_VIP": 1, "TEN": 2}


def test_unused_code_is_reported_and_not_consumed() -> None:
    result = allocate([ticket(CHILD, 2000)], [amount("C50", 5000), amount("C20", 2000)])
    assert result.total_discount_cents == 2000
    assert len(result.uses) == 1 and sum(result.uses.values()) == 1
    assert len(result.unused) == 1


def test_unlock_and_reduction_on_one_ticket_costs_one_use() -> None:
    vip_half = PromoRule("VIPHALF", None, 5000, uses_left=2, unlocks=frozenset({VIP}))
    result = allocate([ticket(VIP, 12000), ticket(ADULT, 5000)], [vip_half])
    assert result.codes == ("VIPHALF", "VIPHALF") and result.unlock_codes == ("VIPHALF", None)
    assert result.discounts == (6000, 2500) and dict(result.uses) == {"VIPHALF": 2}


def test_cart_whose_relaxation_is_fractional_is_solved_as_an_integer_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three hidden articles and codes in an odd cycle: the LP relaxation alone would split uses in halves."""
    import scipy.optimize

    integer_runs = []
    real_milp = scipy.optimize.milp

    def recording_milp(*args: object, **kwargs: object) -> object:
        integer_runs.append(kwargs.get("integrality") is not None)
        return real_milp(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scipy.optimize, "milp", recording_milp)
    slots = [ticket(SPONSOR, 3000), ticket(BACKSTAGE, 5000), ticket(VIP, 5000)]
    rules = [
        unlock("C0", VIP, BACKSTAGE),
        PromoRule("C2", None, 5000, 2, frozenset({VIP}), frozenset({SPONSOR, BACKSTAGE})),
        unlock("C3", VIP, SPONSOR),
        PromoRule("C4", None, 3300, 1, frozenset({SPONSOR, BACKSTAGE})),
    ]
    result = allocate(slots, rules)
    assert integer_runs == [False, True]
    check_valid(slots, rules, result)
    assert (result.total_discount_cents, sum(result.uses.values())) == brute_force(slots, rules) == (4150, 5)


def test_hidden_ticket_without_its_unlock_code_is_refused_naming_the_article() -> None:
    slot = TicketSlot(VIP, 12000, hidden=True, label="Konzert VIP")
    with pytest.raises(PromoError, match="Konzert VIP") as caught:
        allocate([slot], [amount("C50", 5000), unlock("OTHER", SPONSOR)])
    assert caught.value.article_id == VIP


def test_more_hidden_tickets_than_unlock_uses_is_refused() -> None:
    with pytest.raises(PromoError):
        allocate([ticket(VIP, 12000), ticket(VIP, 12000)], [unlock("VIP", VIP, uses=1)])


def test_hidden_ticket_takes_the_unlock_code_even_if_a_reduction_elsewhere_is_worth_more() -> None:
    both = PromoRule("BOTH", 5000, None, uses_left=1, unlocks=frozenset({VIP}))
    result = allocate([ticket(ADULT, 5000), ticket(VIP, 1000)], [both])
    assert result.codes == (None, "BOTH") and result.discounts == (0, 1000)
    assert result.unlock_codes == (None, "BOTH") and dict(result.uses) == {"BOTH": 1}


def test_applies_to_limits_the_reduction() -> None:
    only_child = amount("KIDS", 1000, uses=3, applies_to=frozenset({CHILD}))
    result = allocate([ticket(ADULT, 5000), ticket(CHILD, 2000)], [only_child])
    assert result.codes == (None, "KIDS") and result.total_discount_cents == 1000


def test_multi_use_code_reduces_several_tickets_one_use_each() -> None:
    result = allocate([ticket(ADULT, 5000)] * 3, [percent("TEN", 1000, uses=2)])
    assert sorted(result.discounts) == [0, 500, 500] and dict(result.uses) == {"TEN": 2}


def test_code_given_twice_counts_once() -> None:
    result = allocate([ticket(ADULT, 5000)] * 2, [amount("X", 1000), amount("X", 1000)])
    assert result.total_discount_cents == 1000 and dict(result.uses) == {"X": 1}


def test_empty_cart_and_no_codes() -> None:
    assert allocate([], [amount("X", 1)]) == Allocation((), (), 0, {}, ("X",), (), ())
    assert allocate([ticket(ADULT, 100)], []).codes == (None,)


def test_rule_with_amount_and_percent_is_rejected() -> None:
    with pytest.raises(ValueError, match="both"):
        PromoRule("X", 100, 1000, uses_left=1)


# --- properties ----------------------------------------------------------------------------------------


def brute_force(slots: Sequence[TicketSlot], rules: Sequence[PromoRule]) -> tuple[int, int] | None:
    """(largest total deduction, fewest uses for it) over every per-ticket choice, or None if none is allowed.

    Per ticket: an unlock code (exactly one that unlocks it if hidden, none otherwise) and a reduction code
    (none, or any code at all); the set of the two codes is what the ticket uses. Exhaustive, memoised on
    (ticket, uses left), so it stays fast.
    """
    rules = list({r.code: r for r in rules}.values())  # a code entered twice counts once

    @cache
    def best(i: int, left: tuple[int, ...]) -> tuple[int, int] | None:
        if i == len(slots):
            return (0, 0)
        slot = slots[i]
        unlockers: list[int | None] = (
            [j for j, r in enumerate(rules) if r.unlocks_slot(slot)] if slot.hidden else [None]
        )
        found: tuple[int, int] | None = None
        for u in unlockers:
            for r in [None, *range(len(rules))]:
                used = {j for j in (u, r) if j is not None}
                if any(left[j] < 1 for j in used):
                    continue
                rest = best(i + 1, tuple(n - (j in used) for j, n in enumerate(left)))
                if rest is None:
                    continue
                total = rest[0] + (rules[r].discount(slot) if r is not None else 0)
                uses = rest[1] + len(used)
                if found is None or (total, -uses) > (found[0], -found[1]):
                    found = (total, uses)
        return found

    return best(0, tuple(r.uses_left for r in rules))


PRICES = st.sampled_from([0, 1, 3, 999, 1500, 2000, 3333, 5000, 12000])
ARTICLES = st.sampled_from([ADULT, CHILD, VIP, SPONSOR, BACKSTAGE])


@st.composite
def carts(draw: st.DrawFn) -> tuple[list[TicketSlot], list[PromoRule]]:
    slots = [ticket(draw(ARTICLES), draw(PRICES)) for _ in range(draw(st.integers(0, 7)))]
    rules = []
    for n in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["amount", "percent", "unlock", "unlock+amount", "unlock+percent"]))
        unlocks = (
            frozenset(draw(st.sets(st.sampled_from(sorted(HIDDEN)), min_size=1)))
            if "unlock" in kind
            else frozenset()
        )
        applies = draw(
            st.none() | st.frozensets(st.sampled_from([ADULT, CHILD, *sorted(HIDDEN)]), min_size=1)
        )
        cents = draw(st.sampled_from([1, 500, 1000, 2000, 5000, 20000])) if "amount" in kind else None
        bp = draw(st.sampled_from([1, 1000, 3300, 5000, 10000])) if "percent" in kind else None
        uses = draw(st.integers(1, 3))
        rules.append(PromoRule(f"C{n}", cents, bp, uses_left=uses, unlocks=unlocks, applies_to=applies))
    return slots, rules


def check_valid(slots: Sequence[TicketSlot], rules: Sequence[PromoRule], result: Allocation) -> None:
    by_code = {r.code: r for r in rules}
    assert len(result.codes) == len(slots) == len(result.discounts)
    assert len(result.unlock_codes) == len(slots) == len(result.reduction_codes)
    per_ticket = []
    for slot, code, unlocker, reducer, discount in zip(
        slots, result.codes, result.unlock_codes, result.reduction_codes, result.discounts, strict=True
    ):
        if slot.hidden:
            assert unlocker is not None and by_code[unlocker].unlocks_slot(slot)
        else:
            assert unlocker is None
        if reducer is None:
            assert discount == 0
        else:
            assert discount == by_code[reducer].discount(slot) > 0  # a reduction that gives nothing costs
        assert code == (reducer or unlocker)
        per_ticket.append({c for c in (unlocker, reducer) if c is not None})
    counted = Counter(c for codes in per_ticket for c in codes)
    assert dict(result.uses) == dict(counted)
    assert all(counted[c] <= by_code[c].uses_left for c in counted)
    assert set(result.unused) == set(by_code) - set(counted)
    assert result.total_discount_cents == sum(result.discounts)


@settings(max_examples=300, deadline=None)
@given(carts())
def test_allocation_equals_brute_force(cart: tuple[list[TicketSlot], list[PromoRule]]) -> None:
    slots, rules = cart
    expected = brute_force(slots, rules)
    if expected is None:
        with pytest.raises(PromoError):
            allocate(slots, rules)
        return
    result = allocate(slots, rules)
    check_valid(slots, rules, result)
    assert (result.total_discount_cents, sum(result.uses.values())) == expected


@settings(max_examples=100, deadline=None)
@given(carts(), st.randoms(use_true_random=False))
def test_allocation_does_not_depend_on_entry_order(
    cart: tuple[list[TicketSlot], list[PromoRule]], rnd: random.Random
) -> None:
    slots, rules = cart
    shuffled_slots, shuffled_rules = slots[:], rules[:]
    rnd.shuffle(shuffled_slots)
    rnd.shuffle(shuffled_rules)
    try:
        first = allocate(slots, rules)
    except PromoError:
        with pytest.raises(PromoError):
            allocate(shuffled_slots, shuffled_rules)
        return
    second = allocate(shuffled_slots, shuffled_rules)
    assert Counter(
        zip(slots, first.unlock_codes, first.reduction_codes, first.discounts, strict=True)
    ) == Counter(
        zip(shuffled_slots, second.unlock_codes, second.reduction_codes, second.discounts, strict=True)
    )
    assert first.uses == second.uses and first.unused == second.unused
