"""Promo codes in the database: read the entered ones, count uses atomically, insert and list codes.

consume and return_line_uses run inside the caller's sale or return transaction, so a use lost to another
terminal rolls the whole sale back. The rules (stages, validity, the allocation) are in pos/domain/promo.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from pos.db.models import Article, PromoAppliesTo, PromoCode, PromoUnlock, PromoUse
from pos.domain.clock import iso_local
from pos.domain.money import rate_number
from pos.domain.promo import Allocation, PromoRule, StoredCode
from pos.errors import Refused

# No look-alikes: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_CODE_LENGTH = 64


# --- the sale side: read entered codes, consume and return uses -------------------------------------


def stored_codes(session: Session, codes: Iterable[str]) -> dict[str, StoredCode]:
    """The entered codes that exist, with what they unlock and what they apply to."""
    wanted = list(codes)
    if not wanted:
        return {}
    rows = {p.code: p for p in session.exec(select(PromoCode).where(col(PromoCode.code).in_(wanted)))}
    ids = [p.id for p in rows.values() if p.id is not None]
    unlocked = _article_sets(session, PromoUnlock, ids)
    applies = _article_sets(session, PromoAppliesTo, ids)
    return {
        code: StoredCode(
            code=promo.code,
            amount_cents=promo.amount_cents,
            percent_bp=promo.percent_bp,
            uses=promo.uses,
            used=promo.used,
            valid_from=promo.valid_from,
            valid_until=promo.valid_until,
            unlocks=frozenset(unlocked.get(promo.id or 0, ())),
            applies_to=frozenset(applies[promo.id]) if promo.id in applies else None,
        )
        for code, promo in rows.items()
    }


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
            raise Refused("Promo code {code} has no use left for this order (used up meanwhile).", code=code)
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


def return_line_uses(session: Session, line_ids: Sequence[int | None]) -> None:
    """A return gives back the uses its tickets carried, each once, even if two returns race."""
    ids = [line_id for line_id in line_ids if line_id is not None]
    if not ids:
        return
    uses = session.exec(
        select(PromoUse).where(col(PromoUse.order_line_id).in_(ids), col(PromoUse.returned).is_(False))
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


def _article_sets(session: Session, table: Any, ids: list[int]) -> dict[int, set[int]]:
    sets: dict[int, set[int]] = {}
    if ids:
        for row in session.exec(select(table).where(col(table.promo_code_id).in_(ids))):
            sets.setdefault(row.promo_code_id, set()).add(row.article_id)
    return sets


# --- reading and inserting codes ------------------------------------------------------------------------


def promos_json(session: Session, promos: Sequence[PromoCode], zone: ZoneInfo) -> list[dict[str, Any]]:
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
class CodeSpec:
    """A validated code definition, shared by add and generate."""

    amount_cents: int | None
    percent_bp: int | None
    unlocks: list[int]
    applies_to: list[int]
    uses: int
    valid_from: datetime | None
    valid_until: datetime | None


def insert_code(session: Session, code: str, spec: CodeSpec, *, batch: str | None) -> PromoCode:
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


def random_code(prefix: str) -> str:
    groups = ["".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(2)]
    return "-".join([prefix, *groups] if prefix else groups)
