"""shop group positions

A shop group's position decides its F-key on the sale screen. Existing groups keep the order they had
(alphabetical), so an upgrade moves no key; a group created later goes to the end.

Revision ID: 5c1d2e7f9a40
Revises: b7c41e9d2a63
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '5c1d2e7f9a40'
down_revision: str | None = 'b7c41e9d2a63'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'shop_group',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_group')),
        sa.UniqueConstraint('name', name=op.f('uq_shop_group_name')),
    )
    connection = op.get_bind()
    names = connection.execute(sa.text('SELECT DISTINCT shop_group FROM article ORDER BY shop_group')).scalars()
    for position, name in enumerate(names, start=1):
        connection.execute(
            sa.text('INSERT INTO shop_group (name, position) VALUES (:name, :position)'),
            {'name': name, 'position': position},
        )


def downgrade() -> None:
    op.drop_table('shop_group')
