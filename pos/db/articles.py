"""Article master: create, list, look up by name or #ID, change availability."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pos.db import audit
from pos.db.engine import transaction
from pos.db.models import Article
from pos.domain.clock import iso_local
from pos.domain.money import rate_number
from pos.domain.repeat import limit_json
from pos.domain.values import MAX_ID, ascii_whole
from pos.errors import NotFound, Refused
from pos.runtime import Runtime


def find_article(session: Session, ref: str) -> Article:
    """ARTICLE is an exact name or `#ID`."""
    ref = ref.strip()
    number = ascii_whole(ref[1:]) if ref.startswith("#") else None
    if number is not None:  # `#12`: ASCII digits only, so `#²` or `#١٢` is a name, not article 12
        article = session.get(Article, number) if 1 <= number <= MAX_ID else None
    else:
        article = session.exec(select(Article).where(Article.name == ref)).first()
    if article is None:
        raise NotFound(f"Article {ref!r} does not exist.")
    return article


def add_article(
    rt: Runtime,
    *,
    name: str,
    price_cents: int,
    vat_bp: int = 1900,
    group: str = "General",
    shop_group: str = "Events",
    assortment: str = "default",
    is_ticket: bool = False,
    hidden: bool = False,
    stock_limit: int | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    event_date: date | None = None,
    repeat: str = "none",
    repeat_limit: int | None = None,
    ean: str | None = None,
) -> Article:
    name = name.strip()
    if not name:
        raise Refused("An article needs a name.")
    if stock_limit is not None and stock_limit < 0:
        raise Refused("Availability must be 0 or more, or unlimited.")
    if valid_from and valid_until and valid_until <= valid_from:
        raise Refused("The validity window ends before it starts (--valid-until must be after --valid-from).")
    if not is_ticket and (valid_from or valid_until or event_date or repeat != "none"):
        raise Refused("Validity and repeat options are for ticket articles; add --ticket.")
    article = Article(
        name=name,
        price_cents=price_cents,
        vat_bp=vat_bp,
        group=group,
        shop_group=shop_group,
        assortment=assortment,
        is_ticket=is_ticket,
        hidden=hidden,
        stock_limit=stock_limit,
        valid_from=valid_from,
        valid_until=valid_until,
        event_date=event_date,
        repeat=repeat,
        repeat_limit=repeat_limit,
        ean=ean,
    )
    try:
        with transaction(rt.engine) as session:
            session.add(article)
            session.flush()
            audit.record(session, rt, "article.add", f"article #{article.id}", after={"name": name})
    except IntegrityError:
        raise Refused(f"An article named {name!r} (or with that EAN) already exists.") from None
    return article


def list_articles(rt: Runtime, *, include_hidden: bool = True) -> list[Article]:
    with transaction(rt.engine) as session:
        query = select(Article).order_by(col(Article.shop_group), col(Article.position), col(Article.id))
        if not include_hidden:
            query = query.where(col(Article.hidden).is_(False))
        return list(session.exec(query))


def set_availability(rt: Runtime, ref: str, stock_limit: int | None) -> Article:
    """Change the limit at any time; a limit below what is sold leaves the article sold out."""
    if stock_limit is not None and stock_limit < 0:
        raise Refused("Availability must be 0 or more, or unlimited.")
    with transaction(rt.engine) as session:
        article = find_article(session, ref)
        before = article.stock_limit
        article.stock_limit = stock_limit
        session.add(article)
        audit.record(
            session,
            rt,
            "article.set_availability",
            f"article #{article.id}",
            before={"limit": before},
            after={"limit": stock_limit},
        )
        session.flush()
        session.refresh(article)
        return article


def remaining(article: Article) -> int | None:
    if article.stock_limit is None:
        return None
    return max(article.stock_limit - article.sold, 0)


def article_json(article: Article, zone: ZoneInfo) -> dict[str, Any]:
    left = remaining(article)
    return {
        "id": article.id,
        "name": article.name,
        "price_cents": article.price_cents,
        "vat": rate_number(article.vat_bp),
        "group": article.group,
        "shop_group": article.shop_group,
        "assortment": article.assortment,
        "ticket": article.is_ticket,
        "hidden": article.hidden,
        "limit": article.stock_limit,
        "available": left,
        "sold_out": left == 0,
        "valid_from": iso_local(article.valid_from, zone),
        "valid_until": iso_local(article.valid_until, zone),
        "event_date": article.event_date.isoformat() if article.event_date else None,
        "repeat": article.repeat,
        "repeat_limit": limit_json(article.repeat, article.repeat_limit),
    }
