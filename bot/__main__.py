"""`dangjian` / `python -m bot`: the command line."""

from __future__ import annotations

from bot.cli import cli, load_commands


def _load_commands() -> None:
    """Every command module (the CLI itself imports only the one a command needs)."""
    load_commands()


def main() -> None:
    cli(prog_name="dangjian")


if __name__ == "__main__":
    main()
