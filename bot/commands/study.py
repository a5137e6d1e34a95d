"""Study library command: import-content."""

from __future__ import annotations

import click

from bot.cli import command
from bot.commands.roster import run_import
from bot.services.study import content as study_content


@command("import-content")
@click.argument("path", type=click.Path())
@click.pass_context
def import_content(ctx: click.Context, path: str) -> None:
    """Import study items from TOML/Markdown/XLSX files or a folder, upsert by slug; all or nothing."""
    run_import(ctx, lambda: study_content.load(path), study_content.apply, problems=(study_content.ContentError,))
