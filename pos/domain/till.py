"""The till: tenders of a payment, refunds of a return, and the shift's figures summed over its journal.

Every movement of money is one journal line (a sale, a return, the opening float, cash in, cash out, the
difference counted at close) with its tenders, its VAT per rate and its article groups. Reports are sums over
those lines and nothing else, so the screen, the printout and `pos shift report` cannot disagree:

    expected cash = float + cash taken - change given - cash refunded + cash in - cash out
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pos.domain.money import format_plain, parse_amount
from pos.errors import Refused

TENDERS = ("cash", "card", "free")
PAID_TENDERS = ("cash", "card")
KINDS = ("sale", "return", "float", "cash_in", "cash_out", "difference")


class TenderError(Refused):
    """Tenders that cannot settle the amount; one sentence for the cashier."""


# --- paying --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TenderRequest:
    """One tender as the cashier gives it: `amount_cents` None takes what is left to pay."""

    tender: str
    amount_cents: int | None = None


@dataclass(frozen=True)
class Tender:
    """A tender of a journal line: what it paid of the total (negative for a refund), and for cash what was
    handed over and the change given back."""

    tender: str
    amount_cents: int
    given_cents: int = 0
    change_cents: int = 0


@dataclass(frozen=True)
class Settlement:
    tenders: tuple[Tender, ...]

    @property
    def change_cents(self) -> int:
        return sum(t.change_cents for t in self.tenders)

    @property
    def given_cents(self) -> int:
        return sum(t.given_cents for t in self.tenders)

    @property
    def method(self) -> str:
        """cash, card, free, or split: the order's payment in one word (receipts, old reports)."""
        names = {t.tender for t in self.tenders}
        return names.pop() if len(names) == 1 else "split"


def parse_tender(text: str) -> TenderRequest:
    """'cash', 'card', 'cash:20.00' as `pos sell --pay` takes it."""
    name, colon, value = text.strip().partition(":")
    name = name.strip().lower()
    if name not in PAID_TENDERS:
        raise TenderError("Tender {tender!r} is not known; use cash or card.", tender=name)
    if not colon:
        return TenderRequest(name)
    try:
        return TenderRequest(name, parse_amount(value))
    except ValueError as exc:
        raise TenderError(
            "The amount of tender {tender} is wrong: {problem}.", tender=name, problem=str(exc)
        ) from None


def settle_tenders(
    total_cents: int, tenders: Sequence[TenderRequest], given_cents: int | None = None
) -> Settlement:
    """Split a total over the tenders given.

    Card pays exactly what it is given (never more than is due); cash may be over-tendered and gives change;
    free only settles a total of 0. One tender may leave its amount out: it takes what is left. `given_cents`
    is the cash handed over (None: exactly the cash due).
    """
    if total_cents < 0:
        raise ValueError("a total cannot be negative")
    if total_cents == 0:  # nothing to pay, whatever tender was chosen
        return Settlement((Tender("free", 0),))
    requests = list(tenders) or [TenderRequest("cash")]
    for request in requests:
        if request.tender not in PAID_TENDERS:
            raise TenderError("Tender {tender!r} is not known; use cash or card.", tender=request.tender)
        if request.amount_cents is not None and request.amount_cents <= 0:
            raise TenderError("A tender's amount must be more than 0.")
    open_ended = [r for r in requests if r.amount_cents is None]
    if len(open_ended) > 1:
        raise TenderError("Only one tender may take the rest; give the others an amount.")
    fixed = sum(r.amount_cents or 0 for r in requests)
    card = sum(r.amount_cents or 0 for r in requests if r.tender == "card")
    cash_fixed = sum(r.amount_cents or 0 for r in requests if r.tender == "cash")
    rest = total_cents - fixed
    if open_ended and rest <= 0:
        raise TenderError(
            "The tenders given ({given}) already cover the total ({total}); leave out the one without an amount.",
            given=format_plain(fixed),
            total=format_plain(total_cents),
        )
    if open_ended and open_ended[0].tender == "card":
        card += rest
    elif open_ended:
        cash_fixed += rest
    if card > total_cents:
        raise TenderError(
            "Card pays at most what is due ({total}); only cash gives change.",
            total=format_plain(total_cents),
        )
    cash_due = total_cents - card
    if cash_due > 0 and cash_fixed == 0:
        raise TenderError(
            "The tenders ({given}) do not cover the total ({total}).",
            given=format_plain(card),
            total=format_plain(total_cents),
        )
    if cash_fixed < cash_due:
        raise TenderError(
            "The tenders ({given}) do not cover the total ({total}).",
            given=format_plain(card + cash_fixed),
            total=format_plain(total_cents),
        )
    handed = cash_fixed if given_cents is None else given_cents
    if cash_due == 0 and given_cents:
        raise TenderError("Cash was handed over, but the card pays everything.")
    if handed < cash_due and card == 0:
        raise TenderError(
            "Cash given ({given}) is less than the total ({total}).",
            given=format_plain(handed),
            total=format_plain(total_cents),
        )
    if handed < cash_due:
        raise TenderError(
            "Cash given ({given}) is less than the cash due ({due}).",
            given=format_plain(handed),
            due=format_plain(cash_due),
        )
    result = []
    if cash_due > 0:
        result.append(Tender("cash", cash_due, handed, handed - cash_due))
    if card > 0:
        result.append(Tender("card", card, card, 0))
    return Settlement(tuple(result))


# --- returning -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaidTender:
    """What one tender paid for an order, and what was refunded by that tender since."""

    tender: str
    paid_cents: int
    refunded_cents: int = 0


def refund_tenders(
    refund_cents: int, paid: Sequence[PaidTender], chosen: str | None = None
) -> tuple[Tender, ...]:
    """How a refund is paid out: by the chosen tender, or as paid (card back to the card first, then cash).

    Never more in all than the order's payments less what was refunded already.
    """
    if refund_cents <= 0:
        return ()
    left = sum(p.paid_cents - p.refunded_cents for p in paid)
    if refund_cents > left:
        raise TenderError(
            "A refund of {refund} is more than is left of the order's payment ({left}).",
            refund=format_plain(refund_cents),
            left=format_plain(left),
        )
    if chosen is not None:
        if chosen not in PAID_TENDERS:
            raise TenderError("Tender {tender!r} is not known; use cash or card.", tender=chosen)
        return (Tender(chosen, -refund_cents, 0, 0),)
    result: list[Tender] = []
    due = refund_cents
    for name in ("card", "cash"):
        available = sum(p.paid_cents - p.refunded_cents for p in paid if p.tender == name)
        part = min(due, max(available, 0))
        if part > 0:
            result.append(Tender(name, -part, 0, 0))
            due -= part
    if due > 0:  # a free order's tickets, or payments outside cash and card: refunded in cash
        result.append(Tender("cash", -due, 0, 0))
    return tuple(result)


# --- the journal and its sums --------------------------------------------------------------------------


@dataclass(frozen=True)
class VatAmount:
    rate_bp: int
    net_cents: int
    vat_cents: int
    gross_cents: int


@dataclass(frozen=True)
class GroupAmount:
    group: str
    units: int
    total_cents: int


@dataclass(frozen=True)
class JournalEntry:
    """One journal line as the sums see it; amounts of a return or a cash out are negative."""

    kind: str
    total_cents: int
    tenders: tuple[Tender, ...] = ()
    vat: tuple[VatAmount, ...] = ()
    groups: tuple[GroupAmount, ...] = ()


@dataclass(frozen=True)
class TenderSum:
    tender: str
    count: int
    total_cents: int


@dataclass(frozen=True)
class TillSums:
    float_cents: int = 0
    sales_cents: int = 0
    sales: int = 0
    returns_cents: int = 0  # negative: what was refunded
    returns: int = 0
    cash_in_cents: int = 0
    cash_out_cents: int = 0  # positive: what was taken out
    cash_taken_cents: int = 0  # cash handed over in sales
    change_cents: int = 0
    cash_refunded_cents: int = 0  # positive
    difference_cents: int | None = None  # booked at close
    by_tender: tuple[TenderSum, ...] = ()
    by_group: tuple[GroupAmount, ...] = ()
    by_vat: tuple[VatAmount, ...] = ()

    @property
    def expected_cash_cents(self) -> int:
        return (
            self.float_cents
            + self.cash_taken_cents
            - self.change_cents
            - self.cash_refunded_cents
            + self.cash_in_cents
            - self.cash_out_cents
        )

    @property
    def net_sales_cents(self) -> int:
        return self.sales_cents + self.returns_cents


def sum_journal(entries: Iterable[JournalEntry]) -> TillSums:
    """The figures of a shift (or a period) from its journal lines, to the cent."""
    float_cents = sales_cents = sales = returns_cents = returns = 0
    cash_in = cash_out = taken = change = refunded = 0
    difference: int | None = None
    tender_count: dict[str, int] = {}
    tender_total: dict[str, int] = {}
    groups: dict[str, list[int]] = {}
    vat: dict[int, list[int]] = {}
    for entry in entries:
        if entry.kind not in KINDS:
            raise ValueError(f"unknown journal kind {entry.kind!r}")
        if entry.kind == "float":
            float_cents += entry.total_cents
        elif entry.kind == "cash_in":
            cash_in += entry.total_cents
        elif entry.kind == "cash_out":
            cash_out -= entry.total_cents
        elif entry.kind == "difference":
            difference = (difference or 0) + entry.total_cents
        else:
            if entry.kind == "sale":
                sales_cents += entry.total_cents
                sales += 1
            else:
                returns_cents += entry.total_cents
                returns += 1
            for tender in entry.tenders:
                if entry.kind == "sale":
                    tender_count[tender.tender] = tender_count.get(tender.tender, 0) + 1
                tender_total[tender.tender] = tender_total.get(tender.tender, 0) + tender.amount_cents
                if tender.tender == "cash":
                    if entry.kind == "sale":
                        taken += tender.given_cents
                        change += tender.change_cents
                    else:
                        refunded -= tender.amount_cents
            for group in entry.groups:
                units_total = groups.setdefault(group.group, [0, 0])
                units_total[0] += group.units
                units_total[1] += group.total_cents
            for amount in entry.vat:
                parts = vat.setdefault(amount.rate_bp, [0, 0, 0])
                parts[0] += amount.net_cents
                parts[1] += amount.vat_cents
                parts[2] += amount.gross_cents
    order = {name: index for index, name in enumerate(TENDERS)}
    return TillSums(
        float_cents=float_cents,
        sales_cents=sales_cents,
        sales=sales,
        returns_cents=returns_cents,
        returns=returns,
        cash_in_cents=cash_in,
        cash_out_cents=cash_out,
        cash_taken_cents=taken,
        change_cents=change,
        cash_refunded_cents=refunded,
        difference_cents=difference,
        by_tender=tuple(
            TenderSum(name, tender_count.get(name, 0), tender_total[name])
            for name in sorted(tender_total, key=lambda n: (order.get(n, len(order)), n))
        ),
        by_group=tuple(GroupAmount(name, units, total) for name, (units, total) in sorted(groups.items())),
        by_vat=tuple(VatAmount(rate, *parts) for rate, parts in sorted(vat.items())),
    )


@dataclass(frozen=True)
class ShiftFigures:
    """An X report (shift open) or a Z report (closed, with its Z number)."""

    shift_id: int
    terminal: str
    operator: str
    opened_at: datetime
    closed_at: datetime | None
    z_number: int | None
    counted_cents: int | None
    sums: TillSums = field(default_factory=TillSums)
    tse_outages: int = 0  # journal lines the TSE did not sign (German fiscal signing)

    @property
    def expected_cash_cents(self) -> int:
        return self.sums.expected_cash_cents

    @property
    def difference_cents(self) -> int | None:
        if self.counted_cents is None:
            return None
        return self.counted_cents - self.expected_cash_cents


def check_counted(counted_cents: int | None) -> int:
    """Closing needs the cash actually counted: an empty entry is not a count."""
    if counted_cents is None:
        raise Refused("Type the cash counted in the drawer; an empty entry is not a count.")
    if counted_cents < 0:
        raise Refused("The counted cash cannot be negative.")
    return counted_cents


def check_cash_movement(kind: str, amount_cents: int, reason: str) -> None:
    if kind not in ("cash_in", "cash_out"):
        raise ValueError(f"not a cash movement: {kind!r}")
    if amount_cents <= 0:
        raise Refused("A cash movement needs an amount of more than 0.")
    if not reason.strip():
        raise Refused("A cash movement needs a reason (e.g. change for the float, to the safe).")
