"""`dangjian` / `python -m bot`: the command line (its subcommands: bot/commands/__init__.py)."""

from __future__ import annotations

from bot.cli import cli


def main() -> None:
    cli(prog_name="dangjian")


if __name__ == "__main__":
    main()
