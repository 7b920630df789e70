"""`pos sell`, `pos order cancel|show`, `pos report sales`."""

from __future__ import annotations

from datetime import datetime
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
    pay: str = typer.Option("cash", "--pay", help="cash | card (card: confirmed on the card terminal)."),
    given: str | None = typer.Option(None, "--given", help="Cash handed over, e.g. 50 (default: exact)."),
    print_tickets: bool = typer.Option(True, "--print/--no-print", help="Print tickets and slip now."),
    cart_link: str | None = typer.Option(None, "--cart-link", help="Check out a signed cart link (URL)."),
    as_json: bool = JsonOption,
) -> None:
    """Sell articles headlessly: one order, paid, tickets issued (all or nothing)."""
    from pos.db.mail import send_after_sale
    from pos.db.sales import SaleRequest, parse_cart_args, sell
    from pos.domain.money import format_plain, parse_amount

    if pay not in ("cash", "card"):
        fail(f"--pay {pay!r} is not known; use cash or card.")
    given_cents = parse_or_fail(parse_amount, given, "--given") if given is not None else None
    rt = load_runtime()
    if bool(articles) == bool(cart_link):
        fail("Name the ARTICLEs to sell, or give --cart-link URL (which brings its own cart), not both.")
    options: dict[str, Any] = dict(
        unlock_codes=unlock,
        promo_codes=promo,
        link_promo=link_promo,
        payment=pay,
        given_cents=given_cents,
        customer_id=_customer_id(customer) if customer is not None else None,
        guest_name=customer_name,
        guest_email=customer_email,
        print_tickets=print_tickets,
    )
    if cart_link:
        from pos.db.cart_links import checkout_request

        request = checkout_request(rt, cart_link, **options)
    else:
        request = SaleRequest(lines=parse_cart_args(rt, articles or []), **options)
    result = sell(rt, request)
    printed = _print(rt, result.order.id, result.print_job_ids) if print_tickets else None
    mailed = send_after_sale(rt, result.order.id, result.mail_ids)
    if as_json:
        print_json(result.data)
    else:
        _echo_order(result.data, format_plain)
    if printed:
        typer.echo(f"Warning: order {result.order.id} is sold but {printed}", err=True)
    if mailed:
        typer.echo(f"Warning: order {result.order.id} is sold but {mailed}", err=True)


def _customer_id(text: str) -> int:
    from pos.domain.values import parse_id

    number: int = parse_or_fail(lambda t: parse_id(t, "--customer"), text, "--customer")
    return number


def _print(rt: Any, order_id: int | None, job_ids: list[int]) -> str | None:
    """Run the sale's print jobs after commit; a failure is a sentence to show, the sale stands."""
    if not job_ids:
        return None
    from pos.db.printjobs import run_jobs
    from pos.errors import PosError

    try:
        outcome = run_jobs(rt, order_id=order_id, job_ids=job_ids)
    except PosError as exc:
        reason = str(exc)
    else:
        if not outcome.failed:
            return None
        _job, reason = outcome.failed[0]
    reason = reason.strip().rstrip(".")
    return f"printing failed: {reason[:1].lower()}{reason[1:]}; the sale stands, print it with `pos order print-pending`."


def _echo_order(data: dict[str, Any], money: Any) -> None:
    payment = data["payment"]
    paid = payment["method"]
    if paid == "cash":
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


@order_app.command("cancel")
def cancel(
    order: str = typer.Argument(..., help="Order number."),
    as_json: bool = JsonOption,
) -> None:
    """Cancel an order: its tickets are voided, units and promo uses returned."""
    from pos.db.sales import cancel_order, get_order

    rt = load_runtime()
    order_id = _order_id(order)
    cancel_order(rt, order_id)
    data = get_order(rt, order_id)
    if as_json:
        print_json(data)
    else:
        typer.echo(f"Order {data['id']} cancelled; {len(data['tickets'])} ticket(s) voided.")


@order_app.command("show")
def show(
    order: str = typer.Argument(..., help="Order number."),
    as_json: bool = JsonOption,
) -> None:
    """Show an order with its lines, tickets, VAT and payment."""
    from pos.db.sales import get_order
    from pos.domain.money import format_plain

    data = get_order(load_runtime(), _order_id(order))
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
    from pos.commands.export import echo_door_report
    from pos.db.export import door_report
    from pos.db.reports import sales_report
    from pos.domain.money import format_plain

    rt = load_runtime()
    start = _bound(rt, date_from, "--from", end=False) if date_from else None
    end = _bound(rt, date_to, "--to", end=True) if date_to else None
    if start and end and end <= start:
        fail("--to must not be before --from.")
    report = sales_report(rt, start=start, end=end)
    report["door"] = door_report(rt, date_from=start, date_to=end)
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


def _bound(rt: Any, text: str, option: str, *, end: bool) -> datetime:
    """A date means its business day (from its start, or to its end); anything else is an ISO time."""
    from pos.domain.clock import OutsideCalendar, business_day_bounds, parse_date, parse_time

    venue = rt.config.venue
    try:
        day = parse_date(text)
    except OutsideCalendar as exc:
        fail(f"{option}: {exc}.")
    except ValueError:
        at: datetime = parse_or_fail(lambda t: parse_time(t, venue.zone), text, option)
        return at
    start, stop = business_day_bounds(day, venue.zone, venue.day_start_minutes)
    return stop if end else start
