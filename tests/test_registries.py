"""Approval kinds, forget hooks, jobs and CLI commands are each listed in one table, complete whatever a
process imported, and importing the code does no work (no message file, no jieba dictionary)."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

import bot
import handlers
import scheduler
from bot import config
from bot.commands import COMMANDS, REPORTS
from bot.services import registry
from scheduler import registry as jobs_registry

ROOT = Path(__file__).resolve().parents[1]


def _fresh(code: str) -> str:
    """Run `code` in a new interpreter (nothing imported but what it imports) and return its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                         timeout=120, check=False, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _modules() -> list[str]:
    names = []
    for package in (bot, handlers, scheduler):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in info.name:
                names.append(info.name)
    return names


def test_importing_every_module_does_no_work() -> None:
    out = _fresh("""
        import importlib, pkgutil, sys
        import bot, handlers, scheduler
        for package in (bot, handlers, scheduler):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                if ".migrations" not in info.name:
                    importlib.import_module(info.name)
        from bot import texts
        import jieba
        print(texts._messages.cache_info().currsize, jieba.dt.initialized)
    """)
    assert out.split() == ["0", "False"]  # messages.toml not read, jieba's dictionary not loaded


def test_forget_hooks_are_complete_in_a_fresh_process() -> None:
    out = _fresh("""
        from bot.services import registry
        print(" ".join(f"{h.__module__}.{h.__name__}" for h in registry.forget_hooks()))
    """)
    listed = set(out.split())
    assert {"bot.services.tickets.core.scrub_tickets", "bot.services.commitments.scrub_commitments",
            "bot.services.reviews.scrub_reviews", "bot.paging.scrub_pages"} <= listed
    # every module-level `scrub_*(session, gone: Forgotten)` anywhere is in the table
    found = set()
    for name in _modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if attr.startswith("scrub_") and inspect.isfunction(value) and value.__module__ == name:
                if "Forgotten" in str(inspect.signature(value)):
                    found.add(f"{name}.{attr}")
    assert found == listed


def test_approval_kinds_are_listed_once() -> None:
    kinds = registry.approval_kinds()
    assert set(kinds) == {"makeup", "leave", "points", "review", "commitment"}
    defined = {}
    for name in _modules():
        kind = getattr(importlib.import_module(name), "APPROVAL_KIND", None)
        if kind is not None:
            defined[kind.name] = kind
    assert defined == kinds
    assert all(kind.label and kind.label != kind.label_key for kind in kinds.values())


def test_job_table_gives_the_schedule_defaults_and_validates_it(tmp_path: Path) -> None:
    assert jobs_registry.job_ids() == list(jobs_registry.JOBS)
    assert config.default_schedule() == {j.id: j.default for j in jobs_registry.JOBS.values()}
    assert config.default_schedule()["morning_study"] == "07:50"
    for job in jobs_registry.JOBS.values():
        assert callable(job.function), job.id
        assert job.description, job.id  # `dangjian jobs` and the README table describe it
    path = tmp_path / "c.toml"
    path.write_text('[schedule]\nmorning_sutdy = "07:00"\n', encoding="utf-8")
    with pytest.raises(config.ConfigError, match=r"\[schedule\] morning_sutdy"):
        config.load(str(path))
    path.write_text('[schedule]\nmorning_study = "07:00"\n', encoding="utf-8")
    assert config.load(str(path)).schedule["morning_study"] == "07:00"


def test_cli_table_names_every_command_once() -> None:
    from bot.cli import cli

    ctx = click.Context(cli)
    for table, group in ((COMMANDS, cli), (REPORTS, cli.get_command(ctx, "report"))):
        assert isinstance(group, click.Group)
        for name in table:
            command = group.get_command(ctx, name)
            assert command is not None
            assert command.name == name
    defined = set()
    for info in pkgutil.iter_modules([str(ROOT / "bot" / "commands")]):
        module = importlib.import_module(f"bot.commands.{info.name}")
        defined |= {f"{module.__name__}:{attr}" for attr, value in vars(module).items()
                    if isinstance(value, click.Command)
                    and getattr(value.callback, "__module__", "") == module.__name__}
    assert defined == set(COMMANDS.values()) | set(REPORTS.values())


def test_a_command_imports_only_its_own_module() -> None:
    out = _fresh("""
        import sys
        from click.testing import CliRunner
        from bot.cli import cli
        result = CliRunner().invoke(cli, ["run-job", "--help"])
        assert result.exit_code == 0, result.output
        print(sorted(m for m in sys.modules if m.startswith("bot.commands.")))
    """)
    assert out.strip() == "['bot.commands.scheduler']"
