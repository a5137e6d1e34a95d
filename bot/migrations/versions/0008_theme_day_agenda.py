"""merge 0006 and 0007; theme day agenda (学/会/做/工/课) and guests

Revision ID: 0008
Revises: 0006, 0007
Create Date: 2026-11-25 02:58:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = ('0006', '0007')
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('theme_day', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agenda', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('guests', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('theme_day', schema=None) as batch_op:
        batch_op.drop_column('guests')
        batch_op.drop_column('agenda')
