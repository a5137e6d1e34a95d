"""The wheel is complete: built with `pip wheel . --no-deps` from a clean copy of the source, installed in a
fresh virtual environment (which sees the test environment's dependencies but not the source tree), it
creates its schema, imports a roster and answers 帮助 with the menu, from a directory outside the source.

The fresh environment gets no network and no dependency installs: a `.pth` line puts the test environment's
site-packages after its own (plain path lines: the editable install's own `.pth` hook is not run there).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", "tests",
                              "bench", "fuzz", "dangjian.db*", "spool", ".hypothesis")

pytestmark = pytest.mark.packaging


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert out.returncode == 0, f"{args}: {out.stdout}\n{out.stderr}"
    assert "Traceback" not in out.stderr, out.stderr
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv with the freshly built wheel installed (no editable link to this checkout)."""
    base = tmp_path_factory.mktemp("wheel")
    source, dist, env_dir = base / "src", base / "dist", base / "venv"
    shutil.copytree(ROOT, source, symlinks=True, ignore=SKIP)  # an in-tree build/ could hide a missing file
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "DANGJIAN_"))}
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--quiet", "--wheel-dir", str(dist)],
         source, env, timeout=300)
    [wheel] = dist.glob("dangjian-*.whl")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base, env)
    (Path(purelib.stdout.strip()) / "zz_test_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "--quiet",
          str(wheel)], base, env)
    return env_dir / "bin"


def test_installed_wheel_answers_help_outside_the_source_tree(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    for name in ("branches.csv", "roster.csv"):
        shutil.copy(ROOT / "content" / "demo" / name, work / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DANGJIAN_"))}
    env |= {"DANGJIAN_DATABASE_URL": f"sqlite:///{work / 'db.sqlite'}", "DANGJIAN_NOW": "2026-11-25T09:00"}
    dangjian = str(installed / "dangjian")
    where = _run([str(installed / "python"), "-c", "import bot; print(bot.__file__)"], work, env)
    assert where.stdout.startswith(str(installed.parent)), where.stdout  # the wheel, not this checkout
    _run([dangjian, "init-db"], work, env)
    _run([dangjian, "import-branches", "branches.csv"], work, env)
    roster = _run([dangjian, "import-roster", "roster.csv"], work, env)
    assert "rejected=0" in roster.stdout
    menu = _run([dangjian, "say", "--user", "lina", "帮助"], work, env).stdout
    # the same answer as the source tree gives (the menu's wording belongs to content/messages.toml)
    source_env = {**env, "PYTHONPATH": str(ROOT), "DANGJIAN_DATABASE_URL": env["DANGJIAN_DATABASE_URL"]}
    expected = _run([sys.executable, "-m", "bot", "say", "--user", "lina", "帮助"], work, source_env).stdout
    assert menu == expected
    assert "帮助" in menu
    assert len(menu.strip().splitlines()) >= 5  # the list of commands, not a one-line error


def test_runtime_dependencies_are_bounded_and_pinned_within_their_bounds() -> None:
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#")[0].strip().partition("==")
        if sep:
            pins[canonicalize_name(name)] = version
    names = set()
    for text in project["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        names.add(name)
        assert any(spec.operator in ("<", "<=", "~=", "==") for spec in requirement.specifier) \
            or name == "tzdata", f"{text}: no upper bound"  # tzdata: newer data is always right
        assert name in pins, f"{text}: not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name]), f"{text}: constraints.txt pins {pins[name]}"
    assert {"tzdata", "pydantic"} <= names
