"""Finding an article as the user names it (an exact name or `#ID`), and the shop groups articles go in."""

from __future__ import annotations

from sqlmodel import Session, func, select

from pos.db.models import Article, ShopGroup
from pos.domain.values import MAX_ID, ascii_whole
from pos.errors import NotFound


def find_article(session: Session, ref: str) -> Article:
    ref = ref.strip()
    number = ascii_whole(ref[1:]) if ref.startswith("#") else None
    if number is not None:  # `#12`: ASCII digits only, so `#²` or `#١٢` is a name, not article 12
        article = session.get(Article, number) if 1 <= number <= MAX_ID else None
    else:
        article = session.exec(select(Article).where(Article.name == ref)).first()
    if article is None:
        raise NotFound("Article {ref!r} does not exist.", ref=ref)
    return article


def ensure_shop_group(session: Session, name: str) -> ShopGroup:
    """The shop group called `name`; a new one goes after every existing group (no F-key moves)."""
    group = session.exec(select(ShopGroup).where(ShopGroup.name == name)).first()
    if group is not None:
        return group
    last = session.exec(select(func.max(ShopGroup.position))).one()
    group = ShopGroup(name=name, position=(last or 0) + 1)
    session.add(group)
    session.flush()
    return group
