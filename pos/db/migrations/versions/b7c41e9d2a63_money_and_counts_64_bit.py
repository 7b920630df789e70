"""money and counts 64-bit

Prices, totals, payments, floats, availability, sold units and promo uses become BIGINT on PostgreSQL, so a
value that passes 2^31 (a price of 50,000,000.00 in cents, the sum of a season) fits. SQLite stores every
INTEGER in up to 64 bits already: nothing changes there.

Revision ID: b7c41e9d2a63
Revises: b7d41c9e2f10
Create Date: 2026-11-30 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7c41e9d2a63'
down_revision: str | None = 'b7d41c9e2f10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, nullable)
COLUMNS = (
    ('article', 'price_cents', False),
    ('article', 'stock_limit', True),
    ('article', 'sold', False),
    ('shift', 'float_cents', False),
    ('shift', 'counted_cents', True),
    ('orders', 'total_cents', False),
    ('orders', 'given_cents', False),
    ('orders', 'change_cents', False),
    ('order_line', 'unit_price_cents', False),
    ('order_line', 'discount_cents', False),
    ('order_line', 'total_cents', False),
    ('promo_code', 'amount_cents', True),
    ('promo_code', 'uses', False),
    ('promo_code', 'used', False),
    ('promo_use', 'discount_cents', False),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table, column, nullable in COLUMNS:
        op.alter_column(table, column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=nullable)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table, column, nullable in reversed(COLUMNS):
        op.alter_column(table, column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=nullable)
