"""`dangjian create-admin USERNAME`: create a console login, or set a new password for an existing one
(which also re-activates it); `--disable` deactivates it. Both end every open session of that login."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot import audit, clock, db
from bot.admin import auth
from bot.cli import UserError, command, load_config, runtime
from bot.models import AdminUser
from bot.services.console_sessions import end_admin_sessions


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")  # click.get_text_stream is deprecated since click 8.5
    return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat password")


@command("create-admin")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@click.option("--disable", is_flag=True, help="deactivate the login and end its sessions (no password asked)")
@click.pass_context
def create_admin(ctx: click.Context, username: str, password_stdin: bool, disable: bool) -> None:
    """Create a console login (or set a new password for an existing one)."""
    if disable:
        _disable(ctx, username)
        return
    try:
        name = auth.check_username(username)
        password_hash = auth.hash_password(_read_password(password_stdin))
    except auth.CredentialError as exc:
        raise UserError(str(exc)) from exc
    db.upgrade(load_config(ctx).database.url)
    rt = runtime(ctx)
    try:
        with rt.write() as session:
            user = session.exec(select(AdminUser).where(AdminUser.username == name)).first()
            created = user is None
            if user is None:
                user = AdminUser(username=name, password_hash=password_hash, created_at=clock.now())
            else:
                user.password_hash = password_hash
                user.active = True
            session.add(user)
            session.flush()
            if not created and user.id is not None:
                end_admin_sessions(session, user.id)  # a new password ends every open session
            audit.record(session, "cli", "admin.create" if created else "admin.password", target=f"admin:{name}")
    except IntegrityError as exc:
        raise UserError(f"admin {name} was created at the same time by someone else: run again") from exc
    click.echo(f"admin {name} {'created' if created else 'password updated'}")


def _disable(ctx: click.Context, username: str) -> None:
    name = auth.normalise_username(username)
    db.upgrade(load_config(ctx).database.url)
    with runtime(ctx).write() as session:
        user = session.exec(select(AdminUser).where(AdminUser.username == name)).first()
        if user is None or user.id is None:
            raise UserError(f"no admin named {name}")
        user.active = False
        session.add(user)
        session.flush()
        end_admin_sessions(session, user.id)
        audit.record(session, "cli", "admin.disable", target=f"admin:{name}")
    click.echo(f"admin {name} disabled")
