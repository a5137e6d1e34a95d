"""delivery.batch and outbound_message.batches: the send call a delivery row belongs to, numbered per
message (one template-card task_id per batch)

Revision ID: 0010_platform
Revises: 0009_paging
Create Date: 2026-11-29 16:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_platform'
down_revision = '0009_paging'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batches', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch', sa.Integer(), nullable=True))
        batch_op.create_index('ix_delivery_batch', ['message_id', 'batch'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_batch')
        batch_op.drop_column('batch')
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_column('batches')
