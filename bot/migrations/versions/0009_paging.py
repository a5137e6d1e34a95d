"""reply_pages: the rest of a member's last long reply, for 下一页

Revision ID: 0009_paging
Revises: 0008
Create Date: 2026-11-29 16:10:00
"""
from alembic import op
import sqlalchemy as sa
import bot.models


revision = '0009_paging'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reply_pages',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Text(), nullable=False),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('member_id')
    )


def downgrade() -> None:
    op.drop_table('reply_pages')
