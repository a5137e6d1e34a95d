"""CHECK constraints for the closed sets of values (bot/enums.py): member type, delivery, approval, ticket and
theme-day statuses

Revision ID: 0015_enum_checks
Revises: 0014_delivery_class
Create Date: 2026-11-29 21:00:00
"""
from alembic import op


revision = '0015_enum_checks'
down_revision = '0014_delivery_class'
branch_labels = None
depends_on = None

# Frozen here (a migration never follows later code): the values of bot.enums when this revision was written.
CHECKS = {
    ('member', 'member_type'): ('regular', 'retired', 'mobile', 'probationary', 'frail'),
    ('delivery', 'status'): ('queued', 'sending', 'sent', 'failed', 'expired', 'skipped', 'folded'),
    ('approval', 'status'): ('pending', 'approved', 'rejected', 'withdrawn'),
    ('ticket', 'status'): ('open', 'closed'),
    ('theme_day', 'status'): ('scheduled', 'postponed', 'cancelled', 'held'),
}


def upgrade() -> None:
    for (table, column), values in CHECKS.items():
        allowed = ", ".join(f"'{v}'" for v in values)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(f'ck_{table}_{column}', f'{column} IN ({allowed})')


def downgrade() -> None:
    for table, column in reversed(list(CHECKS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'ck_{table}_{column}', type_='check')
