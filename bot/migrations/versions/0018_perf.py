"""ledger_entry: a covering index for the points table (year, member, category, points): a branch's
standings and the annual report read the index alone instead of one heap page per entry

Revision ID: 0018_perf
Revises: 0017_event_link
Create Date: 2026-11-29 20:45:00
"""
from alembic import op


revision = '0018_perf'
down_revision = '0017_event_link'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_ledger_year_member_category_points', 'ledger_entry',
                    ['year', 'member_id', 'category', 'points'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ledger_year_member_category_points', table_name='ledger_entry')
