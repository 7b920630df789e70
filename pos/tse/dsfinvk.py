"""The DSFinV-K export: the tax office's format for a German till's records, written with `dsfinvk`.

DSFinV-K ("Digitale Schnittstelle der Finanzverwaltung für Kassensysteme") is a zip of semicolon-separated
UTF-8 tables described by an `index.xml` (GDPdU description standard): per cash point closing (= one Z
report) its master data (cashpointclosing.csv, location.csv, cashregister.csv, vat.csv, tse.csv), its
transactions (transactions.csv with their VAT, payments, TSE data and references), their lines (lines.csv
with VAT and price composition) and the closing totals (businesscases.csv, payment.csv, cash_per_currency.csv).

pretix' `dsfinvk` package supplies the table models (field names, formats: decimal comma, local times) and
writes the CSVs; it leaves `index.xml` to its user: it is built here from the same models, so the description
and the data cannot disagree. Every table the standard names is in the zip, empty ones with their header line.

Before writing, each closing is checked against its Z report figures: the payments per tender and the sales per
VAT rate of its journal lines must equal the Z report's, or nothing is written.
"""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from dsfinvk import models
from dsfinvk.collection import Collection
from dsfinvk.fields import (
    BooleanField,
    Field,
    ISODateTimeField,
    LocalDateTimeField,
    NumericField,
    StringField,
)
from dsfinvk.table import Model

from pos.domain.fiscal import (
    DSFINVK_VAT_KEY,
    RATE_BY_VAT_CLASS,
    VAT_SLOT_ORDER,
    CashPointClosing,
    ExportLine,
    ExportMasterData,
    ExportReceipt,
    Outage,
    PaymentType,
    Signature,
    payment_type,
    tse_time,
    vat_class,
)
from pos.domain.money import format_plain, vat_included
from pos.errors import Refused
from pos.files import refuse_special_file

DTD_NAME = "gdpdu-01-08-2002.dtd"
DTD_PATH = Path(__file__).with_name(DTD_NAME)

# Every table of the standard, in its order (DSFinV-K chapter 3): the index lists them all.
TABLES: tuple[type[Model], ...] = (
    models.Bonpos,
    models.Bonpos_USt,
    models.Bonpos_Preisfindung,
    models.Bonpos_Zusatzinfo,
    models.Bonkopf,
    models.Bonkopf_USt,
    models.Bonkopf_AbrKreis,
    models.Bonkopf_Zahlarten,
    models.Bon_Referenzen,
    models.TSE_Transaktionen,
    models.Stamm_Abschluss,
    models.Stamm_Orte,
    models.Stamm_Kassen,
    models.Stamm_Terminals,
    models.Stamm_Agenturen,
    models.Stamm_USt,
    models.Stamm_TSE,
    models.Z_GV_Typ,
    models.Z_Zahlart,
    models.Z_Waehrungen,
)
FILES = tuple(table._filename for table in TABLES)
# Columns that identify a record; the leading run of them in each table is its primary key in index.xml.
KEY_COLUMNS = frozenset(
    {
        "Z_KASSE_ID",
        "Z_ERSTELLUNG",
        "Z_NR",
        "BON_ID",
        "POS_ZEILE",
        "UST_SCHLUESSEL",
        "ZAHLART_TYP",
        "ZAHLART_NAME",
        "TSE_ID",
        "GV_TYP",
        "GV_NAME",
        "AGENTUR_ID",
        "TERMINAL_ID",
        "ZAHLART_WAEH",
        "ABRECHNUNGSKREIS",
        "REF_TYP",
    }
)
VAT_DESCRIPTIONS = {
    1: "Regelsteuersatz",
    2: "Ermäßigter Steuersatz",
    3: "Durchschnittsatz (§ 24 Abs. 1 Nr. 3 UStG)",
    4: "Durchschnittsatz (§ 24 Abs. 1 Nr. 1 UStG)",
    5: "Nicht Steuerbar",
}
PAYMENT_NAMES = {PaymentType.CASH: "Bar", PaymentType.NON_CASH: "Karte"}
RECORD_DELIMITER_MARK = "@@CRLF@@"
TEST_TSE_NOTE = "Test-TSE (simuliert, keine zertifizierte TSE)"


@dataclass(frozen=True)
class DsfinvkSummary:
    path: Path
    closings: int
    transactions: int
    files: tuple[str, ...]


def euros(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _fill(record: Model, **values: object) -> Model:
    """Set fields, cutting texts to the length the standard allows (the package leaves that to its user)."""
    fields = {field.name: field for field in type(record)._fields}
    for name, value in values.items():
        if value is None or value == "":
            continue
        field = fields[name]
        if isinstance(field, StringField) and field.max_length and isinstance(value, str):
            value = value[: field.max_length]
        setattr(record, name, value)
    return record


def _vat_parts(gross: int, rate_bp: int) -> tuple[int, int]:
    vat = vat_included(gross, rate_bp)
    return gross - vat, vat


def _money_by_type(receipts: Iterable[ExportReceipt]) -> dict[PaymentType, int]:
    totals: dict[PaymentType, int] = {}
    for receipt in receipts:
        for tender in receipt.tenders:
            kind = payment_type(tender.tender)
            if kind is not None:
                totals[kind] = totals.get(kind, 0) + tender.cents
    return totals


def _sales_by_rate(receipts: Iterable[ExportReceipt]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for receipt in receipts:
        if receipt.business_case != "Umsatz":
            continue
        for line in receipt.export_lines():
            totals[line.vat_bp] = totals.get(line.vat_bp, 0) + line.total_cents
    return totals


def check_closing(closing: CashPointClosing) -> None:
    """Refuse a closing whose journal lines do not add up to its Z report (training lines count in neither)."""
    counted = [r for r in closing.receipts if not r.training]
    expected_money: dict[PaymentType, int] = {}
    for tender in closing.payments_by_tender:
        kind = payment_type(tender.tender)
        if kind is not None:
            expected_money[kind] = expected_money.get(kind, 0) + tender.cents
    money = _money_by_type(counted)
    for kind in PaymentType:
        if money.get(kind, 0) != expected_money.get(kind, 0):
            raise Refused(
                "Z report {z}: its {tender} payments are {expected} but its journal lines add up to {actual}.",
                z=closing.z_number,
                tender=PAYMENT_NAMES[kind],
                expected=format_plain(expected_money.get(kind, 0)),
                actual=format_plain(money.get(kind, 0)),
            )
    sales = _sales_by_rate(counted)
    expected_sales = {group.rate_bp: group.gross_cents for group in closing.sales_by_vat}
    for rate in sorted(set(sales) | set(expected_sales)):
        if sales.get(rate, 0) != expected_sales.get(rate, 0):
            raise Refused(
                "Z report {z}: its sales at {rate} % VAT are {expected} but its journal lines add up to {actual}.",
                z=closing.z_number,
                rate=format(rate / 100, "g"),
                expected=format_plain(expected_sales.get(rate, 0)),
                actual=format_plain(sales.get(rate, 0)),
            )


class _Writer:
    def __init__(self, master: ExportMasterData, zone: ZoneInfo) -> None:
        self.master = master
        self.zone = zone
        self.collection = Collection()
        self.bon_closing: dict[str, CashPointClosing] = {}

    def add(self, record: Model) -> None:
        self.collection.add(record)

    def z(self, closing: CashPointClosing) -> dict[str, object]:
        return {
            "Z_KASSE_ID": closing.cash_register,
            "Z_ERSTELLUNG": closing.created_at.astimezone(self.zone),
            "Z_NR": closing.z_number,
        }

    def closing(self, closing: CashPointClosing, tick: Callable[[], None]) -> None:
        z = self.z(closing)
        master = self.master
        counted = [r for r in closing.receipts if not r.training]
        money = _money_by_type(counted)
        self.add(
            _fill(
                models.Stamm_Abschluss(),
                **z,
                Z_BUCHUNGSTAG=closing.business_day.isoformat() if closing.business_day else "",
                Z_START_ID=closing.receipts[0].bon_id if closing.receipts else "",
                Z_ENDE_ID=closing.receipts[-1].bon_id if closing.receipts else "",
                NAME=master.company,
                STRASSE=master.street,
                PLZ=master.postcode,
                ORT=master.city,
                LAND=master.country,
                STNR=master.tax_number,
                USTID=master.vat_id,
                Z_SE_ZAHLUNGEN=euros(sum(money.values())),
                Z_SE_BARZAHLUNGEN=euros(money.get(PaymentType.CASH, 0)),
            )
        )
        self.add(
            _fill(
                models.Stamm_Orte(),
                **z,
                LOC_NAME=master.company,
                LOC_STRASSE=master.street,
                LOC_PLZ=master.postcode,
                LOC_ORT=master.city,
                LOC_LAND=master.country,
                LOC_USTID=master.vat_id,
            )
        )
        self.add(
            _fill(
                models.Stamm_Kassen(),
                **z,
                KASSE_BRAND=master.register_brand,
                KASSE_MODELL=master.register_model,
                KASSE_SERIENNR=closing.cash_register,
                KASSE_SW_BRAND=master.software_brand,
                KASSE_SW_VERSION=master.software_version,
                KASSE_BASISWAEH_CODE=master.currency,
                KEINE_UST_ZUORDNUNG=False,
            )
        )
        for cls in VAT_SLOT_ORDER:
            key = DSFINVK_VAT_KEY[cls]
            self.add(
                _fill(
                    models.Stamm_USt(),
                    **z,
                    UST_SCHLUESSEL=key,
                    UST_SATZ=euros(RATE_BY_VAT_CLASS[cls]),
                    UST_BESCHR=VAT_DESCRIPTIONS[key],
                )
            )
        tse_ids = self.tses(closing, z)
        for receipt in closing.receipts:
            self.receipt(closing, receipt, z, tse_ids)
            tick()
        self.totals(closing, counted, money, z)

    def tses(self, closing: CashPointClosing, z: dict[str, object]) -> dict[str, int]:
        """Stamm_TSE: each TSE that signed in this closing, numbered 1, 2, ... within it."""
        ids: dict[str, int] = {}
        for receipt in closing.receipts:
            sig = receipt.fiscal
            if not isinstance(sig, Signature) or sig.serial in ids:
                continue
            ids[sig.serial] = len(ids) + 1
            self.add(
                _fill(
                    models.Stamm_TSE(),
                    **z,
                    TSE_ID=ids[sig.serial],
                    TSE_SERIAL=sig.serial,
                    TSE_SIG_ALGO=sig.algorithm,
                    TSE_ZEITFORMAT=sig.time_format,
                    TSE_PD_ENCODING="UTF-8",
                    TSE_PUBLIC_KEY=sig.public_key,
                    TSE_ZERTIFIKAT_I=TEST_TSE_NOTE if sig.test else "",
                )
            )
        return ids

    def receipt(
        self, closing: CashPointClosing, receipt: ExportReceipt, z: dict[str, object], tse_ids: dict[str, int]
    ) -> None:
        bon = {**z, "BON_ID": receipt.bon_id}
        notes = []
        if isinstance(receipt.fiscal, Signature) and receipt.fiscal.test:
            notes.append(TEST_TSE_NOTE)
        if isinstance(receipt.fiscal, Outage):
            notes.append(f"TSE ausgefallen: {receipt.fiscal.reason}")
        if receipt.reason:
            notes.append(receipt.reason)
        self.add(
            _fill(
                models.Bonkopf(),
                **bon,
                BON_NR=receipt.bon_nr,
                BON_TYP="AVTraining" if receipt.training else "Beleg",
                BON_NAME="Rückgabe" if receipt.kind == "return" else "",
                TERMINAL_ID=receipt.terminal,
                BON_STORNO=False,
                BON_START=receipt.start.astimezone(self.zone),
                BON_ENDE=receipt.end.astimezone(self.zone),
                BEDIENER_ID=receipt.operator_id,
                BEDIENER_NAME=receipt.operator_name,
                UMS_BRUTTO=euros(receipt.total_cents),
                BON_NOTIZ="; ".join(notes),
            )
        )
        lines = receipt.export_lines()
        gross_by_rate: dict[int, int] = {}
        for line in lines:
            gross_by_rate[line.vat_bp] = gross_by_rate.get(line.vat_bp, 0) + line.total_cents
            self.line(receipt, line, bon)
        for rate, gross in sorted(
            gross_by_rate.items(), key=lambda item: DSFINVK_VAT_KEY[vat_class(item[0])]
        ):
            net, vat = _vat_parts(gross, rate)
            self.add(
                _fill(
                    models.Bonkopf_USt(),
                    **bon,
                    UST_SCHLUESSEL=DSFINVK_VAT_KEY[vat_class(rate)],
                    BON_BRUTTO=euros(gross),
                    BON_NETTO=euros(net),
                    BON_UST=euros(vat),
                )
            )
        for kind, cents in sorted(_money_by_type([receipt]).items()):
            self.add(
                _fill(
                    models.Bonkopf_Zahlarten(),
                    **bon,
                    ZAHLART_TYP=kind.dsfinvk_name,
                    ZAHLART_NAME=PAYMENT_NAMES[kind],
                    BASISWAEH_BETRAG=euros(cents),
                )
            )
        if receipt.refers_to:
            referenced = self.bon_closing.get(receipt.refers_to)
            self.add(
                _fill(
                    models.Bon_Referenzen(),
                    **bon,
                    REF_TYP="Transaktion",
                    REF_DATUM=referenced.created_at.astimezone(self.zone) if referenced else None,
                    REF_Z_KASSE_ID=referenced.cash_register if referenced else "",
                    REF_Z_NR=referenced.z_number if referenced else None,
                    REF_BON_ID=receipt.refers_to,
                )
            )
        self.tse(receipt, bon, tse_ids)

    def line(self, receipt: ExportReceipt, line: ExportLine, bon: dict[str, object]) -> None:
        row = {**bon, "POS_ZEILE": str(line.line_no)}
        quantity = line.quantity or 1
        self.add(
            _fill(
                models.Bonpos(),
                **row,
                ARTIKELTEXT=line.article,
                POS_TERMINAL_ID=receipt.terminal,
                GV_TYP=receipt.business_case,
                GV_NAME=receipt.reason if receipt.business_case != "Umsatz" else "",
                INHAUS=False,
                P_STORNO=False,
                ART_NR=line.article_id,
                WARENGR=line.group,
                MENGE=Decimal(line.quantity),
                FAKTOR=Decimal(1),
                EINHEIT="Stück",
                STK_BR=Decimal(line.total_cents) / quantity / 100,
            )
        )
        key = DSFINVK_VAT_KEY[vat_class(line.vat_bp)]
        net, vat = _vat_parts(line.total_cents, line.vat_bp)
        self.add(
            _fill(
                models.Bonpos_USt(),
                **row,
                UST_SCHLUESSEL=key,
                POS_BRUTTO=euros(line.total_cents),
                POS_NETTO=euros(net),
                POS_UST=euros(vat),
            )
        )
        if line.discount_cents:
            for kind, gross in (
                ("base_amount", line.unit_price_cents * line.quantity),
                ("discount", -line.discount_cents * line.quantity),
            ):
                part_net, part_vat = _vat_parts(gross, line.vat_bp)
                self.add(
                    _fill(
                        models.Bonpos_Preisfindung(),
                        **row,
                        TYP=kind,
                        UST_SCHLUESSEL=key,
                        PF_BRUTTO=euros(gross),
                        PF_NETTO=euros(part_net),
                        PF_UST=euros(part_vat),
                    )
                )

    def tse(self, receipt: ExportReceipt, bon: dict[str, object], tse_ids: dict[str, int]) -> None:
        sig = receipt.fiscal
        if isinstance(sig, Signature):
            self.add(
                _fill(
                    models.TSE_Transaktionen(),
                    **bon,
                    TSE_ID=tse_ids[sig.serial],
                    TSE_TANR=sig.tx_number,
                    TSE_TA_START=tse_time(sig.start),
                    TSE_TA_ENDE=tse_time(sig.end),
                    TSE_TA_VORGANGSART=sig.process_type,
                    TSE_TA_SIGZ=sig.signature_counter,
                    TSE_TA_SIG=sig.value,
                    TSE_TA_FEHLER=TEST_TSE_NOTE if sig.test else "",
                    TSE_VORGANGSDATEN=sig.process_data,
                )
            )
        elif isinstance(sig, Outage):
            self.add(
                _fill(
                    models.TSE_Transaktionen(),
                    **bon,
                    TSE_TA_START=tse_time(sig.started.start) if sig.started else "",
                    TSE_TANR=sig.started.tx_number if sig.started else None,
                    TSE_TA_FEHLER=f"TSE ausgefallen: {sig.reason}",
                )
            )

    def totals(
        self,
        closing: CashPointClosing,
        counted: Sequence[ExportReceipt],
        money: dict[PaymentType, int],
        z: dict[str, object],
    ) -> None:
        # Sales per VAT rate: the Z report's own figures (checked against the lines before writing).
        for group in sorted(closing.sales_by_vat, key=lambda g: DSFINVK_VAT_KEY[vat_class(g.rate_bp)]):
            self.add(
                _fill(
                    models.Z_GV_Typ(),
                    **z,
                    GV_TYP="Umsatz",
                    UST_SCHLUESSEL=DSFINVK_VAT_KEY[vat_class(group.rate_bp)],
                    Z_UMS_BRUTTO=euros(group.gross_cents),
                    Z_UMS_NETTO=euros(group.net_cents),
                    Z_UST=euros(group.vat_cents),
                )
            )
        movements: dict[str, int] = {}
        for receipt in counted:
            if receipt.business_case != "Umsatz":
                movements[receipt.business_case] = (
                    movements.get(receipt.business_case, 0) + receipt.total_cents
                )
        for case, cents in movements.items():
            self.add(
                _fill(
                    models.Z_GV_Typ(),
                    **z,
                    GV_TYP=case,
                    UST_SCHLUESSEL=DSFINVK_VAT_KEY[vat_class(0)],
                    Z_UMS_BRUTTO=euros(cents),
                    Z_UMS_NETTO=euros(cents),
                    Z_UST=euros(0),
                )
            )
        for kind, cents in sorted(money.items()):
            self.add(
                _fill(
                    models.Z_Zahlart(),
                    **z,
                    ZAHLART_TYP=kind.dsfinvk_name,
                    ZAHLART_NAME=PAYMENT_NAMES[kind],
                    Z_ZAHLART_BETRAG=euros(cents),
                )
            )
        self.add(
            _fill(
                models.Z_Waehrungen(),
                **z,
                ZAHLART_WAEH=self.master.currency,
                ZAHLART_BETRAG_WAEH=euros(money.get(PaymentType.CASH, 0)),
            )
        )


def write_dsfinvk(
    path: Path,
    master: ExportMasterData,
    closings: Sequence[CashPointClosing],
    *,
    zone: ZoneInfo,
    progress: Callable[[int, int], None] | None = None,
) -> DsfinvkSummary:
    """Write the export of `closings` to `path` (a zip, mode 600, replaced whole or not at all)."""
    for closing in closings:
        check_closing(closing)
    writer = _Writer(master, zone)
    for closing in closings:
        for receipt in closing.receipts:
            writer.bon_closing[receipt.bon_id] = closing
    total = sum(len(closing.receipts) for closing in closings)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    for closing in closings:
        writer.closing(closing, tick)
    path = Path(path)
    refuse_special_file(path)  # `-o /dev/full` must not replace the device with a zip
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory() as work:
            index = Path(work) / "index.xml"
            index.write_bytes(index_xml(master))
            writer.collection.write(temporary, str(index), str(DTD_PATH))
        with zipfile.ZipFile(temporary, "a", compression=zipfile.ZIP_DEFLATED) as archive:
            present = set(archive.namelist())
            for table in TABLES:
                if table._filename not in present:
                    archive.writestr(table._filename, ";".join(f.name for f in table._fields) + "\r\n")
        os.chmod(temporary, 0o600)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return DsfinvkSummary(
        path=path, closings=len(closings), transactions=total, files=("index.xml", DTD_NAME, *FILES)
    )


def _column(parent: ET.Element, tag: str, field: Field) -> None:
    column = ET.SubElement(parent, tag)
    ET.SubElement(column, "Name").text = field.name
    if field.__doc__:
        ET.SubElement(column, "Description").text = field.__doc__
    if isinstance(field, NumericField):
        numeric = ET.SubElement(column, "Numeric")
        if field.places:
            ET.SubElement(numeric, "Accuracy").text = str(field.places)
    elif isinstance(field, BooleanField):
        ET.SubElement(column, "Numeric")
    elif isinstance(field, LocalDateTimeField):
        date = ET.SubElement(column, "Date")
        ET.SubElement(date, "Format").text = 'YYYY-MM-DD"T"hh:mm:ss'
    else:
        ET.SubElement(column, "AlphaNumeric")
        if isinstance(field, StringField) and field.max_length:
            ET.SubElement(column, "MaxLength").text = str(field.max_length)
        elif isinstance(field, ISODateTimeField):
            ET.SubElement(column, "MaxLength").text = "24"


def index_xml(master: ExportMasterData) -> bytes:
    """The GDPdU index describing every table of the export, column by column, from the package's models."""
    root = ET.Element("DataSet")
    ET.SubElement(root, "Version").text = "1.0"
    supplier = ET.SubElement(root, "DataSupplier")
    ET.SubElement(supplier, "Name").text = master.company
    ET.SubElement(supplier, "Location").text = ", ".join(
        part for part in (master.street, f"{master.postcode} {master.city}".strip()) if part
    )
    ET.SubElement(
        supplier, "Comment"
    ).text = f"DSFinV-K (Taxonomie {models.TAXONOMY_VERSION}), {master.software_brand} {master.software_version}".strip()
    media = ET.SubElement(root, "Media")
    ET.SubElement(media, "Name").text = "DSFinV-K"
    for table in TABLES:
        element = ET.SubElement(media, "Table")
        ET.SubElement(element, "URL").text = table._filename
        ET.SubElement(element, "Name").text = table.__name__
        description = (table.__doc__ or "").strip().splitlines()
        if description:
            ET.SubElement(element, "Description").text = description[0].strip()
        ET.SubElement(element, "UTF8")
        ET.SubElement(element, "DecimalSymbol").text = ","
        ET.SubElement(element, "DigitGroupingSymbol").text = "."
        ET.SubElement(ET.SubElement(element, "Range"), "From").text = "2"
        variable = ET.SubElement(element, "VariableLength")
        ET.SubElement(variable, "ColumnDelimiter").text = ";"
        ET.SubElement(variable, "RecordDelimiter").text = RECORD_DELIMITER_MARK
        ET.SubElement(variable, "TextEncapsulator").text = '"'
        keys = True
        for field in table._fields:
            keys = keys and field.name in KEY_COLUMNS
            _column(variable, "VariablePrimaryKey" if keys else "VariableColumn", field)
    ET.indent(root)
    # CR LF as character references: a literal line break in XML text would be read back as LF alone.
    body = ET.tostring(root, encoding="unicode").replace(RECORD_DELIMITER_MARK, "&#13;&#10;")
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE DataSet SYSTEM "{DTD_NAME}">\n'
    return (head + body + "\n").encode("utf-8")
