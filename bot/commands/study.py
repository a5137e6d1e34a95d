"""Study library command: import-content."""

from __future__ import annotations

import click

from bot import db
from bot.cli import command, fail, load_config, runtime
from bot.commands.roster import _actor
from bot.services.study import content as study_content


@command("import-content")
@click.argument("path", type=click.Path())
@click.pass_context
def import_content(ctx: click.Context, path: str) -> None:
    """Import study items from TOML/Markdown/XLSX files or a folder, upsert by slug; all or nothing."""
    try:
        items = study_content.load(path)
    except study_content.ContentError as exc:
        fail("\n".join(exc.errors))
    db.upgrade(load_config(ctx).database.url)
    with runtime(ctx).write() as session:
        result = study_content.apply(session, items, _actor())
    click.echo(f"created={result.created} updated={result.updated} unchanged={result.unchanged} rejected=0")
