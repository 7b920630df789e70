"""Demo data: a small venue with every kind of article the box office handles."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import func, select

from pos.db.articles import ensure_shop_group
from pos.db.engine import transaction
from pos.db.models import Article
from pos.db.operators import add_demo_operators
from pos.domain.clock import parse_time
from pos.domain.roles import Role
from pos.runtime import Runtime
from pos.services.base import Actor, require
from pos.services.promos import add_demo_promos


def _at(text: str, rt: Runtime) -> datetime:
    return parse_time(text, rt.config.venue.zone)


def demo_articles(rt: Runtime) -> list[dict[str, Any]]:
    year = rt.now().astimezone(rt.config.venue.zone).year
    events = {"group": "Tickets", "shop_group": "Veranstaltungen", "is_ticket": True}
    cards = {"group": "Karten", "shop_group": "Karten", "is_ticket": True}
    drinks = {"group": "Getränke", "shop_group": "Getränke", "vat_bp": 1900}
    merch = {"group": "Merchandise", "shop_group": "Merchandise", "vat_bp": 1900}
    return [
        {
            "name": f"Silvester {year}/{year + 1} 31.12.{year}",
            "price_cents": 5900,
            "stock_limit": 300,
            "event_date": date(year, 12, 31),
            **events,
        },
        {
            "name": "Konzert Erwachsene",
            "price_cents": 5000,
            "stock_limit": 200,
            "event_date": date(year + 1, 1, 15),
            **events,
        },
        {
            "name": "Konzert Kind",
            "price_cents": 2000,
            "stock_limit": 100,
            "event_date": date(year + 1, 1, 15),
            **events,
        },
        {
            "name": "Konzert Frühbucher",
            "price_cents": 3900,
            "stock_limit": 0,
            "event_date": date(year + 1, 1, 15),
            **events,
        },
        {
            "name": "Konzert VIP",
            "price_cents": 12000,
            "stock_limit": 20,
            "hidden": True,
            "event_date": date(year + 1, 1, 15),
            **events,
        },
        {"name": "10er-Karte Sauna", "price_cents": 8000, "repeat": "anytime", "repeat_limit": 9, **cards},
        {
            "name": f"Saisonkarte {year + 1}",
            "price_cents": 19900,
            "repeat": "anytime",
            "valid_from": _at(f"{year + 1}-01-01T00:00", rt),
            "valid_until": _at(f"{year + 2}-01-01T00:00", rt),
            **cards,
        },
        {"name": "Tageskarte mit Wiedereinlass", "price_cents": 1500, "repeat": "same-day", **cards},
        {"name": "Wasser 0,5 l", "price_cents": 250, "ean": "4006381333931", **drinks},
        {"name": "Bier 0,5 l", "price_cents": 450, **drinks},
        {"name": "Cola 0,33 l", "price_cents": 300, **drinks},
        {"name": "T-Shirt Größe M", "price_cents": 2500, "stock_limit": 50, **merch},
        {"name": "Tasse", "price_cents": 1200, "stock_limit": 30, **merch},
    ]


def load_demo(rt: Runtime, actor: Actor, *, if_empty: bool = False) -> list[str]:
    """Insert the demo articles (and the demo operators while there are none) in one transaction; returns
    the article names (empty when skipped)."""
    require(actor, Role.ADMIN, "load demo data")
    with transaction(rt.engine) as session:
        add_demo_operators(session)
        existing = session.exec(select(func.count()).select_from(Article)).one()
        if existing and if_empty:
            return []
        names = set(session.exec(select(Article.name)))
        created = []
        for position, spec in enumerate(demo_articles(rt)):
            ensure_shop_group(session, spec["shop_group"])  # F1 the events, then cards, drinks, merchandise
            if spec["name"] in names:
                continue
            session.add(Article(position=position, **spec))
            created.append(spec["name"])
        session.flush()
        add_demo_promos(session)
        return created
