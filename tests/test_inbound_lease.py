"""Inbound rows being processed hold a lease: a message whose process died mid-handling is taken over by
a retry after the lease, or re-run by the recovery pass with its reply pushed; effects happen once and are
dated by the time the message was received; a live handler is never run twice."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import requests
from sqlmodel import select

from bot import clock, inbound, inbound_lease, inbound_recovery, seal
from bot.message import InboundMessage
from bot.models import InboundMessage as InboundRow
from bot.models import Ticket
from bot.router import Context, Router
from handlers import build_router
from tests.callbacks import WECOM
from tests.conftest import DEFAULT_NOW, make_runtime
from tests.helpers import add_roster, texts_to
from tests.serve_helpers import ROOT, bot_env, post_text, serving, write_config


def text(user: str, content: str, msg_id: str) -> InboundMessage:
    return InboundMessage(channel="wecom", sender=user, msg_type="text", text=content, msg_id=msg_id,
                          create_time=clock.timestamp())


def leased_rt(url: str):
    rt = make_runtime(url, app={"inbound_lease_seconds": 1})
    add_roster(rt)
    return rt


def rows(rt) -> list[InboundRow]:
    with rt.session() as session:
        return list(session.exec(select(InboundRow).order_by(InboundRow.id)))


def tickets(rt) -> list[Ticket]:
    with rt.session() as session:
        return list(session.exec(select(Ticket)))


def wait_for_lease(rt) -> None:
    """Let every lease run out in this process: the clock moves past them (clock.skip) without sleeping."""
    clock.skip(max(r.lease_until for r in rows(rt)) - clock.wall() + 0.01)


def wait_for_lease_in_real_time(rt) -> None:
    """For a lease another process reads with its own clock."""
    deadline = max(r.lease_until for r in rows(rt))
    while clock.wall() <= deadline:
        time.sleep(0.05)


def test_a_processing_row_keeps_its_sender_encrypted(backend):
    rt = leased_rt(backend)
    try:
        inbound_lease.record(rt, text("m1", "反映 楼道灯坏了", "600"))
        (row,) = rows(rt)
        assert row.status == "processing"
        assert row.sender.startswith("enc:")
        assert seal.decrypt(rt.config, row.sender) == "m1"
        assert '"m1"' not in row.payload
        stored = json.loads(row.payload)  # the sender only as a ciphertext (which may contain "m1" by chance)
        assert seal.decrypt(rt.config, stored.pop("sender")) == "m1"
        assert not any("m1" in str(value) for value in stored.values())
    finally:
        rt.close()


def test_retry_after_the_lease_takes_over_a_dead_delivery(backend):
    rt = leased_rt(backend)
    router = build_router()
    msg = text("m1", "反映 楼道灯坏了", "601")
    try:
        assert inbound_lease.record(rt, msg) is not None  # the first delivery's process died right after this
        wait_for_lease(rt)
        clock.freeze(DEFAULT_NOW + dt.timedelta(seconds=10))  # WeCom's retry, ten seconds later
        reply = inbound.handle(rt, router, msg)
        assert reply is not None
        assert "#" in reply.text
        assert inbound.handle(rt, router, msg).text == reply.text  # the next retry: the same reply
        (ticket,) = tickets(rt)
        assert clock.local(ticket.created_at) == DEFAULT_NOW  # dated by receipt
        (row,) = rows(rt)
        assert (row.status, row.attempts, row.sender, row.payload) == ("done", 2, "", None)
        assert row.content == ""  # none of the member's words stay once handled (nothing for `forget` to miss)
    finally:
        rt.close()


def test_recovery_pass_reruns_an_expired_row_and_pushes_the_reply(backend):
    rt = leased_rt(backend)
    msg = text("m2", "反映 路灯坏了", "602")
    try:
        inbound_lease.record(rt, msg)
        assert inbound_recovery.recover_expired(rt) == 0  # the lease has not run out yet
        wait_for_lease(rt)
        clock.freeze(DEFAULT_NOW + dt.timedelta(minutes=3))
        assert inbound_recovery.recover_expired(rt) == 1
        assert inbound_recovery.recover_expired(rt) == 0
        (ticket,) = tickets(rt)
        assert clock.local(ticket.created_at) == DEFAULT_NOW
        (pushed,) = texts_to(rt, "m2")
        assert f"#{ticket.number}" in pushed
        assert [(r.status, r.sender) for r in rows(rt)] == [("pushed", "")]
    finally:
        rt.close()


def test_a_superseded_attempt_has_no_effect(backend):
    rt = leased_rt(backend)
    router = build_router()
    msg = text("m1", "反映 井盖丢了", "603")
    try:
        first = inbound_lease.record(rt, msg)
        wait_for_lease(rt)
        second, _ = inbound_lease.take_over(rt, InboundRow.id == first.row_id)
        assert inbound.process(rt, router, msg, first).status == "superseded"  # the slow original wakes up
        assert tickets(rt) == []
        assert inbound.process(rt, router, msg, second).status == "done"
        assert len(tickets(rt)) == 1
    finally:
        rt.close()


def test_a_live_slow_handler_is_not_run_twice(backend):
    rt = leased_rt(backend)
    calls: list[str] = []
    router = Router()
    release = threading.Event()

    def slow(ctx: Context) -> str:
        """慢 — 比租约还慢的指令"""
        calls.append(ctx.message.msg_id)
        assert release.wait(30)  # held until the lease has run out (the clock skips past it)
        return "慢慢来的回复"

    router.command("慢", slow, bare=True)
    msg = text("m1", "慢", "604")
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.setdefault("reply", inbound.handle(rt, router, msg)))
    try:
        worker.start()
        while not calls:
            time.sleep(0.02)
        wait_for_lease(rt)  # the lease ran out while the handler is still inside its transaction
        # the handler finishes 0.3 s later: PostgreSQL's recovery skips the locked row at once, SQLite's
        # waits for the handler's write lock and then finds the row done
        threading.Timer(0.3, release.set).start()
        assert inbound_recovery.recover_expired(rt, router) == 0
        worker.join(timeout=30)
        assert result["reply"].text == "慢慢来的回复"
        assert calls == ["604"]
        assert [r.status for r in rows(rt)] == ["done"]
    finally:
        release.set()
        worker.join(timeout=30)
        rt.close()


# -- a real gunicorn worker killed with SIGKILL inside its handler transaction (PostgreSQL) ----------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _wait(condition, seconds: float, what: str) -> None:
    deadline = clock.monotonic() + seconds
    while not condition():
        assert clock.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def _waiting_on_ticket(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted "
                            "AND relation = 'ticket'::regclass").fetchone()[0] > 0


def test_killed_gunicorn_worker_mid_handling_then_retries(postgres_url, fake_wecom, tmp_path):
    rt = make_runtime(postgres_url)
    add_roster(rt)
    rt.close()
    sections = fake_wecom.sections(
        database={"url": postgres_url},
        app={"secret_key": "kill-test-secret", "seal_key": "kill-test-seal", "inbound_lease_seconds": 2,
             "spool_dir": str(tmp_path / "spool")},
        wecom={**WECOM, "api_base_url": fake_wecom.url})
    config = write_config(tmp_path / "serve.toml", sections)
    msg_id = 8_200_000_000_000_000_001
    content = "反映 车棚顶漏雨"
    replies: list[str] = []
    with serving(config, 1, tmp_path / "serve.log") as server:
        (worker_pid,) = _children(server.proc.pid)
        lock = psycopg.connect(postgres_url)
        lock.execute("LOCK TABLE ticket IN ACCESS EXCLUSIVE MODE")  # the handler will wait inside its transaction
        first: dict[str, object] = {}

        def deliver() -> None:
            try:
                first["answer"] = post_text(server.url, "m1", content, msg_id, timeout=30)
            except requests.RequestException as exc:  # the worker dies with the request open
                first["answer"] = exc

        started = clock.monotonic()
        thread = threading.Thread(target=deliver)
        thread.start()
        try:
            _wait(lambda: _waiting_on_ticket(postgres_url), 30, "the handler to block on the ticket table")
            os.kill(worker_pid, signal.SIGKILL)
        finally:
            lock.rollback()
            lock.close()
        thread.join(timeout=60)
        _wait(lambda: [p for p in _children(server.proc.pid) if p != worker_pid], 60, "gunicorn to respawn")
        for offset in (5, 10):  # WeCom's retries of the same MsgId
            time.sleep(max(0.0, started + offset - clock.monotonic()))
            status, reply = post_text(server.url, "m1", content, msg_id)
            assert status == 200, server.output()[-3000:]
            replies.append(reply)
        log = server.output()
    once = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "worker", "--once"], cwd=ROOT,
                          env=bot_env(), capture_output=True, text=True, timeout=120)
    assert once.returncode == 0, once.stderr
    rt = make_runtime(postgres_url)
    try:
        found = [t for t in tickets(rt) if "车棚" in t.text]
        assert len(found) == 1, log[-3000:]  # the effect happened exactly once
        number = f"#{found[0].number}"
        pushed = [str(m.get("content", "")) for m in fake_wecom.delivered.get("m1", [])]
        assert any(number in r for r in replies) or any(number in p for p in pushed), (replies, pushed)
        assert "系统繁忙" not in " ".join(replies)
        assert [r.status for r in rows(rt)] in (["done"], ["pushed"])
        assert rows(rt)[0].attempts >= 2  # taken over after the lease
    finally:
        rt.close()


def test_worker_once_reruns_a_dead_delivery_and_delivers_the_reply(backend, fake_wecom, tmp_path):
    keys = {"secret_key": "worker-test-secret", "seal_key": "worker-test-seal"}  # shared by every process
    rt = make_runtime(backend, app={"inbound_lease_seconds": 1, **keys})
    add_roster(rt)
    try:
        inbound_lease.record(rt, text("m1", "反映 电梯异响", "605"))  # its web worker died right after this
        wait_for_lease_in_real_time(rt)  # `worker --once` below is another process
    finally:
        rt.close()
    config = write_config(tmp_path / "worker.toml", fake_wecom.sections(
        database={"url": backend}, app={**keys, "spool_dir": str(tmp_path / "spool")}))
    once = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "worker", "--once"], cwd=ROOT,
                          env=bot_env(), capture_output=True, text=True, timeout=120)
    assert once.returncode == 0, once.stderr
    assert once.stdout.strip().splitlines()[-1].endswith(" queued=0")
    rt = make_runtime(backend)
    try:
        (ticket,) = tickets(rt)
        assert clock.local(ticket.created_at) == DEFAULT_NOW
        (delivered,) = fake_wecom.delivered["m1"]
        assert f"#{ticket.number}" in delivered["content"]
        assert [(r.status, r.sender, r.payload) for r in rows(rt)] == [("pushed", "", None)]
    finally:
        rt.close()


def test_clock_as_of_dates_one_thread_only():
    received = DEFAULT_NOW - dt.timedelta(days=1, hours=3)
    seen: list[dt.datetime] = []
    with clock.as_of(received):
        assert clock.now() == received
        assert clock.today() == received.date()
        other = threading.Thread(target=lambda: seen.append(clock.now()))
        other.start()
        other.join()
    assert seen == [DEFAULT_NOW]  # another thread keeps the process clock
    assert clock.now() == DEFAULT_NOW
