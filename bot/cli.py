"""The `dangjian` command group and the helpers every subcommand shares.

Exit status: 0 success, 2 bad arguments / input / configuration (message on stderr, no traceback),
1 otherwise. Subcommands live in `bot/commands/*.py`, one module per area.
"""

from __future__ import annotations

import functools
import importlib
import logging
import pkgutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from bot import clock, logjson
from bot import config as config_mod

if TYPE_CHECKING:
    from bot.runtime import Runtime

LONG_RUNNING = frozenset({"serve", "demo", "worker", "scheduler"})


class UserError(Exception):
    """Bad input or arguments: printed on stderr, exit status 2."""


def load_commands(name: str | None = None) -> None:
    """Import the module defining command `name` (bot.commands.MODULES), or every command module."""
    import bot.commands

    module = bot.commands.MODULES.get(name or "")
    if module is not None:
        importlib.import_module(f"bot.commands.{module}")
        return
    for info in pkgutil.iter_modules(bot.commands.__path__):
        importlib.import_module(f"bot.commands.{info.name}")


class CliGroup(click.Group):
    """The top-level group: a command's module is imported when the command is looked up."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            load_commands(cmd_name)
            if cmd_name not in self.commands:
                load_commands()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        load_commands()
        return super().list_commands(ctx)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("standalone_mode", True)
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.UsageError as exc:  # pragma: no cover - click handles it first
            click.echo(str(exc), err=True)
            sys.exit(2)


@click.group(cls=CliGroup)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML configuration file (else $DANGJIAN_CONFIG, else ./config.toml).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """党建助手 command line."""
    # Processes that run for a while log what they do; one-shot commands only warnings and errors, so that
    # stdout (a reply, a CSV) and stderr (`line N: reason`) stay readable.
    level = logging.INFO if ctx.invoked_subcommand in LONG_RUNNING else logging.WARNING
    logjson.configure(level)  # text, or JSON lines with DANGJIAN_LOG_FORMAT=json
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
        from bot.runtime import build

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


def command(*args: Any, group: click.Group | None = None, **kwargs: Any) -> Decorator:
    """`group.command` (default: the top-level `cli`) whose expected errors become exit 2 with a message,
    never a traceback."""

    def wrap(func: Callable[..., Any]) -> click.Command:
        @functools.wraps(func)
        def run(*a: Any, **kw: Any) -> Any:
            try:
                return func(*a, **kw)
            except (config_mod.ConfigError, UserError) as exc:
                fail(f"error: {exc}")

        return (group or cli).command(*args, **kwargs)(run)

    return wrap
