"""Promo codes in the database: create and list them, check entered codes, count uses atomically.

load_rules, consume and return_uses run inside the caller's sale or cancel transaction, so a refused code
or a use lost to another terminal rolls the whole sale back.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pos.db import audit
from pos.db.articles import find_article
from pos.db.engine import transaction
from pos.db.models import Article, PromoAppliesTo, PromoCode, PromoUnlock, PromoUse
from pos.domain.clock import iso_local
from pos.domain.money import rate_number
from pos.domain.promo import Allocation, PromoRule
from pos.errors import Refused
from pos.runtime import Runtime

# No look-alikes: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_CODE_LENGTH = 64


def normalise_code(text: str) -> str:
    return text.strip().upper()


# --- the sale side: check entered codes, consume and return uses -------------------------------------


def load_rules(
    session: Session,
    rt: Runtime,
    *,
    unlock_codes: Iterable[str] = (),
    promo_codes: Iterable[str] = (),
    link_promo: str | None = None,
) -> list[PromoRule]:
    """The entered codes as rules for the allocation; any code that cannot be used refuses the sale.

    Stages: unlock codes come at the start and may not be pure reductions; promo codes come at payment
    and may be anything; a direct-link code may reduce at the start but then the order takes no other code.
    """
    link = normalise_code(link_promo) if link_promo else None
    unlocks = _unique(normalise_code(c) for c in unlock_codes)
    promos = _unique(normalise_code(c) for c in promo_codes)
    if link:
        others = [c for c in (*unlocks, *promos) if c != link]
        if others:
            raise Refused(
                f"Code {others[0]} cannot be added: an order from a promo direct link ({link}) "
                "takes no other code."
            )
    entered = _unique([*([link] if link else []), *unlocks, *promos])
    if not entered:
        return []
    rows = {p.code: p for p in session.exec(select(PromoCode).where(col(PromoCode.code).in_(entered)))}
    ids = [p.id for p in rows.values() if p.id is not None]
    unlocked = _article_sets(session, PromoUnlock, ids)
    applies = _article_sets(session, PromoAppliesTo, ids)
    rules = []
    for code in entered:
        promo = rows.get(code)
        if promo is None or promo.id is None:
            raise Refused(f"Promo code {code} does not exist.")
        _check_usable(promo, rt)
        rule = PromoRule(
            code=promo.code,
            amount_cents=promo.amount_cents,
            percent_bp=promo.percent_bp,
            uses_left=promo.uses - promo.used,
            unlocks=frozenset(unlocked.get(promo.id, ())),
            applies_to=frozenset(applies[promo.id]) if promo.id in applies else None,
        )
        if code in unlocks and code not in promos and code != link and not rule.unlocks:
            raise Refused(f"Code {code} reduces prices; enter it at payment (--promo).")
        rules.append(rule)
    return rules


def consume(
    session: Session,
    allocation: Allocation,
    rules: Sequence[PromoRule],
    order_id: int,
    line_ids: Sequence[int | None],
) -> None:
    """Count the uses of the allocation and record one PromoUse per use (a ticket can take two codes).

    Compare-and-set per code in the database, so two terminals can never together use a code more often
    than it allows; the loser gets Refused and its transaction rolls back.
    """
    if len(line_ids) != len(allocation.codes):
        raise ValueError("consume needs one order line id per allocated ticket slot")
    known = {rule.code for rule in rules}
    codes = sorted(allocation.uses)  # a fixed order: two sales locking the same codes cannot deadlock
    missing = [c for c in codes if c not in known]
    if missing:
        raise ValueError(f"allocation uses {missing[0]}, which is not among the rules")
    if not codes:
        return
    ids = {p.code: p.id for p in session.exec(select(PromoCode).where(col(PromoCode.code).in_(codes)))}
    for code in codes:
        count = allocation.uses[code]
        result = session.execute(
            update(PromoCode)
            .where(col(PromoCode.id) == ids.get(code), col(PromoCode.used) + count <= col(PromoCode.uses))
            .values(used=col(PromoCode.used) + count)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Refused(f"Promo code {code} has no use left for this order (used up meanwhile).")
    for code, line_id, discount in _uses_per_ticket(allocation, line_ids):
        promo_id = ids[code]
        assert promo_id is not None
        session.add(
            PromoUse(
                promo_code_id=promo_id, order_id=order_id, order_line_id=line_id, discount_cents=discount
            )
        )
    session.flush()


def _uses_per_ticket(
    allocation: Allocation, line_ids: Sequence[int | None]
) -> list[tuple[str, int | None, int]]:
    """(code, line, discount) per use: a code that unlocks and reduces a ticket is one use; an unlock by
    one code and a reduction by another are two, the unlock with discount 0."""
    uses = []
    for unlocker, reducer, line_id, discount in zip(
        allocation.unlock_codes, allocation.reduction_codes, line_ids, allocation.discounts, strict=True
    ):
        if reducer is not None:
            uses.append((reducer, line_id, discount))
        if unlocker is not None and unlocker != reducer:
            uses.append((unlocker, line_id, 0))
    return uses


def return_uses(session: Session, order_id: int) -> None:
    """On cancel: each use of the order is returned once, even if two cancels race."""
    uses = session.exec(
        select(PromoUse).where(PromoUse.order_id == order_id, col(PromoUse.returned).is_(False))
    ).all()
    for use in uses:
        marked = session.execute(
            update(PromoUse)
            .where(col(PromoUse.id) == use.id, col(PromoUse.returned).is_(False))
            .values(returned=True)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.execute(
            update(PromoCode)
            .where(col(PromoCode.id) == use.promo_code_id, col(PromoCode.used) > 0)
            .values(used=col(PromoCode.used) - 1)
            .execution_options(synchronize_session=False)
        )
    session.expire_all()


def _unique(codes: Iterable[str]) -> list[str]:
    """Entered twice is the same as once; empty entries are ignored; first-entry order is kept."""
    return list(dict.fromkeys(c for c in codes if c))


def _article_sets(session: Session, table: Any, ids: list[int]) -> dict[int, set[int]]:
    sets: dict[int, set[int]] = {}
    if ids:
        for row in session.exec(select(table).where(col(table.promo_code_id).in_(ids))):
            sets.setdefault(row.promo_code_id, set()).add(row.article_id)
    return sets


def _check_usable(promo: PromoCode, rt: Runtime) -> None:
    now = rt.now()
    zone = rt.config.venue.zone
    if promo.valid_from is not None and now < promo.valid_from:
        raise Refused(f"Promo code {promo.code} is not valid before {_shown(promo.valid_from, zone)}.")
    if promo.valid_until is not None and now >= promo.valid_until:
        raise Refused(f"Promo code {promo.code} expired on {_shown(promo.valid_until, zone)}.")
    if promo.used >= promo.uses:
        raise Refused(f"Promo code {promo.code} is used up.")


def _shown(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


# --- the admin side: add, generate, list ---------------------------------------------------------------


def add_promo(
    rt: Runtime,
    code: str,
    *,
    amount_cents: int | None = None,
    percent_bp: int | None = None,
    unlocks: Sequence[str] = (),
    applies_to: Sequence[str] = (),
    uses: int = 1,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """Add one code; returns its JSON."""
    code = _checked_code(code)
    with transaction(rt.engine) as session:
        spec = _spec(session, amount_cents, percent_bp, unlocks, applies_to, uses, valid_from, valid_until)
        if session.exec(select(PromoCode.id).where(PromoCode.code == code)).first() is not None:
            raise Refused(f"Promo code {code} already exists.")
        try:
            promo = _insert(session, code, spec, batch=None)
        except IntegrityError:
            raise Refused(f"Promo code {code} already exists.") from None
        audit.record(session, rt, "promo.add", f"promo #{promo.id}", after={"code": code})
        return promo_json(session, promo, rt.config.venue.zone)


def generate_promos(
    rt: Runtime,
    count: int,
    *,
    prefix: str = "",
    amount_cents: int | None = None,
    percent_bp: int | None = None,
    unlocks: Sequence[str] = (),
    applies_to: Sequence[str] = (),
    uses: int = 1,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> list[dict[str, Any]]:
    """A batch of unguessable codes PREFIX-XXXX-XXXX, unique, inserted in one transaction."""
    if not 1 <= count <= 100_000:
        raise Refused("--count must be between 1 and 100000.")
    prefix = normalise_code(prefix).rstrip("-")
    if prefix:
        _checked_code(prefix)
    with transaction(rt.engine) as session:
        spec = _spec(session, amount_cents, percent_bp, unlocks, applies_to, uses, valid_from, valid_until)
        codes: set[str] = set()
        while len(codes) < count:
            fresh = {_random_code(prefix) for _ in range(count - len(codes))} - codes
            taken = set(session.exec(select(PromoCode.code).where(col(PromoCode.code).in_(fresh))))
            codes |= fresh - taken
        promos = [_insert(session, code, spec, batch=prefix or None) for code in sorted(codes)]
        audit.record(
            session, rt, "promo.generate", f"batch {prefix or '-'}", after={"count": count, "prefix": prefix}
        )
        zone = rt.config.venue.zone
        return [promo_json(session, promo, zone) for promo in promos]


def list_promos(rt: Runtime) -> list[dict[str, Any]]:
    with transaction(rt.engine) as session:
        promos = session.exec(select(PromoCode).order_by(col(PromoCode.code))).all()
        return _promos_json(session, promos, rt.config.venue.zone)


def promo_json(session: Session, promo: PromoCode, zone: ZoneInfo) -> dict[str, Any]:
    return _promos_json(session, [promo], zone)[0]


def _promos_json(session: Session, promos: Sequence[PromoCode], zone: ZoneInfo) -> list[dict[str, Any]]:
    ids = [p.id for p in promos if p.id is not None]
    unlocks = _article_names(session, PromoUnlock, ids)
    applies = _article_names(session, PromoAppliesTo, ids)
    return [
        {
            "id": p.id,
            "code": p.code,
            "amount_cents": p.amount_cents,
            "percent": None if p.percent_bp is None else rate_number(p.percent_bp),
            "unlocks": unlocks.get(p.id or 0, []),
            "applies_to": applies.get(p.id or 0, []),
            "uses": p.uses,
            "used": p.used,
            "left": max(p.uses - p.used, 0),
            "valid_from": iso_local(p.valid_from, zone),
            "valid_until": iso_local(p.valid_until, zone),
        }
        for p in promos
    ]


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
        spec = _Spec(amount_cents, percent_bp, unlock_ids, [], uses, None, None)
        _insert(session, code, spec, batch="demo")
        created.append(code)
    return created


def _article_names(session: Session, table: Any, ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for start in range(0, len(ids), 500):  # stay below the bound-parameter limits
        chunk = ids[start : start + 500]
        rows = session.exec(
            select(table.promo_code_id, Article.name)
            .join(Article, col(Article.id) == col(table.article_id))
            .where(col(table.promo_code_id).in_(chunk))
            .order_by(col(Article.name))
        )
        for promo_id, name in rows:
            names.setdefault(promo_id, []).append(name)
    return names


@dataclass(frozen=True)
class _Spec:
    """A validated code definition, shared by add and generate."""

    amount_cents: int | None
    percent_bp: int | None
    unlocks: list[int]
    applies_to: list[int]
    uses: int
    valid_from: datetime | None
    valid_until: datetime | None


def _spec(
    session: Session,
    amount_cents: int | None,
    percent_bp: int | None,
    unlocks: Sequence[str],
    applies_to: Sequence[str],
    uses: int,
    valid_from: datetime | None,
    valid_until: datetime | None,
) -> _Spec:
    if amount_cents is not None and percent_bp is not None:
        raise Refused(
            "A code reduces by a fixed amount or by a percentage, not both (--amount or --percent)."
        )
    if amount_cents is not None and amount_cents <= 0:
        raise Refused("--amount must be more than 0.")
    if percent_bp is not None and not 0 < percent_bp <= 10000:
        raise Refused("--percent must be more than 0 and at most 100.")
    if amount_cents is None and percent_bp is None and not unlocks:
        raise Refused("A code must do something: give --amount, --percent or --unlock.")
    if uses < 1:
        raise Refused("--uses must be 1 or more.")
    if valid_from and valid_until and valid_until <= valid_from:
        raise Refused("The validity window ends before it starts (--valid-until must be after --valid-from).")
    if applies_to and amount_cents is None and percent_bp is None:
        raise Refused("--applies-to limits a reduction; give --amount or --percent as well.")
    unlock_ids: list[int] = []
    for ref in unlocks:
        article = find_article(session, ref)
        if not article.hidden:
            raise Refused(f"Article {article.name} is not hidden, so there is nothing to unlock.")
        unlock_ids.append(_id(article))
    applies_ids: list[int] = []
    for ref in applies_to:
        article = find_article(session, ref)
        if not article.is_ticket:
            raise Refused(f"Article {article.name} is not a ticket; codes reduce ticket prices only.")
        applies_ids.append(_id(article))
    return _Spec(
        amount_cents=amount_cents,
        percent_bp=percent_bp,
        unlocks=sorted(set(unlock_ids)),
        applies_to=sorted(set(applies_ids)),
        uses=uses,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def _id(article: Article) -> int:
    assert article.id is not None
    return article.id


def _insert(session: Session, code: str, spec: _Spec, *, batch: str | None) -> PromoCode:
    promo = PromoCode(
        code=code,
        amount_cents=spec.amount_cents,
        percent_bp=spec.percent_bp,
        uses=spec.uses,
        valid_from=spec.valid_from,
        valid_until=spec.valid_until,
        batch=batch,
    )
    session.add(promo)
    session.flush()
    assert promo.id is not None
    for article_id in spec.unlocks:
        session.add(PromoUnlock(promo_code_id=promo.id, article_id=article_id))
    for article_id in spec.applies_to:
        session.add(PromoAppliesTo(promo_code_id=promo.id, article_id=article_id))
    return promo


def _checked_code(text: str) -> str:
    code = normalise_code(text)
    if not code or len(code) > MAX_CODE_LENGTH or any(ch.isspace() or not ch.isprintable() for ch in code):
        raise Refused(f"Promo code {text!r} must be 1 to {MAX_CODE_LENGTH} characters without spaces.")
    if code.startswith("#"):
        raise Refused(f"Promo code {code} must not start with '#'.")
    return code


def _random_code(prefix: str) -> str:
    groups = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(2)]
    return "-".join([prefix, *groups] if prefix else groups)
