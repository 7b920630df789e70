"""`pos article add|list|set-availability`."""

from __future__ import annotations

# Services are imported inside each command, not at the top: a one-shot command loads only what it runs.
import typer

from pos.commands.common import JsonOption, article_app, fail, load_runtime, parse_or_fail, print_json


@article_app.command("add")
def add(
    name: str = typer.Argument(..., help="Article name, unique. For an event, put the date in the name."),
    price: str = typer.Option(..., "--price", help="Gross price, e.g. 49.90."),
    vat: str = typer.Option("19", "--vat", help="VAT rate in percent."),
    group: str | None = typer.Option(
        None, "--group", help="Article group (for reports); default: General, in the venue language."
    ),
    shop_group: str | None = typer.Option(
        None,
        "--shop-group",
        help="Group on the sale screen (a new one gets the next F-key); default: Events for tickets, "
        "else General, in the venue language.",
    ),
    assortment: str = typer.Option("default", "--assortment", help="Which terminals/price lists show it."),
    ticket: bool = typer.Option(False, "--ticket", help="Issues one ticket per unit sold."),
    hidden: bool = typer.Option(False, "--hidden", help="Only sold after an unlock code."),
    available: str | None = typer.Option(None, "--available", help="Units available (default unlimited)."),
    valid_from: str | None = typer.Option(None, "--valid-from", help="Start of validity (ISO 8601)."),
    valid_until: str | None = typer.Option(None, "--valid-until", help="End of validity (ISO 8601)."),
    event_date: str | None = typer.Option(None, "--event-date", help="Event date; valid that business day."),
    repeat: str = typer.Option("none", "--repeat", help="none | anytime | daily | same-day."),
    repeat_limit: str | None = typer.Option(
        None, "--repeat-limit", help="Re-entries after the first: N or unlimited."
    ),
    ean: str | None = typer.Option(None, "--ean", help="Barcode on the article, for the scanner."),
    as_json: bool = JsonOption,
) -> None:
    """Add an article (a ticket category, a drink, merchandise)."""
    from pos.domain.clock import parse_date, parse_time
    from pos.domain.money import parse_amount, parse_rate
    from pos.domain.repeat import parse_repeat
    from pos.domain.values import parse_count
    from pos.services.articles import NewArticle, add_article
    from pos.services.operators import cli_actor

    rt = load_runtime()
    zone = rt.config.venue.zone
    price_cents = parse_or_fail(parse_amount, price, "--price")
    vat_bp = parse_or_fail(parse_rate, vat, "--vat")
    start = parse_or_fail(lambda t: parse_time(t, zone), valid_from, "--valid-from") if valid_from else None
    end = parse_or_fail(lambda t: parse_time(t, zone), valid_until, "--valid-until") if valid_until else None
    day = parse_or_fail(parse_date, event_date, "--event-date") if event_date else None
    stock_limit = (
        parse_or_fail(lambda t: parse_count(t, "--available"), available, "--available")
        if available is not None
        else None
    )
    if repeat_limit is not None and repeat == "none":
        fail("--repeat-limit needs a --repeat type (anytime, daily or same-day).")
    kind, limit = parse_or_fail(lambda r: parse_repeat(r, repeat_limit), repeat, "--repeat")
    new = NewArticle(
        name=name,
        price_cents=price_cents,
        vat_bp=vat_bp,
        group=group,
        shop_group=shop_group,
        assortment=assortment,
        is_ticket=ticket,
        hidden=hidden,
        stock_limit=stock_limit,
        valid_from=start,
        valid_until=end,
        event_date=day,
        repeat=kind,
        repeat_limit=limit,
        ean=ean,
    )
    article = add_article(rt, cli_actor(rt), new)
    if as_json:
        print_json(article.json(zone))
    else:
        typer.echo(f"Added article #{article.id} {article.name}.")


@article_app.command("list")
def list_(
    as_json: bool = JsonOption,
) -> None:
    """List all articles with price and availability (hidden ones included, marked)."""
    from pos.services.articles import list_articles
    from pos.services.operators import cli_actor

    rt = load_runtime()
    zone = rt.config.venue.zone
    rows = [a.json(zone) for a in list_articles(rt, cli_actor(rt))]
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    from pos.domain.money import format_plain

    table = Table("#", "Name", "Price", "VAT", "Shop group", "Group", "Available", "Flags")
    for row in rows:
        flags = " ".join(f for f, on in (("ticket", row["ticket"]), ("hidden", row["hidden"])) if on)
        left = (
            "unlimited"
            if row["available"] is None
            else ("sold out" if row["sold_out"] else str(row["available"]))
        )
        table.add_row(
            str(row["id"]),
            row["name"],
            format_plain(row["price_cents"]),
            f"{row['vat']} %",
            row["shop_group"],
            row["group"],
            left,
            flags,
        )
    Console().print(table)


@article_app.command("set-availability")
def set_availability_(
    article: str = typer.Argument(..., help="Exact name or #ID."),
    limit: str = typer.Argument(..., help="Units available in all (sold included), or 'unlimited'."),
    as_json: bool = JsonOption,
) -> None:
    """Change how many units of an article can be sold in all; takes effect at once on every terminal."""
    from pos.domain.values import parse_limit
    from pos.services.articles import set_availability
    from pos.services.operators import cli_actor

    stock_limit = parse_or_fail(lambda t: parse_limit(t, "availability"), limit, "Availability")
    rt = load_runtime()
    updated = set_availability(rt, cli_actor(rt), article, stock_limit)
    if as_json:
        print_json(updated.json(rt.config.venue.zone))
    else:
        shown = "unlimited" if stock_limit is None else str(stock_limit)
        typer.echo(f"Availability of {updated.name} set to {shown}.")


@article_app.command("groups")
def groups(as_json: bool = JsonOption) -> None:
    """List the shop groups in the order of their F-keys on the sale screen."""
    from pos.services.articles import list_shop_groups
    from pos.services.operators import cli_actor

    rt = load_runtime()
    _print_groups(list_shop_groups(rt, cli_actor(rt)), as_json)


@article_app.command("group-position")
def group_position(
    name: str = typer.Argument(..., help="The shop group, exactly as named."),
    position: int = typer.Argument(..., min=1, help="Its place on the sale screen: 1 is F1."),
    as_json: bool = JsonOption,
) -> None:
    """Move a shop group to another F-key; the groups from there on move one place down."""
    from pos.services.articles import set_shop_group_position
    from pos.services.operators import cli_actor

    rt = load_runtime()
    _print_groups(set_shop_group_position(rt, cli_actor(rt), name, position), as_json)


def _print_groups(rows: list, as_json: bool) -> None:  # type: ignore[type-arg]
    if as_json:
        print_json([{"name": g.name, "position": g.position, "articles": g.articles} for g in rows])
        return
    for index, group in enumerate(rows, start=1):
        typer.echo(f"{index:>2}  {group.name}  ({group.articles} articles)")
