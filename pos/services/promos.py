"""Promo codes for the admin: add one, generate a batch, list them with their uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pos.db import audit
from pos.db.articles import find_article
from pos.db.engine import transaction
from pos.db.models import Article, PromoCode
from pos.db.promos import CodeSpec, insert_code, promos_json, random_code
from pos.domain.promo import MAX_BATCH, check_code_text, check_definition, normalise_code
from pos.domain.roles import Role
from pos.errors import Refused
from pos.runtime import Runtime
from pos.services.base import Actor, require
from pos.wording import PromoWording


@dataclass(frozen=True)
class PromoDefinition:
    """What a new code does; articles are named as the admin typed them (exact name or #ID)."""

    amount_cents: int | None = None
    percent_bp: int | None = None
    unlocks: Sequence[str] = ()
    applies_to: Sequence[str] = ()
    uses: int = 1
    valid_from: datetime | None = None
    valid_until: datetime | None = None


def add_promo(rt: Runtime, actor: Actor, code: str, definition: PromoDefinition) -> dict[str, Any]:
    """One code; returns its JSON (`pos promo add --json`)."""
    require(actor, Role.ADMIN, "add promo codes")
    code = check_code_text(code)
    with transaction(rt.engine) as session:
        spec = _spec(session, definition)
        if session.exec(select(PromoCode.id).where(PromoCode.code == code)).first() is not None:
            raise Refused("Promo code {code} already exists.", code=code)
        try:
            promo = insert_code(session, code, spec, batch=None)
        except IntegrityError:
            raise Refused("Promo code {code} already exists.", code=code) from None
        audit.record(session, rt, "promo.add", f"promo #{promo.id}", after={"code": code}, by=actor.name)
        return promos_json(session, [promo], rt.config.venue.zone)[0]


def generate_promos(
    rt: Runtime, actor: Actor, count: int, definition: PromoDefinition, *, prefix: str = ""
) -> list[dict[str, Any]]:
    """A batch of unguessable codes PREFIX-XXXX-XXXX, unique, inserted in one transaction."""
    require(actor, Role.ADMIN, "generate promo codes")
    if not 1 <= count <= MAX_BATCH:
        raise Refused("The number of codes must be between 1 and {n}.", n=MAX_BATCH)
    prefix = normalise_code(prefix).rstrip("-")
    if prefix:
        check_code_text(prefix)
    with transaction(rt.engine) as session:
        spec = _spec(session, definition)
        codes: set[str] = set()
        while len(codes) < count:
            fresh = {random_code(prefix) for _ in range(count - len(codes))} - codes
            taken = set(session.exec(select(PromoCode.code).where(col(PromoCode.code).in_(fresh))))
            codes |= fresh - taken
        promos = [insert_code(session, code, spec, batch=prefix or None) for code in sorted(codes)]
        audit.record(
            session,
            rt,
            "promo.generate",
            f"batch {prefix or '-'}",
            after={"count": count, "prefix": prefix},
            by=actor.name,
        )
        return promos_json(session, promos, rt.config.venue.zone)


def list_promos(rt: Runtime, actor: Actor) -> list[dict[str, Any]]:
    require(actor, Role.ADMIN, "list promo codes")
    with transaction(rt.engine) as session:
        promos = session.exec(select(PromoCode).order_by(col(PromoCode.code))).all()
        return promos_json(session, promos, rt.config.venue.zone)


@dataclass(frozen=True)
class Unlocked:
    """What an unlock code entered on the sale screen opened, and the code as `pos promo list --json` shows it."""

    articles: frozenset[int]
    promo: dict[str, Any]


def unlock(rt: Runtime, actor: Actor, codes: Sequence[str], link_promo: str | None = None) -> Unlocked:
    """Check the unlock codes of a cart (the last one just entered) and say what the new one does.

    A code that only reduces prices is refused with what it reduces, so the cashier knows to enter it at
    payment.
    """
    from pos.services.checkout import unlocked_articles

    require(actor, Role.CASHIER, "sell")
    code = normalise_code(codes[-1])
    with transaction(rt.engine) as session:
        promo = session.exec(select(PromoCode).where(PromoCode.code == code)).first()
        if promo is None:
            raise Refused("Promo code {code} does not exist.", code=code)
        described = promos_json(session, [promo], rt.config.venue.zone)[0]
    if not described["unlocks"]:
        raise Refused(
            "Code {code} ({does}) reduces prices; enter it at payment.",
            code=code,
            does=PromoWording(described),
        )
    return Unlocked(unlocked_articles(rt, actor, list(codes), link_promo), described)


def _spec(session: Session, definition: PromoDefinition) -> CodeSpec:
    check_definition(
        amount_cents=definition.amount_cents,
        percent_bp=definition.percent_bp,
        unlocks=bool(definition.unlocks),
        applies_to=bool(definition.applies_to),
        uses=definition.uses,
        valid_from=definition.valid_from,
        valid_until=definition.valid_until,
    )
    unlock_ids: list[int] = []
    for ref in definition.unlocks:
        article = find_article(session, ref)
        if not article.hidden:
            raise Refused("Article {name} is not hidden, so there is nothing to unlock.", name=article.name)
        unlock_ids.append(_id(article))
    applies_ids: list[int] = []
    for ref in definition.applies_to:
        article = find_article(session, ref)
        if not article.is_ticket:
            raise Refused(
                "Article {name} is not a ticket; codes reduce ticket prices only.", name=article.name
            )
        applies_ids.append(_id(article))
    return CodeSpec(
        amount_cents=definition.amount_cents,
        percent_bp=definition.percent_bp,
        unlocks=sorted(set(unlock_ids)),
        applies_to=sorted(set(applies_ids)),
        uses=definition.uses,
        valid_from=definition.valid_from,
        valid_until=definition.valid_until,
    )


DEMO_PROMOS = [
    # (code, amount_cents, percent_bp, unlocks, uses): the seed's rebooking pair, a VIP unlock, a discount
    ("VIP2027", None, None, ["Konzert VIP"], 20),
    ("SAVE10", None, 1000, [], 100),
    ("UMBUCHUNG50", 5000, None, [], 1),
    ("UMBUCHUNG20", 2000, None, [], 1),
]


def add_demo_promos(session: Session) -> list[str]:
    """The demo codes that are not there yet (inside the demo's transaction, after its articles)."""
    existing = set(session.exec(select(PromoCode.code)))
    created = []
    for code, amount_cents, percent_bp, unlocks, uses in DEMO_PROMOS:
        if code in existing:
            continue
        articles = [session.exec(select(Article).where(Article.name == name)).first() for name in unlocks]
        unlock_ids = [_id(article) for article in articles if article is not None]
        if unlocks and not unlock_ids:
            continue
        spec = CodeSpec(amount_cents, percent_bp, unlock_ids, [], uses, None, None)
        insert_code(session, code, spec, batch="demo")
        created.append(code)
    return created


def _id(article: Article) -> int:
    assert article.id is not None
    return article.id
