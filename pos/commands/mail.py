"""`pos customer ...`, `pos order resend`, `pos mail ...`, `pos cart-link ...`: delivery and customers."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
import typer

from pos.commands.common import (
    JsonOption,
    app,
    cart_link_app,
    customer_app,
    id_or_fail,
    load_runtime,
    new_app,
    order_app,
    parse_or_fail,
    print_json,
)

mail_app = new_app("E-mail delivery of tickets: the outbox and its sender.")
app.add_typer(mail_app, name="mail")


# ---- customers ----


@customer_app.command("add")
def customer_add(
    name: str = typer.Argument(..., help="The customer's name."),
    email: str | None = typer.Option(None, "--email", help="E-mail address (tickets are sent there)."),
    phone: str | None = typer.Option(None, "--phone", help="Phone number."),
    birthday: str | None = typer.Option(None, "--birthday", help="Birthday, YYYY-MM-DD."),
    as_json: bool = JsonOption,
) -> None:
    """Add a customer record."""
    from pos.services.customers import add_customer
    from pos.services.operators import cli_actor

    rt = load_runtime()
    customer = add_customer(rt, cli_actor(rt), name, email=email, phone=phone, birthday=birthday)
    if as_json:
        print_json(customer.json(rt.config.venue.zone))
    else:
        typer.echo(f"Added customer #{customer.id} {customer.name}.")


@customer_app.command("list")
def customer_list(as_json: bool = JsonOption) -> None:
    """List the customer records."""
    from pos.services.customers import list_customers
    from pos.services.operators import cli_actor

    rt = load_runtime()
    rows = [c.json(rt.config.venue.zone) for c in list_customers(rt, cli_actor(rt))]
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("#", "Name", "E-mail", "Phone", "Birthday")
    for row in rows:
        table.add_row(
            str(row["id"]), row["name"], row["email"] or "", row["phone"] or "", row["birthday"] or ""
        )
    Console().print(table)


@customer_app.command("import")
def customer_import(
    file: str = typer.Argument(..., help="CSV (UTF-8) with the header name,email,phone,birthday."),
    as_json: bool = JsonOption,
) -> None:
    """Import customers from CSV: every row or none (a bad row is named by its line number)."""
    from pos.services.customers import import_customers
    from pos.services.operators import cli_actor

    rt = load_runtime()
    customers = import_customers(rt, cli_actor(rt), file)
    if as_json:
        print_json([c.json(rt.config.venue.zone) for c in customers])
    else:
        typer.echo(f"Imported {len(customers)} customers.")


# ---- e-mail ----


def _outcome_json(outcome: object) -> dict[str, object]:
    sent = getattr(outcome, "sent", [])
    failed = getattr(outcome, "failed", [])
    return {"sent": sent, "failed": [{"id": mail_id, "error": reason} for mail_id, reason in failed]}


@order_app.command("resend")
def order_resend(
    order_text: str = typer.Argument(..., metavar="ORDER", help="Order id."),
    as_json: bool = JsonOption,
) -> None:
    """Send the order's tickets by e-mail again (a deliberate second copy of each ticket)."""
    from pos.services.operators import cli_actor
    from pos.services.orders import resend

    order = id_or_fail(order_text, "Order number")
    rt = load_runtime()
    done = resend(rt, cli_actor(rt), order)
    result: dict[str, object] = {"order_id": order, "queued": done.queued, "sent": [], "failed": []}
    if done.sent is not None:
        result.update(_outcome_json(done.sent))
    if as_json:
        print_json(result)
        return
    if done.sent is None:
        queued = done.queued
        typer.echo(f"Queued {len(queued)} mail(s) for order {order}; [smtp] host is empty, so none was sent.")
        return
    _echo_outcome(result)


def _echo_outcome(result: dict[str, object]) -> None:
    sent = result["sent"]
    failed = result["failed"]
    assert isinstance(sent, list) and isinstance(failed, list)
    typer.echo(f"Sent {len(sent)} mail(s).")
    for item in failed:
        typer.echo(f"Mail {item['id']} not sent: {item['error']} (will retry).", err=True)


@mail_app.command("send-pending")
def mail_send_pending(as_json: bool = JsonOption) -> None:
    """Send every queued mail that is due (failed ones after their back-off)."""
    from pos.services.delivery import send_pending
    from pos.services.operators import cli_actor

    rt = load_runtime()
    result = _outcome_json(send_pending(rt, cli_actor(rt)))
    if as_json:
        print_json(result)
    else:
        _echo_outcome(result)
    if result["failed"]:
        raise typer.Exit(1)


@mail_app.command("worker")
def mail_worker(
    interval_text: str = typer.Option(
        "10", "--interval", metavar="SECONDS", help="Seconds between looks at the outbox (0.5 to 3600)."
    ),
) -> None:
    """Send and retry queued mails until Ctrl-C: for a box office without the cashier app running."""
    import logging
    import signal
    import threading

    from pos.domain.values import parse_seconds
    from pos.errors import Refused
    from pos.services.delivery import mail_enabled, run_sender
    from pos.services.operators import cli_actor

    interval = parse_or_fail(
        lambda t: parse_seconds(t, "--interval", minimum=0.5, maximum=3600), interval_text, "--interval"
    )

    rt = load_runtime()
    cli_actor(rt)  # who runs it: the role check happens per batch inside the sender
    if not mail_enabled(rt):
        raise Refused("E-mail delivery is off; set [smtp] host in the config.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    typer.echo(f"Sending queued mails through {rt.config.smtp.host}:{rt.config.smtp.port}; Ctrl-C stops.")
    try:
        run_sender(rt, stop, interval=interval)
    except KeyboardInterrupt:
        stop.set()


@mail_app.command("list")
def mail_list(
    order_text: str | None = typer.Option(None, "--order", metavar="ORDER", help="Only this order's mails."),
    status: str | None = typer.Option(None, "--status", help="pending | sending | sent | failed."),
    as_json: bool = JsonOption,
) -> None:
    """Show the outbox: what was sent, what waits for a retry and why."""
    from pos.services.delivery import list_outbox
    from pos.services.operators import cli_actor

    order = id_or_fail(order_text, "--order") if order_text is not None else None
    rt = load_runtime()
    rows = list_outbox(rt, cli_actor(rt), order_id=order, status=status)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        error = f"  {row['error']}" if row["error"] else ""
        typer.echo(
            f"#{row['id']} order {row['order_id']} ticket {row['ticket_id']} to {row['recipient']}: "
            f"{row['status']} (attempts {row['attempts']}){error}"
        )


# ---- cart links ----


@cart_link_app.command("create")
def cart_link_create(
    items: list[str] = typer.Argument(..., help="ARTICLE[:QTY]: exact name or #ID, optional quantity."),
    customer_name: str | None = typer.Option(None, "--customer-name", help="The buyer's name."),
    customer_email: str | None = typer.Option(None, "--customer-email", help="Where the tickets go."),
    promo: str | None = typer.Option(None, "--promo", help="A direct-link promo code."),
    valid_from: str | None = typer.Option(None, "--valid-from", help="Ticket validity start (ISO 8601)."),
    valid_until: str | None = typer.Option(None, "--valid-until", help="Ticket validity end (ISO 8601)."),
    expires_in: str = typer.Option(
        "24h", "--expires-in", help="How long the link can be paid: 30m, 24h, 7d."
    ),
    qr: bool = typer.Option(False, "--qr", help="Also draw the link as a QR code in the terminal."),
    as_json: bool = JsonOption,
) -> None:
    """Create a signed cart link (what a third-party shop would hand over) and print its URL."""
    from pos.domain.cart_link import parse_duration
    from pos.domain.clock import parse_time
    from pos.services.cart_links import LinkRequest, create_cart_link, link_json
    from pos.services.operators import cli_actor

    rt = load_runtime()
    zone = rt.config.venue.zone
    request = LinkRequest(
        items=items,
        customer_name=customer_name,
        customer_email=customer_email,
        promo=promo,
        valid_from=parse_or_fail(lambda t: parse_time(t, zone), valid_from, "--valid-from")
        if valid_from
        else None,
        valid_until=parse_or_fail(lambda t: parse_time(t, zone), valid_until, "--valid-until")
        if valid_until
        else None,
        lifetime=parse_or_fail(parse_duration, expires_in, "--expires-in"),
    )
    link, url = create_cart_link(rt, cli_actor(rt), request)
    if as_json:
        print_json(link_json(link, url, rt))
        return
    if qr:
        typer.echo(terminal_qr(url))
    typer.echo(url)


@cart_link_app.command("show")
def cart_link_show(
    url: str = typer.Argument(..., help="The cart link."),
    as_json: bool = JsonOption,
) -> None:
    """Verify a cart link (signature, expiry, not yet paid) and show its cart."""
    from pos.services.cart_links import check_cart_link, link_json
    from pos.services.operators import cli_actor

    rt = load_runtime()
    link = check_cart_link(rt, cli_actor(rt), url)
    data = link_json(link, None, rt)
    if as_json:
        print_json(data)
        return
    typer.echo(f"Cart link {link.id}, valid until {data['expires_at']}:")
    for line in link.lines:
        typer.echo(f"  {line.quantity} x {line.article}")
    if link.customer_name or link.customer_email:
        typer.echo(f"  for {link.customer_name or ''} <{link.customer_email or ''}>")
    if link.promo:
        typer.echo(f"  promo {link.promo}")


def terminal_qr(url: str) -> str:
    """The link as a QR code drawn with text characters, to scan it off the screen."""
    import io

    import qrcode

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(url)
    code.make(fit=True)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()
