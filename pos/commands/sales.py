"""`pos sell`, `pos order cancel|show`, `pos report sales`."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
from typing import Any

import typer

from pos.commands.common import (
    JsonOption,
    app,
    fail,
    load_runtime,
    order_app,
    parse_or_fail,
    print_json,
    report_app,
)


@app.command("sell")
def sell_(
    articles: list[str] | None = typer.Argument(
        None, metavar="ARTICLE[:QTY]...", help="Exact name or #ID, optionally :QTY (e.g. 'Bier:3')."
    ),
    unlock: list[str] = typer.Option([], "--unlock", help="Unlock code for hidden articles (repeatable)."),
    promo: list[str] = typer.Option([], "--promo", help="Reduction code, entered at payment (repeatable)."),
    link_promo: str | None = typer.Option(None, "--link-promo", help="The code of a promo direct link."),
    customer_name: str | None = typer.Option(None, "--customer-name", help="Guest name (ticket holder)."),
    customer_email: str | None = typer.Option(None, "--customer-email", help="Guest e-mail for the tickets."),
    customer: str | None = typer.Option(None, "--customer", help="A stored customer by ID."),
    pay: list[str] = typer.Option(
        [],
        "--pay",
        help="TENDER[:AMOUNT], repeatable: cash | card (card: confirmed on the card terminal), e.g. "
        "--pay cash:20.00 --pay card (the tender without an amount takes the rest). Default: cash, exact.",
    ),
    given: str | None = typer.Option(None, "--given", help="Cash handed over, e.g. 50 (default: exact)."),
    print_tickets: bool = typer.Option(True, "--print/--no-print", help="Print tickets and slip now."),
    cart_link: str | None = typer.Option(None, "--cart-link", help="Check out a signed cart link (URL)."),
    as_json: bool = JsonOption,
) -> None:
    """Sell articles headlessly: one order, paid, tickets issued (all or nothing)."""
    from pos.domain.money import format_plain, parse_amount
    from pos.domain.till import parse_tender
    from pos.services.checkout import SaleRequest, after_sale, parse_cart_args, sell
    from pos.services.operators import cli_actor

    tenders = [parse_tender(text) for text in pay]
    given_cents = parse_or_fail(parse_amount, given, "--given") if given is not None else None
    rt = load_runtime()
    actor = cli_actor(rt)
    if bool(articles) == bool(cart_link):
        fail("Name the ARTICLEs to sell, or give --cart-link URL (which brings its own cart), not both.")
    request = SaleRequest(
        lines=parse_cart_args(rt, actor, articles or []),
        unlock_codes=unlock,
        promo_codes=promo,
        link_promo=link_promo,
        tenders=tenders,
        given_cents=given_cents,
        customer_id=_customer_id(customer) if customer is not None else None,
        guest_name=customer_name,
        guest_email=customer_email,
        cart_link=cart_link,
        print_tickets=print_tickets,
    )
    result = sell(rt, actor, request)
    delivered = after_sale(rt, actor, result)
    if as_json:
        print_json(result.data)
    else:
        _echo_order(result.data, format_plain)
    if delivered.print_problem:
        reason = _lower_first(delivered.print_problem)
        typer.echo(
            f"Warning: order {result.order_id} is sold but printing failed: {reason}; "
            "the sale stands, print it with `pos order print-pending`.",
            err=True,
        )
    if delivered.mail_problem:
        typer.echo(
            f"Warning: order {result.order_id} is sold but its e-mail is not sent yet ({delivered.mail_problem}); "
            "`pos mail send-pending` or `pos mail worker` retries it.",
            err=True,
        )


def _customer_id(text: str) -> int:
    from pos.domain.values import parse_id

    number: int = parse_or_fail(lambda t: parse_id(t, "--customer"), text, "--customer")
    return number


def _lower_first(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].lower() + text[1:]


def _echo_order(data: dict[str, Any], money: Any) -> None:
    payment = data["payment"]
    paid = payment["method"]
    if paid == "split":
        paid = ", ".join(f"{p['tender']} {money(p['amount_cents'])}" for p in data.get("payments") or [])
    if payment["method"] == "cash" or payment["change_cents"]:
        paid += f", given {money(payment['given_cents'])}, change {money(payment['change_cents'])}"
    state = "" if data["status"] == "paid" else f" ({data['status']})"
    typer.echo(f"Order {data['id']}{state}: total {money(data['total_cents'])} ({paid}).")
    for line in data["lines"]:
        discount = (
            f" (-{money(line['discount_cents'])} {line['promo_code']})" if line["discount_cents"] else ""
        )
        code = f"  ticket {line['ticket_code']}" if line["ticket_code"] else ""
        typer.echo(f"  {line['quantity']} x {line['article']}  {money(line['total_cents'])}{discount}{code}")
    if data["unused_codes"]:
        typer.echo(f"Not used (not consumed): {', '.join(data['unused_codes'])}.")


def _order_id(text: str) -> int:
    """An order number, `12` or `#12` (ASCII digits, 64-bit), or one sentence."""
    from pos.domain.values import parse_id

    number: int = parse_or_fail(lambda t: parse_id(t, "ORDER"), text, "Order number")
    return number


@order_app.command("return")
def return_(
    order: str = typer.Argument(..., help="Order number."),
    ticket: list[str] = typer.Option([], "--ticket", help="Return this ticket (code); repeatable."),
    line: list[str] = typer.Option(
        [], "--line", help="ARTICLE:QTY of a non-ticket line to return (exact name or #ID); repeatable."
    ),
    refund: str | None = typer.Option(None, "--refund", help="cash | card (default: as paid)."),
    force: bool = typer.Option(False, "--force", help="Also return tickets already admitted at the door."),
    as_json: bool = JsonOption,
) -> None:
    """Return tickets or units of an order (without --ticket/--line: everything not yet returned).

    The refund is booked into this terminal's open shift; returned tickets are void, units and promo uses come
    back; a ticket already admitted needs --force (its place is not sold again). A return slip prints.
    """
    _return(order, ticket, line, refund, force, as_json)


@order_app.command("cancel")
def cancel(
    order: str = typer.Argument(..., help="Order number."),
    force: bool = typer.Option(False, "--force", help="Also return tickets already admitted at the door."),
    as_json: bool = JsonOption,
) -> None:
    """Cancel an order: return everything not yet returned (refund as paid)."""
    _return(order, [], [], None, force, as_json)


def _return(
    order: str, tickets: list[str], lines: list[str], refund: str | None, force: bool, as_json: bool
) -> None:
    from pos.domain.money import format_plain
    from pos.services.operators import cli_actor
    from pos.services.orders import AdmittedTickets, ReturnRequest, print_return_slip, return_order

    if refund not in (None, "cash", "card"):
        fail(f"--refund {refund!r} is not known; use cash or card.")
    units = [_line_units(text) for text in lines]
    rt = load_runtime()
    actor = cli_actor(rt)
    request = ReturnRequest(
        order_id=_order_id(order), ticket_codes=tickets, lines=units, refund=refund, force=force
    )
    try:
        result = return_order(rt, actor, request)
    except AdmittedTickets as exc:
        fail(f"{exc} Give --force to return it anyway.", code=1)
    outcome = print_return_slip(rt, actor, result)
    if as_json:
        print_json(result.json())
    else:
        by = (
            ", ".join(f"{t.tender} {format_plain(-t.amount_cents)}" for t in result.tenders)
            or "nothing to pay out"
        )
        what = [*result.tickets, *(f"{ln['quantity']} x {ln['article']}" for ln in result.lines)]
        typer.echo(
            f"Order {result.order_id}: returned {', '.join(what)}; refund {format_plain(result.refund_cents)} ({by})."
        )
    if not outcome.ok:
        reason = str(outcome.failed[0].reason).rstrip(".")
        typer.echo(f"Warning: the return is booked but its slip did not print ({reason}).", err=True)


def _line_units(text: str) -> tuple[str, int]:
    from pos.domain.values import MAX_QUANTITY, ascii_whole

    ref, colon, quantity = text.rpartition(":")
    units = ascii_whole(quantity) if colon and ref else None  # digits 0-9 only
    if units is None or not 1 <= units <= MAX_QUANTITY:
        fail(f"--line {text!r} is not ARTICLE:QTY such as 'Bier:2' (QTY 1 to {MAX_QUANTITY}).")
    return ref, units


@order_app.command("show")
def show(
    order: str = typer.Argument(..., help="Order number."),
    as_json: bool = JsonOption,
) -> None:
    """Show an order with its lines, tickets, VAT and payment."""
    from pos.domain.money import format_plain
    from pos.services.operators import cli_actor
    from pos.services.orders import show_order

    rt = load_runtime()
    data = show_order(rt, cli_actor(rt), _order_id(order))
    if as_json:
        print_json(data)
    else:
        _echo_order(data, format_plain)


@report_app.command("sales")
def sales_report_(
    date_from: str | None = typer.Option(None, "--from", help="First business day (or an ISO time)."),
    date_to: str | None = typer.Option(None, "--to", help="Last business day, included (or an ISO time)."),
    as_json: bool = JsonOption,
) -> None:
    """Revenue and counts by article group and by payment method (cancelled orders excluded); door statistics."""
    from pos.commands.export import echo_door_report, period_option
    from pos.domain.money import format_plain
    from pos.services.export import door_report, sales_report
    from pos.services.operators import cli_actor

    rt = load_runtime()
    actor = cli_actor(rt)
    zone = rt.config.venue.zone
    start = period_option(date_from, "--from", zone)
    end = period_option(date_to, "--to", zone)
    report = sales_report(rt, actor, date_from=start, date_to=end)
    report["door"] = door_report(rt, actor, date_from=start, date_to=end)
    if as_json:
        print_json(report)
        return
    typer.echo(f"{report['orders']} order(s), total {format_plain(report['total_cents'])}.")
    for row in report["by_group"]:
        typer.echo(f"  {row['group']}: {row['units']} unit(s), {format_plain(row['total_cents'])}")
    for row in report["by_payment"]:
        typer.echo(f"  {row['method']}: {row['orders']} order(s), {format_plain(row['total_cents'])}")
    typer.echo("Door:")
    echo_door_report(report["door"])
