"""The till on SQLite and PostgreSQL: shifts, the journal, split tender, returns, cash movements, X and Z reports."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import col, select

from pos.db.engine import transaction
from pos.db.models import Article, AuditLog, JournalLine, PromoCode
from pos.db.redemption import redeem
from pos.domain.till import PaidTender, TenderRequest, refund_tenders
from pos.errors import Forbidden, NotFound, Refused
from pos.runtime import Runtime
from pos.services import operators, orders, till
from pos.services.base import Actor
from pos.services.checkout import CartLine, SaleRequest
from pos.services.database import check_database
from pos.services.orders import AdmittedTickets, ReturnRequest, return_order
from tests.factories import ADMIN, add_article, add_promo, sell


def add_operator(rt: Runtime, name: str, role: str = "cashier", pin: str = "1111") -> Actor:
    return operators.actor_of(operators.add_operator(rt, ADMIN, name, role, pin))


@pytest.fixture
def shop(rt: Runtime) -> Runtime:
    add_article(
        rt, name="Konzert", price_cents=5000, is_ticket=True, group="Tickets", vat_bp=700, stock_limit=10
    )
    add_article(rt, name="Bier", price_cents=450, group="Getränke", vat_bp=1900)
    return rt


def sale(*lines: CartLine, **options: object) -> SaleRequest:
    options.setdefault("print_tickets", False)
    return SaleRequest(lines=list(lines), **options)  # type: ignore[arg-type]


def clean(rt: Runtime) -> None:
    assert check_database(rt, ADMIN).violations == {}


def journal(rt: Runtime) -> list[JournalLine]:
    with transaction(rt.engine) as session:
        return list(session.exec(select(JournalLine).order_by(col(JournalLine.id))))


# --- shifts and the journal ------------------------------------------------------------------------------


def test_one_open_shift_per_terminal_and_one_close(shop: Runtime) -> None:
    anna, ben = add_operator(shop, "anna"), add_operator(shop, "ben", pin="2222")
    assert till.shift_for_login(shop, anna).state == "none"
    shift = till.open_shift(shop, anna, 15000)
    assert till.shift_for_login(shop, anna).state == "own"
    other = till.shift_for_login(shop, ben)
    assert (other.state, other.operator, other.shift.id) == ("other", "anna", shift.id)
    with pytest.raises(Refused, match="still open"):
        till.open_shift(shop, ben, 0)
    with pytest.raises(Forbidden, match="Only an admin may close another operator's shift"):
        till.close_shift(shop, ben, shift.id, 15000)
    till.close_shift(shop, anna, shift.id, 15000)
    assert till.shift_for_login(shop, ben).state == "none"
    with pytest.raises(Refused, match="closed already"):
        till.close_shift(shop, ADMIN, shift.id, 15000)
    clean(shop)


def test_the_counted_cash_must_be_typed(shop: Runtime) -> None:
    shift = till.open_shift(shop, ADMIN, 0)
    with pytest.raises(Refused, match="an empty entry is not a count"):
        till.close_shift(shop, ADMIN, shift.id, None)
    with pytest.raises(Refused, match="cannot be negative"):
        till.close_shift(shop, ADMIN, shift.id, -5)
    with pytest.raises(Refused, match="cannot be negative"):
        till.open_shift(shop, ADMIN, -1)
    assert till.shift_report(shop, ADMIN).closed_at is None  # nothing was closed


def test_x_and_z_reports_sum_the_journal(shop: Runtime, clock) -> None:
    shift = till.open_shift(shop, ADMIN, 10000)
    sell(shop, sale(CartLine("Konzert"), CartLine("Bier", 4), given_cents=10000))  # 68.00, change 32.00
    sell(shop, sale(CartLine("Konzert"), tenders=[TenderRequest("card")]))
    sell(shop, sale(CartLine("Bier"), tenders=[TenderRequest("cash", 200), TenderRequest("card")]))
    till.cash_movement(shop, ADMIN, "cash_in", 5000, "Wechselgeld aus dem Safe")
    till.cash_movement(shop, ADMIN, "cash_out", 3000, "in den Safe")
    x = till.shift_report(shop, ADMIN)
    assert x.z_number is None and x.closed_at is None
    sums = x.sums
    assert [(t.tender, t.count, t.total_cents) for t in sums.by_tender] == [
        ("cash", 2, 6800 + 200),
        ("card", 2, 5000 + 250),
    ]
    assert [(g.group, g.units, g.total_cents) for g in sums.by_group] == [
        ("Getränke", 5, 2250),
        ("Tickets", 2, 10000),
    ]
    assert [(v.rate_bp, v.gross_cents) for v in sums.by_vat] == [(700, 10000), (1900, 2250)]
    assert sum(v.net_cents + v.vat_cents for v in sums.by_vat) == 12250
    assert x.expected_cash_cents == 10000 + 10000 - 3200 + 200 + 5000 - 3000
    clock.now += timedelta(hours=3)
    z = till.close_shift(shop, ADMIN, shift.id, 18900)
    assert (z.z_number, z.difference_cents, z.counted_cents) == (1, -100, 18900)
    data = till.report_json(z, shop.config.venue.zone)
    assert data["expected_cash_cents"] == 19000 and data["difference_cents"] == -100 and data["z_number"] == 1
    assert data["by_vat"][0] == {"rate": 7, "net_cents": 9346, "vat_cents": 654, "gross_cents": 10000}
    assert till.shift_report(shop, ADMIN, shift.id) == z  # the Z report reads the same later
    lines = journal(shop)
    assert [line.number for line in lines] == list(range(1, len(lines) + 1))
    assert [line.kind for line in lines] == [
        "float",
        "sale",
        "sale",
        "sale",
        "cash_in",
        "cash_out",
        "difference",
    ]
    assert lines[-1].total_cents == -100
    clean(shop)


def test_z_numbers_are_consecutive_per_terminal(shop: Runtime) -> None:
    numbers = []
    for _ in range(3):
        shift = till.open_shift(shop, ADMIN, 0)
        numbers.append(till.close_shift(shop, ADMIN, shift.id, 0).z_number)
    assert numbers == [1, 2, 3]
    other = Runtime(shop.config.model_copy(deep=True), shop.database_url, clock=shop.clock)
    other.config.terminal.name = "bar"
    shift = till.open_shift(other, ADMIN, 0)
    assert till.close_shift(other, ADMIN, shift.id, 0).z_number == 1
    other.engine.dispose()
    clean(shop)


def test_headless_sales_book_into_the_open_shift_or_none(shop: Runtime) -> None:
    outside = sell(shop, sale(CartLine("Bier")))
    shift = till.open_shift(shop, ADMIN, 0)
    inside = sell(shop, sale(CartLine("Bier")))
    with transaction(shop.engine) as session:
        shifts = {
            line.order_id: line.shift_id
            for line in session.exec(select(JournalLine).where(JournalLine.kind == "sale"))
        }
    assert shifts == {outside.order_id: None, inside.order_id: shift.id}
    till.close_shift(shop, ADMIN, shift.id, 450)
    with pytest.raises(Refused, match="closed meanwhile"):
        sell(shop, sale(CartLine("Bier"), shift_id=shift.id))  # the app's shift was closed elsewhere
    clean(shop)


# --- split tender ----------------------------------------------------------------------------------------


def test_split_tender_cash_part_and_card_rest(shop: Runtime) -> None:
    result = sell(
        shop, sale(CartLine("Konzert"), tenders=[TenderRequest("cash", 2000), TenderRequest("card")])
    )
    assert result.data["payments"] == [
        {"tender": "cash", "amount_cents": 2000},
        {"tender": "card", "amount_cents": 3000},
    ]
    assert result.data["payment"]["method"] == "split"
    over = sell(
        shop,
        sale(
            CartLine("Konzert"),
            tenders=[TenderRequest("card", 1000), TenderRequest("cash")],
            given_cents=5000,
        ),
    )
    assert over.payment.change_cents == 1000 and over.data["payments"][0] == {
        "tender": "cash",
        "amount_cents": 4000,
    }
    clean(shop)


@pytest.mark.parametrize(
    ("tenders", "given", "message"),
    [
        ([TenderRequest("card", 6000)], None, "Card pays at most"),
        ([TenderRequest("cash", 1000), TenderRequest("card", 1000)], None, "do not cover the total"),
        ([TenderRequest("cash"), TenderRequest("card")], None, "Only one tender may take the rest"),
        ([TenderRequest("cash", 6000), TenderRequest("card")], None, "already cover the total"),
        ([TenderRequest("card")], 100, "the card pays everything"),
        ([TenderRequest("cash")], 4000, "less than the total"),
        ([TenderRequest("bitcoin")], None, "not known"),
    ],
)
def test_tenders_that_do_not_sum_up_are_refused_and_nothing_is_written(
    shop: Runtime, tenders: list[TenderRequest], given: int | None, message: str
) -> None:
    with pytest.raises(Refused, match=message):
        sell(shop, sale(CartLine("Konzert"), tenders=tenders, given_cents=given))
    assert journal(shop) == []
    with transaction(shop.engine) as session:
        assert session.exec(select(Article.sold).where(Article.name == "Konzert")).one() == 0


# --- returns ---------------------------------------------------------------------------------------------


def test_a_return_in_a_later_shift_lowers_that_shifts_expected_cash(shop: Runtime) -> None:
    first = till.open_shift(shop, ADMIN, 10000)
    sold = sell(shop, sale(CartLine("Konzert", 2), CartLine("Bier", 2)))
    till.close_shift(shop, ADMIN, first.id, 10000 + 10900)
    second = till.open_shift(shop, ADMIN, 5000)
    returned = return_order(shop, ADMIN, ReturnRequest(sold.order_id, ticket_codes=[sold.ticket_codes[0]]))
    assert (returned.refund_cents, returned.tender) == (5000, "cash")
    x = till.shift_report(shop, ADMIN)
    assert x.shift_id == second.id and x.sums.returns_cents == -5000 and x.sums.cash_refunded_cents == 5000
    assert x.expected_cash_cents == 5000 - 5000
    assert till.shift_report(shop, ADMIN, first.id).expected_cash_cents == 20900  # the old Z stays as it was
    clean(shop)


def test_partial_returns_give_back_exactly_units_and_promo_uses(shop: Runtime) -> None:
    add_promo(shop, "HALF", percent_bp=5000, uses=5)
    sold = sell(shop, sale(CartLine("Konzert", 3), CartLine("Bier", 5), promo_codes=["HALF"]))
    assert sold.total_cents == 3 * 2500 + 5 * 450

    def state() -> tuple[int, int, int]:
        with transaction(shop.engine) as session:
            concert = session.exec(select(Article.sold).where(Article.name == "Konzert")).one()
            beer = session.exec(select(Article.sold).where(Article.name == "Bier")).one()
            used = session.exec(select(PromoCode.used).where(PromoCode.code == "HALF")).one()
        return concert, beer, used

    assert state() == (3, 5, 3)
    result = return_order(
        shop, ADMIN, ReturnRequest(sold.order_id, ticket_codes=[sold.ticket_codes[1]], lines=[("Bier", 2)])
    )
    assert result.refund_cents == 2500 + 900 and result.tickets == (sold.ticket_codes[1],)
    assert result.lines == ({"article": "Bier", "quantity": 2, "refund_cents": 900},)
    assert state() == (2, 3, 2)
    with pytest.raises(Refused, match="already returned"):
        return_order(shop, ADMIN, ReturnRequest(sold.order_id, ticket_codes=[sold.ticket_codes[1]]))
    with pytest.raises(Refused, match="Only 3 of Bier are left to return"):
        return_order(shop, ADMIN, ReturnRequest(sold.order_id, lines=[("Bier", 4)]))
    rest = orders.cancel_order(shop, ADMIN, sold.order_id)
    assert rest.refund_cents == sold.total_cents - result.refund_cents
    assert state() == (0, 0, 0) and rest.data["status"] == "cancelled"
    assert rest.data["refunded_cents"] == sold.total_cents
    with pytest.raises(Refused, match="already returned in full"):
        orders.cancel_order(shop, ADMIN, sold.order_id)
    clean(shop)


def test_returns_refuse_what_is_not_in_the_order(shop: Runtime) -> None:
    sold = sell(shop, sale(CartLine("Konzert")))
    other = sell(shop, sale(CartLine("Konzert"), CartLine("Bier")))
    with pytest.raises(NotFound, match="is not in order"):
        return_order(shop, ADMIN, ReturnRequest(sold.order_id, ticket_codes=[other.ticket_codes[0]]))
    with pytest.raises(NotFound, match="has no Bier"):
        return_order(shop, ADMIN, ReturnRequest(sold.order_id, lines=[("Bier", 1)]))
    with pytest.raises(Refused, match="ticket article: return its tickets by code"):
        return_order(shop, ADMIN, ReturnRequest(other.order_id, lines=[("Konzert", 1)]))
    with pytest.raises(NotFound, match="does not exist"):
        return_order(shop, ADMIN, ReturnRequest(9999))
    assert [line.kind for line in journal(shop)] == ["sale", "sale"]


def test_a_refund_by_card_of_a_cash_order_only_up_to_its_amount(shop: Runtime) -> None:
    sold = sell(shop, sale(CartLine("Bier", 2)))
    first = return_order(shop, ADMIN, ReturnRequest(sold.order_id, lines=[("Bier", 1)], refund="card"))
    assert [(t.tender, t.amount_cents) for t in first.tenders] == [("card", -450)]
    with pytest.raises(Refused, match="more than is left of the order's payment"):
        refund_tenders(500, [PaidTender("cash", 900, 450)], "card")  # 450 left of the 9.00 paid
    second = return_order(shop, ADMIN, ReturnRequest(sold.order_id, lines=[("Bier", 1)]))
    assert [(t.tender, t.amount_cents) for t in second.tenders] == [("cash", -450)]  # as paid
    clean(shop)


def test_an_admitted_ticket_is_returned_only_when_forced_and_its_place_stays_used(shop: Runtime) -> None:
    with transaction(shop.engine) as session:
        session.exec(select(Article).where(Article.name == "Konzert")).one().stock_limit = 1
    sold = sell(shop, sale(CartLine("Konzert")))
    assert redeem(shop, sold.ticket_codes[0]).accepted
    with pytest.raises(AdmittedTickets, match="already admitted"):
        orders.cancel_order(shop, ADMIN, sold.order_id)
    forced = orders.cancel_order(shop, ADMIN, sold.order_id, force=True)
    assert forced.forced == (sold.ticket_codes[0],) and forced.refund_cents == 5000
    with pytest.raises(Refused, match="sold out"):  # the place was used: it is not sold again
        sell(shop, sale(CartLine("Konzert")))
    with transaction(shop.engine) as session:
        audit = session.exec(select(AuditLog).where(AuditLog.action == "order.return")).one()
        assert sold.ticket_codes[0] in (audit.after or "")
    clean(shop)


def test_db_check_finds_admissions_beyond_availability(shop: Runtime) -> None:
    sold = sell(shop, sale(CartLine("Konzert", 2)))
    for code in sold.ticket_codes:
        redeem(shop, code)
    with transaction(shop.engine) as session:
        session.exec(select(Article).where(Article.name == "Konzert")).one().stock_limit = 1
    assert "over_admitted_articles" in check_database(shop, ADMIN).violations


def test_db_check_finds_a_gap_and_a_booking_after_close(shop: Runtime) -> None:
    shift = till.open_shift(shop, ADMIN, 0)
    sell(shop, sale(CartLine("Bier")))
    till.close_shift(shop, ADMIN, shift.id, 450)
    with transaction(shop.engine) as session:
        line = session.exec(select(JournalLine).where(JournalLine.kind == "sale")).one()
        line.number = 99  # a gap
        session.add(line)
    found = check_database(shop, ADMIN).violations
    assert {"journal_gaps", "booked_after_close"} <= set(found)


# --- cash movements --------------------------------------------------------------------------------------


def test_cash_movements_need_a_shift_an_amount_a_reason_and_the_right_role(shop: Runtime) -> None:
    kim = add_operator(shop, "kim")
    with pytest.raises(Refused, match="No shift is open"):
        till.cash_movement(shop, kim, "cash_in", 100, "Wechselgeld")
    till.open_shift(shop, kim, 0)
    for amount in (0, -100):
        with pytest.raises(Refused, match="more than 0"):
            till.cash_movement(shop, kim, "cash_in", amount, "Wechselgeld")
    with pytest.raises(Refused, match="needs a reason"):
        till.cash_movement(shop, kim, "cash_in", 100, "  ")
    with pytest.raises(Forbidden, match="take cash out"):
        till.cash_movement(shop, kim, "cash_out", 100, "Safe")
    moved = till.cash_movement(shop, kim, "cash_in", 100, "Wechselgeld")
    assert moved.kind == "cash_in" and moved.journal_number == 2
    assert [line.kind for line in journal(shop)] == ["float", "cash_in"]
    clean(shop)


# --- races -----------------------------------------------------------------------------------------------


def test_a_sale_racing_a_shift_close_is_in_the_shift_or_refused(shop: Runtime) -> None:
    """100 rounds: one connection sells into the shift while another closes it; no sale lands after the close."""
    seller = Runtime(shop.config, shop.database_url, clock=shop.clock)
    violations = 0
    for _round in range(100):
        shift = till.open_shift(shop, ADMIN, 0)
        outcome: dict[str, object] = {}
        started = threading.Event()

        def selling(shift_id: int, started: threading.Event, outcome: dict[str, object]) -> None:
            started.set()
            try:
                outcome["sale"] = sell(seller, sale(CartLine("Bier"), shift_id=shift_id))
            except Refused as exc:
                outcome["refused"] = exc

        thread = threading.Thread(target=selling, args=(shift.id, started, outcome))
        thread.start()
        started.wait()
        z = till.close_shift(shop, ADMIN, shift.id, 0)
        thread.join()
        booked = "sale" in outcome
        in_report = z.sums.sales == 1
        if booked != in_report:
            violations += 1
    seller.engine.dispose()
    assert violations == 0
    clean(shop)


def test_a_second_app_with_the_same_terminal_name_is_refused(shop: Runtime) -> None:
    first = till.claim_terminal(shop)
    other = Runtime(shop.config, shop.database_url, clock=shop.clock)
    try:
        with pytest.raises(Refused, match="is already running on this database"):
            till.claim_terminal(other)
        renamed = Runtime(shop.config.model_copy(deep=True), shop.database_url, clock=shop.clock)
        renamed.config.terminal.name = "bar"
        till.claim_terminal(renamed).release()  # another name is fine
        first.release()
        till.claim_terminal(other).release()  # released: the name is free again
    finally:
        first.release()
        other.engine.dispose()
