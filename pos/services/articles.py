"""Articles: add one, list them, change availability; the catalog the sale screen shows, its shop groups and
the assortments a terminal sells."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from pos.db import audit
from pos.db.articles import ensure_shop_group, find_article
from pos.db.engine import transaction
from pos.db.models import Article, ShopGroup
from pos.domain.roles import Role
from pos.errors import NotFound, Refused
from pos.i18n import venue_language
from pos.runtime import Runtime
from pos.services.base import Actor, require
from pos.services.views import ArticleView
from pos.wording import default_group, default_shop_group

_VIEW_FIELDS = tuple(f.name for f in fields(ArticleView))


def view(article: Article) -> ArticleView:
    return ArticleView(**{name: getattr(article, name) for name in _VIEW_FIELDS})


@dataclass(frozen=True)
class NewArticle:
    name: str
    price_cents: int
    vat_bp: int = 1900
    group: str | None = None  # None: a default group named in the venue language
    shop_group: str | None = None  # None: the default shop group (tickets or other articles), venue language
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
    lang = venue_language(rt.config.venue)
    group = (new.group or "").strip() or default_group(lang)
    shop_group = (new.shop_group or "").strip() or default_shop_group(lang, is_ticket=new.is_ticket)
    article = Article(**{**new.__dict__, "name": name, "group": group, "shop_group": shop_group})
    try:
        with transaction(rt.engine) as session:
            ensure_shop_group(session, shop_group)
            session.add(article)
            session.flush()
            audit.record(
                session, rt, "article.add", f"article #{article.id}", after={"name": name}, by=actor.name
            )
            return view(article)
    except IntegrityError:
        raise Refused("An article named {name!r} (or with that EAN) already exists.", name=name) from None


# A shop group that is not registered (an article written by an older version) sorts after the others.
_UNREGISTERED = 2**31 - 1


def list_articles(
    rt: Runtime, actor: Actor, *, include_hidden: bool = True, this_terminal: bool = False
) -> list[ArticleView]:
    """Every article in sale-screen order (shop group position, position in the group), in one query.

    `this_terminal`: only the assortments `[terminal] assortments` names (the sale screen's catalog).
    """
    require(actor, Role.CASHIER, "list articles")
    with transaction(rt.engine) as session:
        query = (
            select(Article)
            .outerjoin(ShopGroup, col(ShopGroup.name) == col(Article.shop_group))
            .order_by(
                func.coalesce(col(ShopGroup.position), _UNREGISTERED),
                col(Article.shop_group),
                col(Article.position),
                col(Article.id),
            )
        )
        if not include_hidden:
            query = query.where(col(Article.hidden).is_(False))
        assortments = rt.config.terminal.assortments
        if this_terminal and assortments:
            query = query.where(col(Article.assortment).in_(assortments))
        return [view(article) for article in session.exec(query)]


def check_sold_here(rt: Runtime, name: str, assortment: str) -> None:
    """Refuse an article whose assortment this terminal does not sell (`[terminal] assortments`)."""
    if not rt.config.terminal.sells(assortment):
        raise Refused(
            "{name} is not sold at this terminal (assortment {assortment}).", name=name, assortment=assortment
        )


def article_by_code(rt: Runtime, actor: Actor, code: str) -> ArticleView | None:
    """The article whose barcode (EAN) was scanned, read from the database (so a new article scans at once);
    None for a code no article has. An article of an assortment this terminal does not sell is refused."""
    require(actor, Role.CASHIER, "sell")
    with transaction(rt.engine) as session:
        article = session.exec(select(Article).where(col(Article.ean) == code.strip())).first()
        if article is None:
            return None
        check_sold_here(rt, article.name, article.assortment)
        return view(article)


@dataclass(frozen=True)
class ShopGroupView:
    name: str
    position: int
    articles: int


def list_shop_groups(rt: Runtime, actor: Actor) -> list[ShopGroupView]:
    """The shop groups in F-key order, with how many articles each holds."""
    require(actor, Role.CASHIER, "list articles")
    with transaction(rt.engine) as session:
        counts: dict[str, int] = dict(
            session.execute(select(Article.shop_group, func.count()).group_by(col(Article.shop_group))).all()
        )
        groups = session.exec(select(ShopGroup).order_by(col(ShopGroup.position), col(ShopGroup.name))).all()
    views = [ShopGroupView(g.name, g.position, counts.pop(g.name, 0)) for g in groups]
    last = views[-1].position if views else 0
    # Groups of articles written before groups had positions come last, by name.
    views += [ShopGroupView(name, last + i, n) for i, (name, n) in enumerate(sorted(counts.items()), start=1)]
    return views


def set_shop_group_position(rt: Runtime, actor: Actor, name: str, position: int) -> list[ShopGroupView]:
    """Move a shop group to `position` (1 = F1); the groups from there on move one place down."""
    require(actor, Role.ADMIN, "order shop groups")
    if position < 1:
        raise Refused("A position is 1 or more (1 is F1).")
    with transaction(rt.engine) as session:
        for (existing,) in session.execute(select(Article.shop_group).distinct()).all():
            ensure_shop_group(session, existing)
        groups = list(session.exec(select(ShopGroup).order_by(col(ShopGroup.position), col(ShopGroup.name))))
        moved = next((group for group in groups if group.name == name.strip()), None)
        if moved is None:
            raise NotFound("Shop group {name!r} does not exist.", name=name.strip())
        before = [group.name for group in groups]
        groups.remove(moved)
        groups.insert(min(position, len(groups) + 1) - 1, moved)
        for index, group in enumerate(groups, start=1):
            group.position = index
            session.add(group)
        audit.record(
            session,
            rt,
            "shop_group.position",
            f"shop group {moved.name}",
            before={"order": before},
            after={"order": [group.name for group in groups]},
            by=actor.name,
        )
    return list_shop_groups(rt, actor)


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
