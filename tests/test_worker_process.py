"""Real `python -m bot worker` processes against the fake server: a worker killed with SIGKILL in the
middle of a batch, then restarted; two workers draining one queue on PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import select

from bot import clock, outbox
from bot.models import Delivery
from tests.conftest import DEFAULT_NOW, make_runtime

pytest_plugins = ("tests.fakewecom",)
ROOT = Path(__file__).resolve().parent.parent


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _write_config(path: Path, url: str, fake, **sections) -> Path:
    merged = fake.sections(database={"url": url}, **sections)
    lines = []
    for name, values in merged.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _worker(config: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env["DANGJIAN_NOW"] = DEFAULT_NOW.isoformat()
    return subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "worker", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _enqueue(url: str, fake, users: list[str], **sections) -> None:
    rt = make_runtime(url, **fake.sections(**sections))
    try:
        with rt.session() as session:
            outbox.enqueue(session, channel="wecom", kind="text", payload={"content": "早学习"},
                           recipients=users, topic="reply", config=rt.config)
    finally:
        rt.close()


def _rows(url: str) -> list[Delivery]:
    rt = make_runtime(url)
    try:
        with rt.session() as session:
            return list(session.exec(select(Delivery).order_by(Delivery.id)))
    finally:
        rt.close()


def test_killed_worker_restarts_without_double_delivery(backend, fake_wecom, tmp_path):
    delivery = {"batch_size": 5, "lease_seconds": 1.0, "poll_seconds": 0.1}
    users = [f"m{i:02d}" for i in range(12)]
    _enqueue(backend, fake_wecom, users, delivery=delivery)
    config = _write_config(tmp_path / "worker.toml", backend, fake_wecom, delivery=delivery)
    fake_wecom.delay(0.6, times=1)  # the first batch is in flight when the kill lands
    proc = _worker(config)
    try:
        started = fake_wecom.wait_for(fake_wecom.SEND, 1, timeout=30)
        assert started, proc.stderr.read() if proc.poll() is not None else "no send within 30 s"
        time.sleep(0.2)
        claimed_at = clock.wall()
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    assert proc.returncode == -9
    rows = _rows(backend)
    assert sorted(r.status for r in rows) == ["queued"] * 7 + ["sending"] * 5
    deadline = time.monotonic() + 5  # the platform still processes the batch the dead worker sent
    while sum(len(v) for v in fake_wecom.delivered.values()) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(max(0.0, max(r.lease_until for r in rows) - clock.wall() + 0.05))
    assert clock.wall() > claimed_at
    restarted = _worker(config, "--once")
    out, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err
    assert out.strip().splitlines()[-1] == "sent=12 failed=0 expired=0 queued=0"
    rows = _rows(backend)
    assert {r.status for r in rows} == {"sent"}
    assert sorted(fake_wecom.delivered) == users
    assert all(len(v) == 1 for v in fake_wecom.delivered.values())  # nobody got it twice
    assert len(fake_wecom.duplicates) == 5  # the resent first batch, dropped by the duplicate check
    assert len(fake_wecom.sends()) == 4
    assert fake_wecom.gettoken_calls == 1  # the restarted process reused the dead one's token


def test_two_workers_drain_3000_rows_on_postgresql(postgres_url, fake_wecom, tmp_path):
    delivery = {"batch_size": 100, "lease_seconds": 30.0, "poll_seconds": 0.1}
    users = [f"p{i:04d}" for i in range(3000)]
    _enqueue(postgres_url, fake_wecom, users, delivery=delivery)
    config = _write_config(tmp_path / "worker.toml", postgres_url, fake_wecom, delivery=delivery)
    fake_wecom.delay(0.05)
    fake_wecom.delay(1.0, times=1)  # the first batch is slow: the other worker has started by then
    service, once = _worker(config), _worker(config, "--once")  # one runs until SIGTERM, one drains
    try:
        out, err = once.communicate(timeout=120)
        assert once.returncode == 0, err
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(r.status != "sent" for r in _rows(postgres_url)):
            time.sleep(0.1)
    finally:
        service.send_signal(signal.SIGTERM)
        _, service_err = service.communicate(timeout=30)
    assert service.returncode == 0, service_err
    assert "finishing the current batch" in service_err
    by_once = int(out.split()[0].removeprefix("sent="))
    by_service = int(re.search(r"stopped: sent=(\d+) failed=0 ", service_err).group(1))
    assert by_once > 0
    assert by_service > 0  # both workers took part
    assert by_once + by_service == 3000
    rows = _rows(postgres_url)
    assert len(rows) == 3000
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
    assert sorted(fake_wecom.delivered) == users
    assert all(len(v) == 1 for v in fake_wecom.delivered.values())  # no row was claimed twice
    assert fake_wecom.duplicates == []
    assert len(fake_wecom.sends()) == 30
    assert fake_wecom.gettoken_calls == 1  # two processes, one token (row lock in PostgreSQL)
