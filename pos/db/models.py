"""The tables. Money in integer cents, times as UTC (naive in the database, aware in Python)."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, MetaData, TypeDecorator, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine
from sqlmodel import Field, SQLModel
from sqlmodel.main import SQLModelConfig

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every backend, hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC time is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# 64-bit ids on PostgreSQL; on SQLite only a column declared INTEGER is the auto-assigned rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class BigCount(TypeDecorator[int]):
    """Money and counts that can pass 2^31 (a price of 50,000,000.00 cents, sums, uses): BIGINT on PostgreSQL,
    INTEGER on SQLite (64-bit there already). Sums of it come back as int, not PostgreSQL's numeric Decimal."""

    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(Integer() if dialect.name == "sqlite" else BigInteger())

    def process_result_value(self, value: Any, dialect: object) -> int | None:
        return None if value is None else int(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TableBase(SQLModel):
    """Every table's base. Rows are built by the services, never validated from outside input, so pydantic builds
    a table's validator only if something asks for it (23 fewer built at start-up: 3-8 ms)."""

    model_config = SQLModelConfig(defer_build=True)


class Article(TableBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    price_cents: int = Field(sa_type=BigCount)
    vat_bp: int = 1900  # VAT rate in basis points: 1900 = 19 %
    group: str = "General"
    shop_group: str = "Events"
    assortment: str = "default"
    is_ticket: bool = False
    hidden: bool = False
    stock_limit: int | None = Field(default=None, sa_type=BigCount)  # None: unlimited
    sold: int = Field(
        default=0, sa_type=BigCount
    )  # units sold and not cancelled; remaining = stock_limit - sold
    valid_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    event_date: date | None = None
    repeat: str = "none"  # none | anytime | daily | same-day
    repeat_limit: int | None = None  # re-entries after the first; None: unlimited
    ean: str | None = Field(default=None, unique=True)
    position: int = 0  # order on the sale screen within its shop group
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ShopGroup(TableBase, table=True):
    """A group on the sale screen; its position decides its F-key, so a new group never moves the others."""

    __tablename__ = "shop_group"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    position: int = 0


class Customer(TableBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str | None = Field(default=None, index=True)
    phone: str | None = None
    birthday: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Operator(TableBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    role: str = "cashier"  # cashier | admin
    pin_hash: str
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Terminal(TableBase, table=True):
    """A till by its `[terminal] name`: the counters its journal lines and Z reports are numbered by."""

    name: str = Field(primary_key=True)
    journal_seq: int = 0  # the number of its last journal line (gap-free)
    z_seq: int = 0  # the number of its last Z report


class Shift(TableBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    operator_id: int | None = Field(default=None, foreign_key="operator.id", index=True)
    operator: str = ""  # who opened it (an operator's name, or the CLI's [terminal] operator)
    terminal: str
    opened_at: datetime = Field(sa_type=UTCDateTime)
    float_cents: int = Field(default=0, sa_type=BigCount)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    counted_cents: int | None = Field(default=None, sa_type=BigCount)
    z_number: int | None = None  # consecutive per terminal, given at close


class Order(TableBase, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    terminal: str = ""
    operator: str = ""
    shift_id: int | None = Field(default=None, foreign_key="shift.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    guest_name: str | None = None
    guest_email: str | None = None
    total_cents: int = Field(default=0, sa_type=BigCount)
    payment_method: str = "cash"  # cash | card | free
    given_cents: int = Field(default=0, sa_type=BigCount)  # cash handed over; equals total for card
    change_cents: int = Field(default=0, sa_type=BigCount)
    status: str = "paid"  # paid | cancelled
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cart_link_id: str | None = Field(default=None, unique=True)  # a paid cart link cannot be paid again
    link_promo: bool = False
    refunded_cents: int = Field(default=0, sa_type=BigInteger)  # paid back by returns so far


class OrderLine(TableBase, table=True):
    __tablename__ = "order_line"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    article_name: str
    article_group: str
    quantity: int = 1
    unit_price_cents: int = Field(sa_type=BigCount)
    discount_cents: int = Field(default=0, sa_type=BigCount)
    total_cents: int = Field(sa_type=BigCount)
    vat_bp: int
    promo_code_id: int | None = Field(default=None, foreign_key="promo_code.id")
    valid_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    returned_quantity: int = 0  # units given back by returns (a ticket line: 1 once its ticket is returned)


class Ticket(TableBase, table=True):
    """One admission; its serial is its id, so a scanned code finds it by primary key."""

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    brand: str
    code: str | None = Field(default=None, unique=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    order_line_id: int | None = Field(default=None, foreign_key="order_line.id")
    article_id: int = Field(foreign_key="article.id", index=True)
    holder_name: str | None = None
    holder_email: str | None = None
    valid_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    event_date: date | None = None
    repeat: str = "none"
    repeat_limit: int | None = None
    voided: bool = False
    first_redeemed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_gate: str | None = None
    printed: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the ticket or its entries last changed, by the database's clock: set by triggers (see the
    # migration "door change marker"), so every writer keeps it, and the gates' copies refresh from it.
    changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class Entry(TableBase, table=True):
    """An accepted scan (a registration). The first is also on the ticket; the rest are its repeat protocol."""

    __table_args__ = (Index("ix_entry_ticket_id_at", "ticket_id", "at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    ticket_id: int = Field(foreign_key="ticket.id", sa_type=BigInteger)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    gate: str = ""
    first: bool = False
    terminal: str = ""
    scan_id: str | None = Field(
        default=None, unique=True
    )  # the gate's id of the scan: an upload records it once
    offline: bool = False  # admitted by a gate without the database, uploaded later


class ScanLog(TableBase, table=True):
    """Rejected scans, for the door's statistics."""

    __tablename__ = "scan_log"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    gate: str = ""
    terminal: str = ""
    code: str = ""  # what was scanned, cut to 64 characters
    ticket_id: int | None = Field(default=None, sa_type=BigInteger)
    reason: str
    scan_id: str | None = Field(default=None, unique=True)
    offline: bool = False


class DoorConflict(TableBase, table=True):
    """An entry a gate admitted offline that breaks a rule in the database (used meanwhile, voided, unknown).

    The entry is recorded all the same (the person is inside); an admin resolves the conflict: `accepted`
    keeps the entry, `credited` deletes it and gives the ticket its entry back.
    """

    __tablename__ = "door_conflict"

    id: int | None = Field(default=None, primary_key=True)
    scan_id: str = Field(unique=True)
    ticket_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    entry_id: int | None = Field(default=None, sa_type=BigInteger)
    code: str = ""
    at: datetime = Field(sa_type=UTCDateTime)  # when the gate admitted the ticket
    gate: str = ""
    terminal: str = ""
    reason: str  # the rule broken, a redemption reason such as already_redeemed
    previous_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the entry it collides with
    previous_gate: str | None = None
    uploaded_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="open", index=True)  # open | accepted | credited
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = None


class PromoCode(TableBase, table=True):
    __tablename__ = "promo_code"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    amount_cents: int | None = Field(default=None, sa_type=BigCount)
    percent_bp: int | None = None  # 1000 = 10 %
    uses: int = Field(default=1, sa_type=BigCount)
    used: int = Field(default=0, sa_type=BigCount)
    valid_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    batch: str | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PromoUnlock(TableBase, table=True):
    __tablename__ = "promo_unlock"

    promo_code_id: int = Field(foreign_key="promo_code.id", primary_key=True)
    article_id: int = Field(foreign_key="article.id", primary_key=True)


class PromoAppliesTo(TableBase, table=True):
    __tablename__ = "promo_applies_to"

    promo_code_id: int = Field(foreign_key="promo_code.id", primary_key=True)
    article_id: int = Field(foreign_key="article.id", primary_key=True)


class PromoUse(TableBase, table=True):
    __tablename__ = "promo_use"

    id: int | None = Field(default=None, primary_key=True)
    promo_code_id: int = Field(foreign_key="promo_code.id", index=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    order_line_id: int | None = Field(default=None, foreign_key="order_line.id")
    discount_cents: int = Field(default=0, sa_type=BigCount)
    returned: bool = False


class AuditLog(TableBase, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    operator: str = ""
    terminal: str = ""
    action: str
    target: str = ""
    before: str | None = None  # JSON
    after: str | None = None  # JSON


class PrintJob(TableBase, table=True):
    __tablename__ = "print_job"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", sa_type=BigInteger)
    kind: str  # ticket | slip | receipt | zreport
    status: str = Field(default="pending", index=True)  # pending | printing | done | failed
    reprint: bool = False
    attempts: int = 0
    error: str | None = None
    payload: str | None = None  # JSON for jobs not tied to an order (Z report)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    printed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxMail(TableBase, table=True):
    __tablename__ = "outbox_mail"
    __table_args__ = (UniqueConstraint("ticket_id", "generation"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", sa_type=BigInteger)
    generation: int = 0  # 0 for the first send, +1 for each deliberate resend
    recipient: str
    language: str = "de"
    status: str = Field(default="pending", index=True)  # pending | sending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JournalLine(TableBase, table=True):
    """One movement of money at a till, append-only, numbered without gaps per terminal.

    kind: sale | return | float | cash_in | cash_out | difference. Amounts are signed: a return or a cash out
    is negative. Its tenders, VAT per rate and article groups are in the three tables below.
    """

    __tablename__ = "journal"
    __table_args__ = (UniqueConstraint("terminal", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    terminal: str
    number: int
    kind: str
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    operator: str = ""
    shift_id: int | None = Field(default=None, foreign_key="shift.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    total_cents: int = Field(default=0, sa_type=BigInteger)
    reason: str | None = None
    training: bool = False
    tse_tx_id: str | None = None  # the TSE transaction id, chosen before the signer is asked
    fiscal: str | None = None  # the TSE's answer (JSON), or the outage
    tse_outage: bool = False


class JournalTender(TableBase, table=True):
    __tablename__ = "journal_tender"

    id: int | None = Field(default=None, primary_key=True)
    journal_id: int = Field(foreign_key="journal.id", index=True)
    tender: str  # cash | card | free
    amount_cents: int = Field(sa_type=BigInteger)  # what it paid of the line's total (negative: refunded)
    given_cents: int = Field(default=0, sa_type=BigInteger)  # cash handed over
    change_cents: int = Field(default=0, sa_type=BigInteger)


class JournalVat(TableBase, table=True):
    __tablename__ = "journal_vat"

    id: int | None = Field(default=None, primary_key=True)
    journal_id: int = Field(foreign_key="journal.id", index=True)
    rate_bp: int
    net_cents: int = Field(sa_type=BigInteger)
    vat_cents: int = Field(sa_type=BigInteger)
    gross_cents: int = Field(sa_type=BigInteger)


class JournalGroup(TableBase, table=True):
    __tablename__ = "journal_group"

    id: int | None = Field(default=None, primary_key=True)
    journal_id: int = Field(foreign_key="journal.id", index=True)
    group: str
    units: int = Field(sa_type=BigInteger)
    total_cents: int = Field(sa_type=BigInteger)
