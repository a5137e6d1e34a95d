"""study: items, days, receipts, check-ins, answers, reflections

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 01:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import bot.models


revision = '0004'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('study_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('series', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('question', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('publish_on', sa.Date(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('weekly_key', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('editor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reviewer', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('study_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_item_slug'), ['slug'], unique=True)
        batch_op.create_index(batch_op.f('ix_study_item_series'), ['series'], unique=False)
        batch_op.create_index(batch_op.f('ix_study_item_publish_on'), ['publish_on'], unique=False)

    op.create_table('study_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('chosen_at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pushed_at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['study_item.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('study_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_day_date'), ['date'], unique=True)
        batch_op.create_index(batch_op.f('ix_study_day_item_id'), ['item_id'], unique=False)

    op.create_table('study_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'date', name='uq_study_receipt')
    )
    with op.batch_alter_table('study_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_receipt_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_study_receipt_date'), ['date'], unique=False)

    op.create_table('study_checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('makeup', sa.Boolean(), nullable=False),
    sa.Column('approval_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['approval_id'], ['approval.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id', 'date', name='uq_study_checkin')
    )
    with op.batch_alter_table('study_checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_checkin_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_study_checkin_date'), ['date'], unique=False)

    op.create_table('study_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['study_item.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('study_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_answer_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_study_answer_date'), ['date'], unique=False)

    op.create_table('study_reflection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['study_item.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('study_reflection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_reflection_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_study_reflection_date'), ['date'], unique=False)


def downgrade() -> None:
    for table in ('study_reflection', 'study_answer', 'study_checkin', 'study_receipt', 'study_day', 'study_item'):
        op.drop_table(table)
