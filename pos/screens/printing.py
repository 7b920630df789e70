"""How the screens word a print run: what printed, what did not and why, and that F8 retries."""

from __future__ import annotations

from pos.db.till import PrintReport
from pos.i18n import N_, Language

KIND_NAMES = {
    "ticket": N_("Ticket"),
    "slip": N_("Order slip"),
    "receipt": N_("Receipt"),
    "zreport": N_("Z report"),
}


def describe_print(report: PrintReport, lang: Language) -> str:
    _ = lang._
    if report.ok:
        return _("Printed.")
    items = []
    for kind, _reason, code in report.not_printed:
        name = _(KIND_NAMES.get(kind, kind))
        items.append(f"{name} {code}" if code else name)
    reason = report.not_printed[0][1].rstrip(".")
    return _("Not printed: {items} ({reason}). F8: retry.").format(items=", ".join(items), reason=reason)
