"""`dangjian` / `python -m bot`: the command line."""

from __future__ import annotations

import importlib
import pkgutil

import bot.commands
from bot.cli import cli


def _load_commands() -> None:
    for info in pkgutil.iter_modules(bot.commands.__path__):
        importlib.import_module(f"bot.commands.{info.name}")


def main() -> None:
    _load_commands()
    cli(prog_name="dangjian")


if __name__ == "__main__":
    main()
