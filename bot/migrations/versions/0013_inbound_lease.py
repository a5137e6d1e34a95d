"""inbound messages: a lease for rows being processed and the message kept (sender encrypted) to re-run it

Revision ID: 0013_inbound_lease
Revises: 0012_sessions
Create Date: 2026-11-29 16:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013_inbound_lease'
down_revision = '0012_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.alter_column('sender', existing_type=sqlmodel.sql.sqltypes.AutoString(length=128),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=255), existing_nullable=False)
        batch_op.add_column(sa.Column('payload', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.Float(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_inbound_message_status_lease', ['status', 'lease_until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_message_status_lease')
        batch_op.drop_column('attempts')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('payload')
        batch_op.alter_column('sender', existing_type=sqlmodel.sql.sqltypes.AutoString(length=255),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=128), existing_nullable=False)
