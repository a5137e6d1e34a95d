"""theme days: the meeting link of an online event

Revision ID: 0017_event_link
Revises: 0015_enum_checks
Create Date: 2026-11-29 21:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0017_event_link'
down_revision = '0015_enum_checks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('theme_day', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('theme_day', schema=None) as batch_op:
        batch_op.drop_column('link')
