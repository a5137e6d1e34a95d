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


def test_modules_table_names_every_command_and_its_module() -> None:
    load_commands()
    defined = {name: command.callback.__module__ for name, command in cli.commands.items()
               if command.callback is not None and name != "report"}
    assert {name: f"bot.commands.{module}" for name, module in bot.commands.MODULES.items()} == defined


def test_jobs_starts_without_the_heavy_libraries() -> None:
    probe = ("import runpy, sys, json, atexit\n"
             "atexit.register(lambda: print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)),"
             " file=sys.stderr))\n"
             "sys.argv = ['dangjian', 'jobs']\n"
             "runpy.run_module('bot', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=bot_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "morning_study\t07:50 workdays\t" in done.stdout
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_help_lists_every_command() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "--help"], cwd=ROOT, env=bot_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in [*bot.commands.MODULES, "report"]:
        assert f"  {name} " in done.stdout, name
