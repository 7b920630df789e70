from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain.money import vat_included
from pos.domain.order import (
    CartItem,
    Payment,
    PaymentError,
    apply_discounts,
    expand,
    settle,
    ticket_lines,
    totals,
)

ADULT = CartItem(1, "Konzert Erwachsene", "Tickets", 5000, 700, True)
CHILD = CartItem(2, "Konzert Kind", "Tickets", 2000, 700, True)
BEER = CartItem(3, "Bier", "Getränke", 450, 1900, False)


def test_tickets_expand_to_one_line_per_unit_and_other_articles_keep_a_quantity() -> None:
    lines = expand([replace(ADULT, quantity=2), replace(BEER, quantity=3)])
    assert [(line.name, line.quantity) for line in lines] == [
        ("Konzert Erwachsene", 1),
        ("Konzert Erwachsene", 1),
        ("Bier", 3),
    ]
    assert [line.source for line in lines] == [0, 0, 1]
    assert totals(lines).total_cents == 2 * 5000 + 3 * 450


def test_the_same_non_ticket_article_twice_is_one_line() -> None:
    lines = expand([BEER, CHILD, replace(BEER, quantity=2)])
    assert [(line.name, line.quantity) for line in lines] == [("Bier", 3), ("Konzert Kind", 1)]


def test_quantity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        expand([replace(BEER, quantity=0)])


def test_discounts_go_to_ticket_lines_in_order() -> None:
    lines = expand([ADULT, BEER, CHILD])
    priced = apply_discounts(lines, ["FIFTY", "TWENTY"], [5000, 2000])
    assert [(line.name, line.discount_cents, line.promo_code) for line in priced] == [
        ("Konzert Erwachsene", 5000, "FIFTY"),
        ("Bier", 0, None),
        ("Konzert Kind", 2000, "TWENTY"),
    ]
    result = totals(priced)
    assert result.subtotal_cents == 7450
    assert result.discount_cents == 7000
    assert result.total_cents == 450
    assert [line.final_price_cents for line in ticket_lines(priced)] == [0, 0]


def test_a_discount_above_the_price_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        apply_discounts(expand([CHILD]), ["X"], [2001])
    with pytest.raises(ValueError, match="one code and one discount"):
        apply_discounts(expand([CHILD, ADULT]), ["X"], [1])


def test_vat_is_computed_once_per_rate_group() -> None:
    lines = expand([ADULT, CHILD, replace(BEER, quantity=3)])
    vat = totals(lines).vat
    assert [group.rate_bp for group in vat] == [700, 1900]
    seven, nineteen = vat
    assert seven.gross_cents == 7000 and seven.vat_cents == vat_included(7000, 700) == 458
    assert seven.net_cents == 7000 - 458
    assert nineteen.gross_cents == 1350 and nineteen.vat_cents == 216
    assert sum(group.gross_cents for group in vat) == totals(lines).total_cents


@given(
    st.lists(
        st.tuples(
            st.integers(0, 100_000), st.sampled_from([0, 700, 1900, 770]), st.integers(1, 5), st.booleans()
        ),
        min_size=1,
        max_size=8,
    )
)
def test_vat_groups_add_up_to_the_total(rows: list[tuple[int, int, int, bool]]) -> None:
    items = [
        CartItem(i, f"A{i}", "G", price, rate, ticket, qty)
        for i, (price, rate, qty, ticket) in enumerate(rows)
    ]
    result = totals(expand(items))
    assert sum(g.gross_cents for g in result.vat) == result.total_cents
    for group in result.vat:
        assert group.net_cents + group.vat_cents == group.gross_cents
        assert 0 <= group.vat_cents <= group.gross_cents


def test_cash_with_change_and_exact_cash() -> None:
    assert settle(4550, "cash", 5000) == _payment("cash", 5000, 450)
    assert settle(4550, "cash") == _payment("cash", 4550, 0)


def test_cash_given_below_the_total_is_refused_in_one_sentence() -> None:
    with pytest.raises(PaymentError, match=r"^Cash given \(40\.00\) is less than the total \(45\.50\)\.$"):
        settle(4550, "cash", 4000)


def test_card_pays_the_total_and_takes_no_amount_given() -> None:
    assert settle(4550, "card") == _payment("card", 4550, 0)
    with pytest.raises(PaymentError, match="only for cash"):
        settle(4550, "card", 5000)


def test_a_zero_total_is_free_whatever_the_method() -> None:
    assert settle(0, "cash") == _payment("free", 0, 0)
    assert settle(0, "card") == _payment("free", 0, 0)


def test_unknown_payment_method() -> None:
    with pytest.raises(PaymentError, match="not known"):
        settle(100, "voucher")


def _payment(method: str, given: int, change: int) -> Payment:
    return Payment(method=method, given_cents=given, change_cents=change)
