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
    # (an admin may lower the limit below what is sold at any time: that leaves the article sold out, and is no
    # oversale as long as no sale came after the change)
    "oversold_articles": """
        SELECT a.id, a.sold, a.stock_limit FROM article a
        WHERE a.stock_limit IS NOT NULL AND a.sold > a.stock_limit AND NOT EXISTS (
            SELECT 1 FROM audit_log g
            WHERE g.action = 'article.set_availability' AND g.target = 'article #' || a.id
              AND g.at >= (SELECT COALESCE(MAX(o.created_at), g.at) FROM order_line l
                           JOIN orders o ON o.id = l.order_id WHERE l.article_id = a.id))
    """,
    # the sold counter agrees with the units not returned, plus admitted tickets returned on purpose (their
    # places were used, so they stay sold)
    "sold_counter_mismatch": """
        SELECT a.id, a.sold, COALESCE(s.units, 0) + COALESCE(k.kept, 0) AS units FROM article a
        LEFT JOIN (SELECT l.article_id, SUM(l.quantity - l.returned_quantity) AS units FROM order_line l
                   JOIN orders o ON o.id = l.order_id WHERE o.status <> 'training'
                   GROUP BY l.article_id) s ON s.article_id = a.id
        LEFT JOIN (SELECT t.article_id, COUNT(*) AS kept FROM ticket t
                   WHERE t.voided AND t.first_redeemed_at IS NOT NULL GROUP BY t.article_id) k ON k.article_id = a.id
        WHERE a.sold <> COALESCE(s.units, 0) + COALESCE(k.kept, 0)
    """,
    # admissions against availability: never more tickets of an article used at the door than it had places
    "over_admitted_articles": """
        SELECT a.id, a.stock_limit, COUNT(t.id) AS admitted FROM article a
        JOIN ticket t ON t.article_id = a.id AND t.first_redeemed_at IS NOT NULL
        WHERE a.stock_limit IS NOT NULL
        GROUP BY a.id, a.stock_limit HAVING COUNT(t.id) > a.stock_limit
    """,
    # every ticket line has exactly one ticket with a code, valid unless the line was returned
    "ticket_line_mismatch": """
        SELECT l.id, l.returned_quantity, COUNT(t.id) AS tickets, SUM(CASE WHEN t.voided THEN 0 ELSE 1 END) AS valid
        FROM order_line l JOIN article a ON a.id = l.article_id JOIN orders o ON o.id = l.order_id
        LEFT JOIN ticket t ON t.order_line_id = l.id
        WHERE a.is_ticket
        GROUP BY l.id, l.returned_quantity, o.status
        HAVING COUNT(t.id) <> 1
            OR SUM(CASE WHEN t.voided THEN 0 ELSE 1 END) <> (CASE WHEN o.status = 'training' THEN 0 ELSE 1 - l.returned_quantity END)
    """,
    "returned_more_than_sold": "SELECT id, quantity, returned_quantity FROM order_line WHERE returned_quantity > quantity OR returned_quantity < 0",
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
           OR change_cents < 0 OR refunded_cents > total_cents
    """,
    # the journal: numbers without gaps per terminal, and the terminal's counter at the last of them
    "journal_gaps": """
        SELECT j.terminal, COUNT(*) AS lines, MIN(j.number) AS first, MAX(j.number) AS last,
               MAX(t.journal_seq) AS counter
        FROM journal j LEFT JOIN terminal t ON t.name = j.terminal
        GROUP BY j.terminal
        HAVING MIN(j.number) <> 1 OR MAX(j.number) <> COUNT(*) OR MAX(t.journal_seq) IS NULL
            OR MAX(t.journal_seq) <> MAX(j.number)
    """,
    # each sale line is its order (one per order, the same total), and its tenders sum to that total
    "journal_sale_mismatch": """
        SELECT o.id, o.total_cents, COUNT(j.id) AS sale_lines, MAX(j.total_cents) AS journal_total
        FROM orders o LEFT JOIN journal j ON j.order_id = o.id AND j.kind = 'sale'
        GROUP BY o.id, o.total_cents
        HAVING COUNT(j.id) <> 1 OR MAX(j.total_cents) <> o.total_cents
    """,
    "journal_tender_mismatch": """
        SELECT j.id, j.kind, j.total_cents, COALESCE(SUM(t.amount_cents), 0) AS tenders FROM journal j
        LEFT JOIN journal_tender t ON t.journal_id = j.id
        GROUP BY j.id, j.kind, j.total_cents
        HAVING COALESCE(SUM(t.amount_cents), 0) <> j.total_cents
    """,
    # refunds: what an order's returns paid back is what the order says it refunded
    "journal_refund_mismatch": """
        SELECT o.id, o.refunded_cents, COALESCE(-SUM(j.total_cents), 0) AS journal_refunds FROM orders o
        LEFT JOIN journal j ON j.order_id = o.id AND j.kind = 'return'
        GROUP BY o.id, o.refunded_cents
        HAVING COALESCE(-SUM(j.total_cents), 0) <> o.refunded_cents
    """,
    # a closed shift: its difference line is counted minus the cash its journal expects, and nothing was booked
    # into it after that line
    "shift_cash_mismatch": """
        SELECT s.id, s.counted_cents, d.total_cents AS difference, COALESCE(c.cash, 0) AS expected
        FROM shift s
        JOIN journal d ON d.shift_id = s.id AND d.kind = 'difference'
        LEFT JOIN (SELECT j.shift_id, SUM(CASE WHEN j.kind = 'sale' THEN t.given_cents - t.change_cents
                                               ELSE t.amount_cents END) AS cash
                   FROM journal j JOIN journal_tender t ON t.journal_id = j.id
                   WHERE t.tender = 'cash' AND j.kind <> 'difference' AND NOT j.training
                   GROUP BY j.shift_id) c ON c.shift_id = s.id
        WHERE s.closed_at IS NOT NULL AND d.total_cents <> s.counted_cents - COALESCE(c.cash, 0)
    """,
    "booked_after_close": """
        SELECT j.id, j.shift_id, j.number, j.kind FROM journal j
        JOIN journal d ON d.shift_id = j.shift_id AND d.kind = 'difference' AND d.terminal = j.terminal
        WHERE j.number > d.number
    """,
    "closed_shift_without_z": """
        SELECT s.id FROM shift s WHERE s.closed_at IS NOT NULL
           AND (s.z_number IS NULL OR NOT EXISTS (SELECT 1 FROM journal d WHERE d.shift_id = s.id AND d.kind = 'difference'))
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
