"""delivery classes: each outbound message keeps its class and kind; folded deliveries point at their digest

Revision ID: 0014_delivery_class
Revises: 0013_inbound_lease
Create Date: 2026-11-29 20:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014_delivery_class'
down_revision = '0013_inbound_lease'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_class', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='notice'))
        batch_op.add_column(sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=True))
    op.execute("UPDATE outbound_message SET delivery_class = 'urgent' WHERE urgent")
    op.execute("UPDATE outbound_message SET delivery_class = 'reply' WHERE reply AND NOT urgent")
    op.execute("UPDATE outbound_message SET delivery_class = 'timed' WHERE expires_at IS NOT NULL "
               "AND NOT urgent AND NOT reply")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE delivery SET status = 'skipped' WHERE status = 'folded'")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_column('digest_id')
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_column('topic')
        batch_op.drop_column('delivery_class')
