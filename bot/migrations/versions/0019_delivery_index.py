"""delivery: drop the single-column index on message_id. The unique (message_id, recipient) index
(uq_delivery_message_recipient) and ix_delivery_batch (message_id, batch) both lead with message_id and
serve every lookup by message (the outbox's dedup, the console's deliveries page, the foreign key's check
when housekeeping deletes a message); the extra index only cost one more entry on every row written and
every non-HOT row update (each claim and each "sent" mark of a push).

Revision ID: 0019_delivery_index
Revises: 0018_perf
Create Date: 2026-11-29 22:10:00
"""
from alembic import op

revision = '0019_delivery_index'
down_revision = '0018_perf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_message_id')


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_message_id', ['message_id'], unique=False)
