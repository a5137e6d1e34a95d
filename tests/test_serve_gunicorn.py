"""`serve --workers N` runs gunicorn: two instances on one host must not share gunicorn's control socket
(gunicorn 27 puts it at one path per user, and a second instance deletes the first one's)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot import db

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _wait_healthy(port: int, procs: list[subprocess.Popen[bytes]], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _healthy(port):
            return True
        if any(p.poll() is not None for p in procs):
            return False
        time.sleep(0.2)
    return False


def test_settings_switch_the_control_socket_off() -> None:
    from bot.commands.serve import gunicorn_settings

    settings = gunicorn_settings("127.0.0.1", 8000, 2)
    assert settings["control_socket_disable"] is True
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["workers"] == 2


def test_two_instances_on_one_host_both_stay_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    db.upgrade(url)
    home, runtime_dir = tmp_path / "home", tmp_path / "run"
    home.mkdir()
    runtime_dir.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime_dir), "DANGJIAN_DATABASE_URL": url,
           "PYTHONPATH": str(ROOT), "DANGJIAN_REDIS_URL": ""}
    env.pop("DANGJIAN_CONFIG", None)
    ports = [_free_port(), _free_port()]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--workers", "1", "--port", str(port)], cwd=tmp_path,
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True))
            assert _wait_healthy(port, procs), procs[-1].stderr.read().decode() if procs[-1].poll() else "no answer"
        # the first one is still serving after the second started, and neither made the shared socket
        assert all(_healthy(port) for port in ports)
        assert all(p.poll() is None for p in procs)
        assert not (runtime_dir / "gunicorn.ctl").exists()
        assert not (home / ".gunicorn").exists()
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
            if p.stderr is not None:
                p.stderr.close()
