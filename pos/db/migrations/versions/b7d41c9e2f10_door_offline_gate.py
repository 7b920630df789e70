"""door: offline gate (scan ids, offline entries, conflicts) and a change marker on tickets

`ticket.changed_at` is kept by triggers on ticket and entry, by the database's clock, so every writer
(sales, returns, cancels, the door, corrections) keeps it without knowing about it; the gates refresh
their local copies from it. `entry.scan_id` and `scan_log.scan_id` make an upload from a gate idempotent.

Revision ID: b7d41c9e2f10
Revises: 5808da3e7419
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pos.db.models

revision: str = 'b7d41c9e2f10'
down_revision: str | None = '5808da3e7419'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'"  # the text SQLAlchemy stores, naive UTC
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER ticket_changed_on_insert AFTER INSERT ON ticket
        BEGIN UPDATE ticket SET changed_at = {SQLITE_NOW} WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER ticket_changed_on_update AFTER UPDATE ON ticket WHEN NEW.changed_at IS OLD.changed_at
        BEGIN UPDATE ticket SET changed_at = {SQLITE_NOW} WHERE id = NEW.id; END""",
    f"""CREATE TRIGGER ticket_changed_on_entry_insert AFTER INSERT ON entry
        BEGIN UPDATE ticket SET changed_at = {SQLITE_NOW} WHERE id = NEW.ticket_id; END""",
    f"""CREATE TRIGGER ticket_changed_on_entry_delete AFTER DELETE ON entry
        BEGIN UPDATE ticket SET changed_at = {SQLITE_NOW} WHERE id = OLD.ticket_id; END""",
]
SQLITE_TRIGGER_NAMES = [
    'ticket_changed_on_insert',
    'ticket_changed_on_update',
    'ticket_changed_on_entry_insert',
    'ticket_changed_on_entry_delete',
]
POSTGRES_NOW = "(now() AT TIME ZONE 'UTC')"
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION pos_ticket_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.changed_at := {POSTGRES_NOW}; RETURN NEW; END $$""",
    """CREATE TRIGGER ticket_changed BEFORE INSERT OR UPDATE ON ticket
        FOR EACH ROW EXECUTE FUNCTION pos_ticket_changed()""",
    f"""CREATE FUNCTION pos_entries_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE ticket SET changed_at = {POSTGRES_NOW} WHERE id IN (SELECT ticket_id FROM added);
        RETURN NULL; END $$""",
    """CREATE TRIGGER ticket_changed_on_entry_insert AFTER INSERT ON entry
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION pos_entries_added()""",
    f"""CREATE FUNCTION pos_entries_removed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE ticket SET changed_at = {POSTGRES_NOW} WHERE id IN (SELECT ticket_id FROM removed);
        RETURN NULL; END $$""",
    """CREATE TRIGGER ticket_changed_on_entry_delete AFTER DELETE ON entry
        REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION pos_entries_removed()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS ticket_changed_on_entry_delete ON entry",
    "DROP TRIGGER IF EXISTS ticket_changed_on_entry_insert ON entry",
    "DROP TRIGGER IF EXISTS ticket_changed ON ticket",
    "DROP FUNCTION IF EXISTS pos_entries_removed()",
    "DROP FUNCTION IF EXISTS pos_entries_added()",
    "DROP FUNCTION IF EXISTS pos_ticket_changed()",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.create_table(
        'door_conflict',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scan_id', sa.String(), nullable=False),
        sa.Column('ticket_id', sa.BigInteger(), nullable=True),
        sa.Column('entry_id', sa.BigInteger(), nullable=True),
        sa.Column('code', sa.String(), nullable=False),
        sa.Column('at', pos.db.models.UTCDateTime(), nullable=False),
        sa.Column('gate', sa.String(), nullable=False),
        sa.Column('terminal', sa.String(), nullable=False),
        sa.Column('reason', sa.String(), nullable=False),
        sa.Column('previous_at', pos.db.models.UTCDateTime(), nullable=True),
        sa.Column('previous_gate', sa.String(), nullable=True),
        sa.Column('uploaded_at', pos.db.models.UTCDateTime(), nullable=False),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('resolved_at', pos.db.models.UTCDateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_door_conflict')),
        sa.UniqueConstraint('scan_id', name=op.f('uq_door_conflict_scan_id')),
    )
    with op.batch_alter_table('door_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_door_conflict_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_door_conflict_ticket_id'), ['ticket_id'], unique=False)
    for table in ('entry', 'scan_log'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('scan_id', sa.String(), nullable=True))
            # the default stays: writers that know nothing of gates (bulk loads) insert online rows
            batch_op.add_column(sa.Column('offline', sa.Boolean(), nullable=False, server_default=sa.false()))
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_scan_id'), ['scan_id'])
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changed_at', pos.db.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_changed_at'), ['changed_at'], unique=False)
    if sqlite:
        op.execute(f"UPDATE ticket SET changed_at = {SQLITE_NOW}")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(f"UPDATE ticket SET changed_at = {POSTGRES_NOW}")
        for statement in POSTGRES_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for statement in POSTGRES_DROP:
            op.execute(statement)
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_changed_at'))
        batch_op.drop_column('changed_at')
    for table in ('scan_log', 'entry'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_scan_id'), type_='unique')
            batch_op.drop_column('offline')
            batch_op.drop_column('scan_id')
    with op.batch_alter_table('door_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_door_conflict_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_door_conflict_status'))
    op.drop_table('door_conflict')
