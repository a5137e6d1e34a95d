"""privacy: outbound messages about an anonymous report are sealed (day-precision times, encrypted recipient)

Revision ID: 0011_privacy
Revises: 0010_platform
Create Date: 2026-11-29 16:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_privacy'
down_revision = '0010_platform'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_column('sealed')
