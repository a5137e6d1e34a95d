"""Roster commands: import-branches, import-roster, forget."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from bot import db
from bot.cli import command, fail, load_config, runtime
from bot.services.roster import core as roster
from bot.services.roster.forget import forget as forget_rows

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.runtime import Runtime


def actor() -> str:
    """Who runs the command, as audit rows name them (`cli:<login>`)."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli"


def _migrated_runtime(ctx: click.Context) -> Runtime:
    db.upgrade(load_config(ctx).database.url)
    return runtime(ctx)


def run_import(ctx: click.Context, read: Callable[[], Any], apply: Callable[[Session, Any, str], Any],
               problems: tuple[type[Exception], ...] = (roster.RosterError,)) -> None:
    """Read the input (`read`), then `apply` it in one transaction; a problem while reading or applying (one of
    `problems`, carrying `errors`) or a result with `errors`: nothing applied, exit 2 with one line each
    (`line N: reason`); else print the result's `summary()`. Every import command (roster, branches, duty,
    study content) runs through here."""
    try:
        data = read()
    except problems as exc:
        fail("\n".join(getattr(exc, "errors", [str(exc)])))
    rt = _migrated_runtime(ctx)
    with rt.write() as session:
        try:
            result = apply(session, data, actor())
        except problems as exc:  # found while streaming (an unreadable row): nothing is kept
            session.rollback()
            fail("\n".join(getattr(exc, "errors", [str(exc)])))
        if result.errors:
            session.rollback()
            fail("\n".join(result.errors))
    click.echo(result.summary())


@command("import-roster")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def import_roster(ctx: click.Context, file: str) -> None:
    """Import members from CSV/XLSX, upsert by userid; any bad row: nothing applied, exit 2."""
    run_import(ctx, lambda: roster.open_table(file), roster.import_roster)


@command("import-branches")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
def import_branches(ctx: click.Context, file: str) -> None:
    """Import branches (code,name,parent,level) from CSV/XLSX, upsert by code; all or nothing."""
    run_import(ctx, lambda: roster.read_table(file), roster.import_branches)


@command("forget")
@click.argument("userid")
@click.pass_context
def forget(ctx: click.Context, userid: str) -> None:
    """Erase a member's personal data (keeps anonymous aggregates)."""
    rt = _migrated_runtime(ctx)
    with rt.write() as session:
        try:
            member_id, counts = forget_rows(session, userid, actor())
        except roster.MemberNotFound as exc:
            fail(f"error: {exc}")
    click.echo(f"forgotten: member #{member_id} (personal data erased)")
    for table, count in counts.items():
        click.echo(f"{table}={count}")
