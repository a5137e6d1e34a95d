"""Core commands: schema."""

from __future__ import annotations

import click

from bot import db
from bot.cli import command, load_config


@command("init-db")
@click.pass_context
def init_db(ctx: click.Context) -> None:
    """Create or migrate the schema (Alembic upgrade); safe to run again."""
    cfg = load_config(ctx)
    db.upgrade(cfg.database.url)
    click.echo("database ready")
