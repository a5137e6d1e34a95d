"""console sessions end for good: session_version on admin_user and member, admin_user.active, and the
atomic login_throttle counters

Revision ID: 0012_sessions
Revises: 0011_privacy
Create Date: 2026-11-29 16:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012_sessions'
down_revision = '0011_privacy'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttle',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('expires', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default=sa.text('0'),
                                      nullable=False))
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default=sa.text('0'),
                                      nullable=False))
    # the old throttle kept its counters in key_value; login_throttle replaces them
    op.execute("DELETE FROM key_value WHERE key LIKE 'admin-login:%'")


def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('session_version')
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
        batch_op.drop_column('active')
    op.drop_table('login_throttle')
