"""Finding an article as the user names it: an exact name or `#ID`."""

from __future__ import annotations

from sqlmodel import Session, select

from pos.db.models import Article
from pos.errors import NotFound


def find_article(session: Session, ref: str) -> Article:
    ref = ref.strip()
    if ref.startswith("#") and ref[1:].isascii() and ref[1:].isdigit():
        article = session.get(Article, int(ref[1:]))
    else:
        article = session.exec(select(Article).where(Article.name == ref)).first()
    if article is None:
        raise NotFound("Article {ref!r} does not exist.", ref=ref)
    return article
