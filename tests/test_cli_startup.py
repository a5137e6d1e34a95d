"""One-shot CLI start-up: `jobs` loads none of the heavy libraries (tests/test_registries.py checks that a
command imports only its own module)."""

from __future__ import annotations

import json
import subprocess
import sys

import bot.commands
from tests.serve_helpers import ROOT, bot_env

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "jieba", "openpyxl", "gunicorn", "flask", "wechatpy", "redis",
         "requests", "apscheduler")


def _probe(args: list[str], report: str) -> subprocess.CompletedProcess:
    """Run `python -m bot ARGS` and print `report` (a Python expression) as JSON on stderr at exit."""
    probe = ("import runpy, sys, json, atexit\n"
             f"atexit.register(lambda: print(json.dumps({report}), file=sys.stderr))\n"
             f"sys.argv = ['dangjian', *{args!r}]\n"
             "runpy.run_module('bot', run_name='__main__')\n")
    return subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=bot_env(), capture_output=True, text=True,
                          timeout=120)


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
    for name in bot.commands.COMMANDS:
        assert f"  {name} " in done.stdout, name
