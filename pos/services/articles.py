"""Articles: add one, list them, change availability; the catalog the sale screen shows."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from pos.db import audit
from pos.db.articles import find_article
from pos.db.engine import transaction
from pos.db.models import Article
from pos.domain.availability import remaining
from pos.domain.clock import iso_local
from pos.domain.money import rate_number
from pos.domain.repeat import limit_json
from pos.domain.roles import Role
from pos.errors import Refused
from pos.runtime import Runtime
from pos.services.base import Actor, require


@dataclass(frozen=True)
class ArticleView:
    """An article as every face sees it (the table row's values, nothing attached to a session)."""

    id: int
    name: str
    price_cents: int
    vat_bp: int
    group: str
    shop_group: str
    assortment: str
    is_ticket: bool
    hidden: bool
    stock_limit: int | None
    sold: int
    valid_from: datetime | None
    valid_until: datetime | None
    event_date: date | None
    repeat: str
    repeat_limit: int | None
    ean: str | None
    position: int

    @property
    def remaining(self) -> int | None:
        return remaining(self.stock_limit, self.sold)

    @property
    def sold_out(self) -> bool:
        return self.remaining == 0

    def json(self, zone: ZoneInfo) -> dict[str, Any]:
        left = self.remaining
        return {
            "id": self.id,
            "name": self.name,
            "price_cents": self.price_cents,
            "vat": rate_number(self.vat_bp),
            "group": self.group,
            "shop_group": self.shop_group,
            "assortment": self.assortment,
            "ticket": self.is_ticket,
            "hidden": self.hidden,
            "limit": self.stock_limit,
            "available": left,
            "sold_out": left == 0,
            "valid_from": iso_local(self.valid_from, zone),
            "valid_until": iso_local(self.valid_until, zone),
            "event_date": self.event_date.isoformat() if self.event_date else None,
            "repeat": self.repeat,
            "repeat_limit": limit_json(self.repeat, self.repeat_limit),
        }


_VIEW_FIELDS = tuple(f.name for f in fields(ArticleView))


def view(article: Article) -> ArticleView:
    return ArticleView(**{name: getattr(article, name) for name in _VIEW_FIELDS})


@dataclass(frozen=True)
class NewArticle:
    name: str
    price_cents: int
    vat_bp: int = 1900
    group: str = "General"
    shop_group: str = "Events"
    assortment: str = "default"
    is_ticket: bool = False
    hidden: bool = False
    stock_limit: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    event_date: date | None = None
    repeat: str = "none"
    repeat_limit: int | None = None
    ean: str | None = None


def add_article(rt: Runtime, actor: Actor, new: NewArticle) -> ArticleView:
    require(actor, Role.ADMIN, "add articles")
    name = new.name.strip()
    if not name:
        raise Refused("An article needs a name.")
    if new.stock_limit is not None and new.stock_limit < 0:
        raise Refused("Availability must be 0 or more, or unlimited.")
    if new.valid_from and new.valid_until and new.valid_until <= new.valid_from:
        raise Refused("The validity window ends before it starts.")
    if not new.is_ticket and (new.valid_from or new.valid_until or new.event_date or new.repeat != "none"):
        raise Refused("Validity and repeat options are for ticket articles only.")
    article = Article(**{**new.__dict__, "name": name})
    try:
        with transaction(rt.engine) as session:
            session.add(article)
            session.flush()
            audit.record(
                session, rt, "article.add", f"article #{article.id}", after={"name": name}, by=actor.name
            )
            return view(article)
    except IntegrityError:
        raise Refused("An article named {name!r} (or with that EAN) already exists.", name=name) from None


def list_articles(rt: Runtime, actor: Actor, *, include_hidden: bool = True) -> list[ArticleView]:
    """Every article in sale-screen order (shop group, position), in one query."""
    require(actor, Role.CASHIER, "list articles")
    with transaction(rt.engine) as session:
        query = select(Article).order_by(col(Article.shop_group), col(Article.position), col(Article.id))
        if not include_hidden:
            query = query.where(col(Article.hidden).is_(False))
        return [view(article) for article in session.exec(query)]


def set_availability(rt: Runtime, actor: Actor, ref: str, stock_limit: int | None) -> ArticleView:
    """Change the limit at any time; a limit below what is sold leaves the article sold out."""
    require(actor, Role.ADMIN, "change availability")
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
            by=actor.name,
        )
        session.flush()
        session.refresh(article)
        return view(article)
