"""`python -m scheduler [--config FILE] [--lease-seconds N]`: the same as `dangjian scheduler`."""

from __future__ import annotations

import sys

from bot.cli import cli


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    group: list[str] = []  # options of `dangjian` itself go before the subcommand
    rest: list[str] = []
    while args:
        arg = args.pop(0)
        if arg == "--config" and args:
            group += [arg, args.pop(0)]
        elif arg.startswith("--config="):
            group.append(arg)
        else:
            rest.append(arg)
    cli(args=[*group, "scheduler", *rest], prog_name="python -m scheduler")


if __name__ == "__main__":
    main()
