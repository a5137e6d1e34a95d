"""The `dangjian` command group and the helpers every subcommand shares.

Exit status: 0 success, 2 bad arguments / input / configuration (message on stderr, no traceback),
1 otherwise. Subcommands live in `bot/commands/*.py`, one module per area, and are listed once in
`bot.commands.COMMANDS` (imported only when run).
"""

from __future__ import annotations

import functools
import importlib
import logging
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click

from bot import clock
from bot import config as config_mod
from bot.commands import COMMANDS

if TYPE_CHECKING:
    from bot.runtime import Runtime

LONG_RUNNING = frozenset({"serve", "demo", "worker", "scheduler"})


class UserError(Exception):
    """Bad input or arguments: printed on stderr, exit status 2."""


class LazyGroup(click.Group):
    """A group whose subcommands come from a table (name -> "module:attribute"), each module imported when
    its command is looked up."""

    def __init__(self, *args: Any, lazy: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            found = getattr(importlib.import_module(module), attribute)
            if not isinstance(found, click.Command) or found.name != cmd_name:
                raise TypeError(f"{self.lazy[cmd_name]} is not the click command {cmd_name!r}")
            self.add_command(found)
        return super().get_command(ctx, cmd_name)


class CliGroup(LazyGroup):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("standalone_mode", True)
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.UsageError as exc:  # pragma: no cover - click handles it first
            click.echo(str(exc), err=True)
            sys.exit(2)


@click.group(cls=CliGroup, lazy=COMMANDS)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML configuration file (else $DANGJIAN_CONFIG, else ./config.toml).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """党建助手 command line."""
    # Processes that run for a while log what they do; one-shot commands only warnings and errors, so that
    # stdout (a reply, a CSV) and stderr (`line N: reason`) stay readable.
    level = logging.INFO if ctx.invoked_subcommand in LONG_RUNNING else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    ctx.obj = {"config_path": config_path}


def load_config(ctx: click.Context) -> config_mod.Config:
    """The configuration, loaded once per command. A long-running process (serve, demo, scheduler, worker)
    also logs its start-up warnings here, the one place all of them pass through."""
    cached = ctx.obj.get("config")
    if cached is None:
        cached = config_mod.load(ctx.obj.get("config_path"))
        ctx.obj["config"] = cached
        if ctx.find_root().invoked_subcommand in LONG_RUNNING:
            clock.configure_from(cached)
            clock.warn_at_startup()
    return cached


def runtime(ctx: click.Context) -> Runtime:
    rt = ctx.obj.get("runtime")
    if rt is None:
        from bot.runtime import build  # sqlalchemy and the rest: only for commands that use the database

        rt = build(load_config(ctx))
        ctx.obj["runtime"] = rt
        ctx.call_on_close(rt.close)
    return rt


def fail(message: str, status: int = 2) -> None:
    click.echo(message, err=True)
    raise SystemExit(status)


def refuse_default_keys(cfg: config_mod.Config) -> None:
    """`serve`, `worker` and `scheduler` do not start with the shipped secret_key or seal_key once a platform
    (`[wecom] corp_id` or `[wechat] app_id`) is configured: anonymous-report seals would be forgeable."""
    from bot import seal

    if seal.uses_default_keys(cfg):
        key = "seal_key" if cfg.app.seal_key == "change-me" else "secret_key"
        fail(f"[app] {key} is the default 'change-me' while [wecom] corp_id or [wechat] app_id is set: "
             f"set [app] secret_key and [app] seal_key (or DANGJIAN_APP_SECRET_KEY / DANGJIAN_APP_SEAL_KEY) "
             f"to long random values")


Decorator = Callable[[Callable[..., Any]], click.Command]


def command(*args: Any, **kwargs: Any) -> Decorator:
    """`click.command` whose expected errors become exit 2 with a message, never a traceback. The command
    joins its group through the table in bot/commands/__init__.py, not here."""

    def wrap(func: Callable[..., Any]) -> click.Command:
        @functools.wraps(func)
        def run(*a: Any, **kw: Any) -> Any:
            try:
                return func(*a, **kw)
            except (config_mod.ConfigError, UserError) as exc:
                fail(f"error: {exc}")

        return click.command(*args, **kwargs)(run)

    return wrap
