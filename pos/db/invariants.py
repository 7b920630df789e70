"""The promises to a venue, checked in SQL: no seat sold twice, no ticket admitted too often, no sale half-written.

Used by `pos db check`, the crash-safety tests and the multi-terminal load benchmark. Each check returns the
offending rows (empty = the invariant holds).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

CHECKS: dict[str, str] = {
    # availability: never more sold than the limit
    "oversold_articles": """
        SELECT id, sold, stock_limit FROM article WHERE stock_limit IS NOT NULL AND sold > stock_limit
    """,
    # the sold counter agrees with the lines of orders that stand
    "sold_counter_mismatch": """
        SELECT a.id, a.sold, COALESCE(s.units, 0) AS units FROM article a
        LEFT JOIN (SELECT l.article_id, SUM(l.quantity) AS units FROM order_line l
                   JOIN orders o ON o.id = l.order_id WHERE o.status = 'paid' GROUP BY l.article_id) s
          ON s.article_id = a.id
        WHERE a.sold <> COALESCE(s.units, 0)
    """,
    # every ticket line of a paid order has exactly one valid ticket with a code; cancelled orders none valid
    "ticket_line_mismatch": """
        SELECT l.id, o.status, COUNT(t.id) AS tickets, SUM(CASE WHEN t.voided THEN 0 ELSE 1 END) AS valid
        FROM order_line l JOIN orders o ON o.id = l.order_id JOIN article a ON a.id = l.article_id
        LEFT JOIN ticket t ON t.order_line_id = l.id
        WHERE a.is_ticket
        GROUP BY l.id, o.status
        HAVING COUNT(t.id) <> 1
            OR (o.status = 'paid' AND SUM(CASE WHEN t.voided THEN 0 ELSE 1 END) <> 1)
            OR (o.status = 'cancelled' AND SUM(CASE WHEN t.voided THEN 0 ELSE 1 END) <> 0)
    """,
    "tickets_without_code": "SELECT id FROM ticket WHERE code IS NULL",
    "orders_without_lines": """
        SELECT o.id FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_line l WHERE l.order_id = o.id)
    """,
    # money: the order total is the sum of its lines, and the payment covers it exactly
    "order_total_mismatch": """
        SELECT o.id, o.total_cents, SUM(l.total_cents) AS lines FROM orders o
        JOIN order_line l ON l.order_id = o.id GROUP BY o.id, o.total_cents
        HAVING o.total_cents <> SUM(l.total_cents)
    """,
    "payment_mismatch": """
        SELECT id, payment_method, total_cents, given_cents, change_cents FROM orders
        WHERE (payment_method = 'free' AND total_cents <> 0)
           OR (payment_method <> 'free' AND given_cents - change_cents <> total_cents)
           OR change_cents < 0
    """,
    # door: accepted entries never exceed what the ticket allows, one first validation at most (an entry a
    # gate admitted offline against the rules is a listed door conflict, left to an admin, not counted here)
    "over_admitted_tickets": """
        SELECT t.id, t.repeat, t.repeat_limit, COUNT(e.id) AS entries FROM ticket t
        JOIN entry e ON e.ticket_id = t.id
        WHERE NOT EXISTS (SELECT 1 FROM door_conflict c WHERE c.entry_id = e.id AND c.status <> 'credited')
        GROUP BY t.id, t.repeat, t.repeat_limit
        HAVING (t.repeat = 'none' AND COUNT(e.id) > 1)
            OR (t.repeat <> 'none' AND t.repeat_limit IS NOT NULL AND COUNT(e.id) > t.repeat_limit + 1)
            OR SUM(CASE WHEN e."first" THEN 1 ELSE 0 END) > 1
    """,
    "first_validation_mismatch": """
        SELECT t.id FROM ticket t
        WHERE (t.first_redeemed_at IS NULL) <> NOT EXISTS (SELECT 1 FROM entry e WHERE e.ticket_id = t.id)
    """,
    # promo codes: never more uses than allowed, and the counter agrees with the uses that stand
    "promo_overused": "SELECT id, code, used, uses FROM promo_code WHERE used > uses OR used < 0",
    "promo_counter_mismatch": """
        SELECT p.id, p.code, p.used, COALESCE(u.n, 0) AS uses_recorded FROM promo_code p
        LEFT JOIN (SELECT promo_code_id, COUNT(*) AS n FROM promo_use WHERE NOT returned GROUP BY promo_code_id) u
          ON u.promo_code_id = p.id
        WHERE p.used <> COALESCE(u.n, 0)
    """,
}


def check(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Run every check in one read transaction; returns the violations per check."""
    results: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for name, sql in CHECKS.items():
            rows = connection.execute(text(sql)).mappings().all()
            results[name] = [dict(row) for row in rows[:20]]
    return results


def violations(results: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {name: rows for name, rows in results.items() if rows}
