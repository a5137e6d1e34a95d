"""Roster commands: import-branches, import-roster, forget."""

from __future__ import annotations

import getpass

import click

from bot import db
from bot.cli import command, fail, load_config, runtime
from bot.services.roster import core as roster
from bot.services.roster.forget import forget as forget_rows


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli"


def _migrated_runtime(ctx: click.Context):
    db.upgrade(load_config(ctx).database.url)
    return runtime(ctx)


def _run_import(ctx: click.Context, path: str, importer, stream: bool = False) -> None:
    """Read (or, for the roster, stream) the file and import it in one transaction; any error: nothing
    applied, exit 2 with `line N: reason` lines."""
    try:
        rows = roster.open_table(path) if stream else roster.read_table(path)
    except roster.RosterError as exc:
        fail("\n".join(exc.errors))
    rt = _migrated_runtime(ctx)
    with rt.write() as session:
        try:
            result = importer(session, rows, _actor())
        except roster.RosterError as exc:  # found while streaming (an unreadable row): nothing is kept
            session.rollback()
            fail("\n".join(exc.errors))
        if not result.ok:
            session.rollback()
            fail("\n".join(result.errors))
    click.echo(f"created={result.created} updated={result.updated} rejected=0")


@command("import-roster")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def import_roster(ctx: click.Context, file: str) -> None:
    """Import members from CSV/XLSX, upsert by userid; any bad row: nothing applied, exit 2."""
    _run_import(ctx, file, roster.import_roster, stream=True)


@command("import-branches")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def import_branches(ctx: click.Context, file: str) -> None:
    """Import branches (code,name,parent,level) from CSV/XLSX, upsert by code; all or nothing."""
    _run_import(ctx, file, roster.import_branches)


@command("forget")
@click.argument("userid")
@click.pass_context
def forget(ctx: click.Context, userid: str) -> None:
    """Erase a member's personal data (keeps anonymous aggregates)."""
    rt = _migrated_runtime(ctx)
    with rt.write() as session:
        try:
            member_id, counts = forget_rows(session, userid, _actor())
        except roster.MemberNotFound as exc:
            fail(f"error: {exc}")
    click.echo(f"forgotten: member #{member_id} (personal data erased)")
    for table, count in counts.items():
        click.echo(f"{table}={count}")
