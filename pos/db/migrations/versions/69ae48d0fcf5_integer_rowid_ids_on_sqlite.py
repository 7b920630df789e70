"""integer rowid ids on sqlite

SQLite assigns ids only to a column declared exactly INTEGER PRIMARY KEY (the rowid); the initial
schema declared ticket, entry and scan_log ids BIGINT, so inserts without an id failed there.
PostgreSQL keeps its bigserial columns unchanged.

Revision ID: 69ae48d0fcf5
Revises: aff56dba3056
Create Date: 2026-11-24 07:22:58.815180
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '69ae48d0fcf5'
down_revision: str | None = 'aff56dba3056'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('ticket', 'entry', 'scan_log')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('id', existing_type=sa.BIGINT(), type_=sa.Integer(), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('id', existing_type=sa.Integer(), type_=sa.BIGINT(), existing_nullable=False)
