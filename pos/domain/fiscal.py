"""Fiscal signing for German tills (KassenSichV) as plain data: what a TSE signs, what a receipt prints.

Everything here is pure so the signers, the journal, the receipt and the DSFinV-K export agree on every
character: a signature over different bytes than the ones printed is worthless.

Sources (read, not copied): DSFinV-K 2.x, Anhang I (the receipt QR code, the `Kassenbeleg-V1` processData),
Anhang C/D (business case and payment types), BSI TR-03153 (log messages, signature counter, serial number =
hash of the public key), and fiskaly's SIGN DE v2 transaction schema (`standard_v1.receipt` with
`amounts_per_vat_rate` NORMAL / REDUCED_1 / SPECIAL_RATE_1 / SPECIAL_RATE_2 / NULL and
`amounts_per_payment_type` CASH / NON_CASH).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

PROCESS_TYPE_RECEIPT = "Kassenbeleg-V1"
QR_VERSION = "V0"


class VatClass(StrEnum):
    """The five VAT slots of a German receipt, named as fiskaly names them."""

    NORMAL = "NORMAL"  # 19 %
    REDUCED_1 = "REDUCED_1"  # 7 %
    SPECIAL_RATE_1 = "SPECIAL_RATE_1"  # 10.7 % (Durchschnittssatz § 24 (1) Nr. 3 UStG)
    SPECIAL_RATE_2 = "SPECIAL_RATE_2"  # 5.5 % (Durchschnittssatz § 24 (1) Nr. 1 UStG)
    NULL = "NULL"  # 0 %: not taxable or tax free; cash movements are booked here too


# The fixed order of the gross amounts in processData (DSFinV-K Anhang I): 19, 7, 10.7, 5.5, 0 %.
VAT_SLOT_ORDER: tuple[VatClass, ...] = (
    VatClass.NORMAL,
    VatClass.REDUCED_1,
    VatClass.SPECIAL_RATE_1,
    VatClass.SPECIAL_RATE_2,
    VatClass.NULL,
)
VAT_CLASS_BY_RATE: dict[int, VatClass] = {
    1900: VatClass.NORMAL,
    700: VatClass.REDUCED_1,
    1070: VatClass.SPECIAL_RATE_1,
    550: VatClass.SPECIAL_RATE_2,
    0: VatClass.NULL,
}
# DSFinV-K UST_SCHLUESSEL (Stamm_USt): 1 = 19 %, 2 = 7 %, 3 = 10.7 %, 4 = 5.5 %, 5 = not taxable (0 %).
DSFINVK_VAT_KEY: dict[VatClass, int] = {cls: index + 1 for index, cls in enumerate(VAT_SLOT_ORDER)}
RATE_BY_VAT_CLASS: dict[VatClass, int] = {cls: rate for rate, cls in VAT_CLASS_BY_RATE.items()}


class PaymentType(StrEnum):
    """fiskaly's payment types; the receipt string says `Bar` and `Unbar`."""

    CASH = "CASH"
    NON_CASH = "NON_CASH"

    @property
    def dsfinvk_name(self) -> str:
        return "Bar" if self is PaymentType.CASH else "Unbar"


# Our tenders: cash is Bar, a card is Unbar. "free" moves no money and appears in no payment slot.
PAYMENT_TYPE_BY_TENDER: dict[str, PaymentType] = {"cash": PaymentType.CASH, "card": PaymentType.NON_CASH}


class ReceiptKind(StrEnum):
    """What kind of record a signed transaction is: fiskaly's receipt_type and DSFinV-K's BON_TYP."""

    RECEIPT = "RECEIPT"  # sales, returns, cash movements, float, closing difference
    TRAINING = "TRAINING"  # training mode: signed, printed as such, never counted
    CANCELLATION = "CANCELLATION"  # a receipt voided before it was completed
    OTHER = "OTHER"

    @property
    def bon_typ(self) -> str:
        return {
            ReceiptKind.RECEIPT: "Beleg",
            ReceiptKind.TRAINING: "AVTraining",
            ReceiptKind.CANCELLATION: "AVBelegstorno",
            ReceiptKind.OTHER: "AVSonstige",
        }[self]


class UnknownVatRate(ValueError):
    """A VAT rate a German receipt has no slot for (e.g. 16 %): the article's rate must be corrected first."""


def vat_class(rate_bp: int) -> VatClass:
    try:
        return VAT_CLASS_BY_RATE[rate_bp]
    except KeyError:
        raise UnknownVatRate(f"VAT rate {rate_bp / 100:g} % has no slot on a German receipt") from None


def payment_type(tender: str) -> PaymentType | None:
    """cash -> CASH, card -> NON_CASH, free -> None (no money moves)."""
    if tender == "free":
        return None
    try:
        return PAYMENT_TYPE_BY_TENDER[tender]
    except KeyError:
        raise ValueError(f"unknown tender {tender!r}") from None


def amount_text(cents: int) -> str:
    """Cents as the TSE and fiskaly want them: 2 decimals, a dot, a minus for refunds ('-12.30')."""
    return str(Decimal(cents).scaleb(-2).quantize(Decimal("0.01")))


@dataclass(frozen=True, slots=True)
class VatAmount:
    """The gross amount (VAT included) booked at one rate."""

    rate_bp: int
    gross_cents: int


@dataclass(frozen=True, slots=True)
class TenderAmount:
    """Money that changed hands by one tender: cash counts what stayed in the drawer (given minus change)."""

    tender: str
    cents: int


@dataclass(frozen=True, slots=True)
class FiscalReceipt:
    """What a journal line hands the TSE when it finishes the transaction (amounts negative for refunds)."""

    kind: ReceiptKind
    vat: tuple[VatAmount, ...]
    tenders: tuple[TenderAmount, ...]
    currency: str = "EUR"

    @classmethod
    def of(
        cls,
        vat: Iterable[tuple[int, int]],
        tenders: Iterable[tuple[str, int]],
        *,
        training: bool = False,
    ) -> FiscalReceipt:
        """A sale or a return from (rate_bp, gross_cents) per VAT rate and (tender, cents) that stayed paid."""
        return cls(
            ReceiptKind.TRAINING if training else ReceiptKind.RECEIPT,
            tuple(VatAmount(rate, gross) for rate, gross in vat),
            tuple(TenderAmount(tender, cents) for tender, cents in tenders),
        )

    @classmethod
    def cash_movement(cls, cents: int, *, training: bool = False) -> FiscalReceipt:
        """Float, cash in (+), cash out (-), closing difference: cash in the not-taxable slot."""
        return cls.of([(0, cents)], [("cash", cents)], training=training)

    def gross_by_class(self) -> dict[VatClass, int]:
        totals = dict.fromkeys(VAT_SLOT_ORDER, 0)
        for item in self.vat:
            totals[vat_class(item.rate_bp)] += item.gross_cents
        return totals

    def amounts_by_payment_type(self) -> dict[PaymentType, int]:
        """Per payment type, cash first; tenders without money (free) and zero sums are left out."""
        totals: dict[PaymentType, int] = {}
        for tender in self.tenders:
            kind = payment_type(tender.tender)
            if kind is not None:
                totals[kind] = totals.get(kind, 0) + tender.cents
        return {kind: totals[kind] for kind in PaymentType if totals.get(kind)}

    @property
    def total_cents(self) -> int:
        return sum(item.gross_cents for item in self.vat)

    @property
    def process_type(self) -> str:
        return PROCESS_TYPE_RECEIPT

    def process_data(self) -> str:
        """The DSFinV-K receipt string, e.g. `Beleg^12.50_7.00_0.00_0.00_0.00^10.00:Bar_9.50:Unbar`.

        Three parts joined by `^`: the BON_TYP, the gross amounts of the five VAT slots in their fixed order
        joined by `_`, and the payments as `amount:Bar|Unbar` joined by `_` (a currency code is appended only
        for foreign currencies, which a box office does not take).
        """
        gross = self.gross_by_class()
        slots = "_".join(amount_text(gross[cls]) for cls in VAT_SLOT_ORDER)
        payments = "_".join(
            f"{amount_text(cents)}:{kind.dsfinvk_name}"
            + ("" if self.currency == "EUR" else f":{self.currency}")
            for kind, cents in self.amounts_by_payment_type().items()
        )
        return f"{self.kind.bon_typ}^{slots}^{payments}"

    def fiskaly_schema(self) -> dict[str, Any]:
        """The `schema` of a FINISHED transaction in fiskaly's SIGN DE v2 (`standard_v1.receipt`)."""
        gross = self.gross_by_class()
        return {
            "standard_v1": {
                "receipt": {
                    "receipt_type": self.kind.value,
                    "amounts_per_vat_rate": [
                        {"vat_rate": cls.value, "amount": amount_text(gross[cls])}
                        for cls in VAT_SLOT_ORDER
                        if gross[cls]
                    ],
                    "amounts_per_payment_type": [
                        {
                            "payment_type": kind.value,
                            "amount": amount_text(cents),
                            "currency_code": self.currency,
                        }
                        for kind, cents in self.amounts_by_payment_type().items()
                    ],
                }
            }
        }


def tse_time(at: datetime) -> str:
    """A TSE time as the QR code and DSFinV-K write it: UTC with milliseconds, `2026-08-18T18:38:19.000Z`."""
    utc = at.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_tse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Started:
    """A TSE transaction that was started (its StartTransaction log message is signed too)."""

    tx_id: UUID
    tx_number: int
    start: datetime
    signature_counter: int | None = None  # the start message's counter, where the TSE tells it


@dataclass(frozen=True, slots=True)
class Signature:
    """A finished, signed TSE transaction: everything a receipt prints and DSFinV-K exports.

    `value` and `public_key` are base64; `serial` is the TSE serial (hex SHA-256 of its public key);
    `client_serial` the cash register's serial as the TSE knows it. `test` marks a simulated (Test-TSE)
    signature, which has no legal value and says so on paper and in the export.
    """

    tx_id: UUID
    tx_number: int
    signature_counter: int
    start: datetime
    end: datetime
    serial: str
    algorithm: str
    time_format: str
    value: str
    public_key: str
    client_serial: str
    process_type: str
    process_data: str
    test: bool = False
    qr: str = field(default="")

    def __post_init__(self) -> None:
        if not self.qr:
            object.__setattr__(self, "qr", qr_code_data(self))

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-safe: what the journal stores with its line (and `from_dict` reads back)."""
        return {
            "kind": "signature",
            "tx_id": str(self.tx_id),
            "tx_number": self.tx_number,
            "signature_counter": self.signature_counter,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "serial": self.serial,
            "algorithm": self.algorithm,
            "time_format": self.time_format,
            "value": self.value,
            "public_key": self.public_key,
            "client_serial": self.client_serial,
            "process_type": self.process_type,
            "process_data": self.process_data,
            "test": self.test,
            "qr": self.qr,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        values = {key: value for key, value in data.items() if key != "kind"}
        values["tx_id"] = UUID(values["tx_id"])
        values["start"] = datetime.fromisoformat(values["start"])
        values["end"] = datetime.fromisoformat(values["end"])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """The `fiscal` object of `pos sell --json`."""
        return {
            "tx_number": self.tx_number,
            "signature_counter": self.signature_counter,
            "start": tse_time(self.start),
            "end": tse_time(self.end),
            "serial": self.serial,
            "algorithm": self.algorithm,
            "signature": self.value,
            "qr": self.qr,
            "test": self.test,
        }


@dataclass(frozen=True, slots=True)
class Outage:
    """The TSE did not sign within its budget: the sale went through and the journal line carries this mark."""

    tx_id: UUID
    reason: str
    at: datetime
    started: Started | None = None

    def to_json(self) -> dict[str, Any]:
        return {"outage": True, "reason": self.reason, "at": self.at.isoformat()}

    def to_dict(self) -> dict[str, Any]:
        started = self.started
        return {
            "kind": "outage",
            "tx_id": str(self.tx_id),
            "reason": self.reason,
            "at": self.at.isoformat(),
            "started": None
            if started is None
            else {
                "tx_number": started.tx_number,
                "start": started.start.isoformat(),
                "signature_counter": started.signature_counter,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outage:
        tx_id = UUID(data["tx_id"])
        started = data.get("started")
        return cls(
            tx_id=tx_id,
            reason=data["reason"],
            at=datetime.fromisoformat(data["at"]),
            started=None
            if not started
            else Started(
                tx_id,
                started["tx_number"],
                datetime.fromisoformat(started["start"]),
                started["signature_counter"],
            ),
        )


FiscalResult = Signature | Outage


def fiscal_from_dict(data: dict[str, Any] | None) -> FiscalResult | None:
    """Read back what `Signature.to_dict` or `Outage.to_dict` stored (None stays None: no signer)."""
    if data is None:
        return None
    return Signature.from_dict(data) if data.get("kind") == "signature" else Outage.from_dict(data)


def qr_code_data(sig: Signature) -> str:
    """The receipt QR code of DSFinV-K Anhang I: twelve fields joined by `;`.

    `V0;<cash register serial>;<processType>;<processData>;<tx number>;<signature counter>;<start>;<end>;
    <signature algorithm>;<log time format>;<signature>;<public key>`; times in UTC with milliseconds.
    """
    return ";".join(
        (
            QR_VERSION,
            sig.client_serial,
            sig.process_type,
            sig.process_data,
            str(sig.tx_number),
            str(sig.signature_counter),
            tse_time(sig.start),
            tse_time(sig.end),
            sig.algorithm,
            sig.time_format,
            sig.value,
            sig.public_key,
        )
    )


@dataclass(frozen=True, slots=True)
class QrFields:
    version: str
    client_serial: str
    process_type: str
    process_data: str
    tx_number: int
    signature_counter: int
    start: datetime
    end: datetime
    algorithm: str
    time_format: str
    signature: str
    public_key: str


def parse_qr_code(text: str) -> QrFields:
    """Read a receipt QR code back (tests, and a check of printed receipts)."""
    parts = text.split(";")
    if len(parts) != 12 or parts[0] != QR_VERSION:
        raise ValueError("not a DSFinV-K receipt QR code (V0 with 12 fields)")
    return QrFields(
        version=parts[0],
        client_serial=parts[1],
        process_type=parts[2],
        process_data=parts[3],
        tx_number=int(parts[4]),
        signature_counter=int(parts[5]),
        start=parse_tse_time(parts[6]),
        end=parse_tse_time(parts[7]),
        algorithm=parts[8],
        time_format=parts[9],
        signature=parts[10],
        public_key=parts[11],
    )


@dataclass(frozen=True, slots=True)
class ProcessData:
    bon_typ: str
    gross_by_class: dict[VatClass, int]
    payments: tuple[tuple[PaymentType, int], ...]


def parse_process_data(text: str) -> ProcessData:
    """`Beleg^12.50_7.00_0.00_0.00_0.00^10.00:Bar_9.50:Unbar` back into cents."""
    bon_typ, slots, payments = text.split("^")
    amounts = [int(Decimal(part) * 100) for part in slots.split("_")]
    if len(amounts) != len(VAT_SLOT_ORDER):
        raise ValueError("processData needs five VAT slots")
    paid = []
    for item in filter(None, payments.split("_")):
        amount, name, *_currency = item.split(":")
        kind = PaymentType.CASH if name == "Bar" else PaymentType.NON_CASH
        paid.append((kind, int(Decimal(amount) * 100)))
    return ProcessData(bon_typ, dict(zip(VAT_SLOT_ORDER, amounts, strict=True)), tuple(paid))


@dataclass(frozen=True, slots=True)
class TseStatus:
    """What `pos fiscal status` shows about the signer."""

    signer: Literal["none", "fiskaly", "simulated"]
    reachable: bool
    state: str  # e.g. INITIALIZED (fiskaly's TSS states), READY (simulated), or UNREACHABLE
    serial: str | None = None
    client_serial: str | None = None
    algorithm: str | None = None
    signature_counter: int | None = None
    tx_number: int | None = None
    test: bool = False
    message: str | None = None


# --- DSFinV-K export input: plain data the journal and the Z reports are turned into -----------------------

# What kind of journal line a DSFinV-K record is, and its business case (GV_TYP, DSFinV-K Anhang C).
BUSINESS_CASE: dict[str, str] = {
    "sale": "Umsatz",
    "return": "Umsatz",  # a refund is a negative sale
    "float": "Anfangsbestand",
    "cash_in": "Einzahlung",
    "cash_out": "Auszahlung",
    "difference": "DifferenzSollIst",
}
CASH_MOVEMENTS = frozenset({"float", "cash_in", "cash_out", "difference"})


@dataclass(frozen=True, slots=True)
class ExportLine:
    """One receipt line (Bonpos): gross amounts, negative on a return."""

    line_no: int
    article: str
    quantity: int
    unit_price_cents: int  # gross per unit before the discount
    discount_cents: int  # per unit
    total_cents: int  # gross after the discount: what was paid (or refunded) for the line
    vat_bp: int
    group: str = ""
    article_id: str = ""


@dataclass(frozen=True, slots=True)
class ExportReceipt:
    """One journal line as a DSFinV-K transaction (Vorgang): header, lines, payments, TSE data.

    `kind` is the journal's: sale, return, float, cash_in, cash_out, difference. A cash movement needs no
    lines: it is exported as one not-taxable line of its business case (e.g. Anfangsbestand) with `reason`.
    """

    bon_id: str  # unique within the export, e.g. the journal line id
    bon_nr: int  # the receipt number printed on the receipt (the journal's gap-free number)
    kind: str
    start: datetime
    end: datetime
    terminal: str
    operator_id: str
    operator_name: str
    lines: tuple[ExportLine, ...]
    tenders: tuple[TenderAmount, ...]
    fiscal: Signature | Outage | None = None
    training: bool = False
    reason: str = ""
    refers_to: str | None = None  # the bon_id of the sale a return refunds

    def __post_init__(self) -> None:
        if self.kind not in BUSINESS_CASE:
            raise ValueError(f"unknown journal kind {self.kind!r}")

    @property
    def business_case(self) -> str:
        return BUSINESS_CASE[self.kind]

    @property
    def total_cents(self) -> int:
        if self.kind in CASH_MOVEMENTS and not self.lines:
            return self.paid_cents
        return sum(line.total_cents for line in self.lines)

    @property
    def paid_cents(self) -> int:
        return sum(t.cents for t in self.tenders if t.tender != "free")

    def export_lines(self) -> tuple[ExportLine, ...]:
        """The lines, or for a cash movement the one line it is exported as."""
        if self.lines or self.kind not in CASH_MOVEMENTS:
            return self.lines
        name = self.reason or self.business_case
        return (ExportLine(1, name, 1, self.paid_cents, 0, self.paid_cents, 0),)


@dataclass(frozen=True, slots=True)
class ClosingVat:
    """The Z report's sales (and returns) at one VAT rate."""

    rate_bp: int
    net_cents: int
    vat_cents: int
    gross_cents: int


@dataclass(frozen=True, slots=True)
class CashPointClosing:
    """One Z report (Kassenabschluss) with the journal lines it closes.

    `payments_by_tender` is the money per tender over all its journal lines (sales, returns, float, cash in
    and out, difference): what the drawer and the card terminal saw. `sales_by_vat` is the VAT per rate of its
    sales and returns. Training lines are exported but count in neither.
    """

    z_number: int
    cash_register: str  # Z_KASSE_ID: the till's serial
    created_at: datetime  # the close
    receipts: tuple[ExportReceipt, ...]
    payments_by_tender: tuple[TenderAmount, ...]
    sales_by_vat: tuple[ClosingVat, ...]
    business_day: date | None = None


@dataclass(frozen=True, slots=True)
class ExportMasterData:
    """Who runs the till (Stamm_Abschluss, Stamm_Orte) and what the till is (Stamm_Kassen)."""

    company: str
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "DEU"
    tax_number: str = ""
    vat_id: str = ""
    register_brand: str = "pos"
    register_model: str = "pos box office"
    software_brand: str = "pos"
    software_version: str = ""
    currency: str = "EUR"


def split_address(address: str) -> tuple[str, str, str]:
    """'Hauptstr. 1, 50667 Köln' -> ('Hauptstr. 1', '50667', 'Köln'); whatever does not fit stays the street."""
    street, _, place = address.rpartition(",")
    place = place.strip()
    postcode, _, city = place.partition(" ")
    if street and postcode.isdigit():
        return street.strip(), postcode, city.strip()
    return address.strip(), "", ""
