"""`create-admin --password-stdin` run in process (click's CliRunner), on SQLite and PostgreSQL: the password
is the first line of stdin, and reading it raises no DeprecationWarning (click 8.5 deprecated
`click.get_text_stream`; pytest turns warnings into errors)."""

from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import select

from bot.admin import auth
from bot.cli import cli
from bot.models import AdminUser


def test_create_admin_reads_the_first_line_of_stdin(backend, rt):
    env = {"DANGJIAN_DATABASE_URL": backend, "DANGJIAN_CONFIG": None}
    result = CliRunner().invoke(cli, ["create-admin", "Keeper", "--password-stdin"],
                                input="keeper-pass-123\r\nnot-this-line\n", env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "admin keeper created" in result.output
    with rt.session() as s:
        user = s.exec(select(AdminUser).where(AdminUser.username == "keeper")).one()
    assert auth.verify(user.password_hash, "keeper-pass-123")
    assert not auth.verify(user.password_hash, "not-this-line")
