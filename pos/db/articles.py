"""Finding an article as the user names it: an exact name or `#ID`."""

from __future__ import annotations

from sqlmodel import Session, select

from pos.db.models import Article
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
