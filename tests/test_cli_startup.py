"""One-shot CLI start-up: a command imports only its own module, and `jobs` none of the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import bot.commands
from bot.cli import cli, load_commands
from tests.serve_helpers import ROOT, bot_env

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "jieba", "openpyxl", "gunicorn", "flask", "wechatpy", "redis",
         "requests", "apscheduler")


def test_modules_table_names_the_module_of_each_lazy_command() -> None:
    load_commands()
    for name, module in bot.commands.MODULES.items():
        command = cli.commands[name]
        assert command.callback is not None
        assert command.callback.__module__ == f"bot.commands.{module}", name


def _probe(args: list[str], report: str) -> subprocess.CompletedProcess:
    """Run `python -m bot ARGS` and print `report` (a Python expression) as JSON on stderr at exit."""
    probe = ("import runpy, sys, json, atexit\n"
             f"atexit.register(lambda: print(json.dumps({report}), file=sys.stderr))\n"
             f"sys.argv = ['dangjian', *{args!r}]\n"
             "runpy.run_module('bot', run_name='__main__')\n")
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=bot_env(), capture_output=True, text=True,
                          timeout=120)


def test_forget_runs_with_every_forget_hook_registered(tmp_path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/f.db"\n', encoding="utf-8")
    report = "sorted({h.__module__ for h in sys.modules['bot.services.roster_forget'].FORGET_HOOKS})"
    done = _probe(["--config", str(config), "forget", "nobody"], report)
    assert done.returncode == 2, done.stderr
    hooks = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert {"bot.paging", "bot.services.commitments", "bot.services.reviews", "bot.services.tickets"} <= hooks


def test_jobs_starts_without_the_heavy_libraries() -> None:
    done = _probe(["jobs"], "sorted(m.split('.')[0] for m in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert "morning_study\t07:50 workdays\t" in done.stdout
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_help_lists_every_command() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "--help"], cwd=ROOT, env=bot_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in [*bot.commands.MODULES, "report", "forget", "say", "serve", "worker", "scheduler"]:
        assert f"  {name} " in done.stdout, name
