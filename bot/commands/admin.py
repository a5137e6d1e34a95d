"""`dangjian create-admin USERNAME`: create a console login, or set a new password for an existing one."""

from __future__ import annotations

import click
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot import audit, clock, db
from bot.admin import auth
from bot.cli import UserError, command, load_config, runtime
from bot.models import AdminUser


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return click.get_text_stream("stdin").readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat password")


@command("create-admin")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the password from the first line of stdin")
@click.pass_context
def create_admin(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Create a console login (or set a new password for an existing one)."""
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
            session.add(user)
            audit.record(session, "cli", "admin.create" if created else "admin.password", target=f"admin:{name}")
    except IntegrityError as exc:
        raise UserError(f"admin {name} was created at the same time by someone else: run again") from exc
    click.echo(f"admin {name} {'created' if created else 'password updated'}")
