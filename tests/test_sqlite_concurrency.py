"""SQLite (the embedded default) under concurrency: a real `serve --workers 2` answers 50 concurrent
callbacks without a single 5xx or 「系统繁忙」, and three concurrent deliveries of one message have one
effect, each answered with the reply or an empty 200."""

from __future__ import annotations

import concurrent.futures
import hashlib
import itertools
import sqlite3
import time

from sqlmodel import select

from bot import clock
from bot.models import InboundMessage, Ticket
from bot.web import build_app
from tests.callbacks import WECOM, post_wecom, text_xml
from tests.conftest import make_runtime
from tests.helpers import add_roster, texts_to
from tests.serve_helpers import post_text, serving, write_config

BUSY = "系统繁忙"
_ids = itertools.count(8_100_000_000_000_000_000)


def _setup(url: str, tmp_path) -> object:
    rt = make_runtime(url)
    try:
        add_roster(rt)
    finally:
        rt.close()
    return write_config(tmp_path / "serve.toml", {
        "app": {"spool_dir": str(tmp_path / "spool"), "secret_key": "sqlite-test-secret", "seal_key": "sqlite-seal"},
        "database": {"url": url}, "wecom": WECOM})


def test_fifty_concurrent_callbacks_on_two_workers_never_fail(sqlite_url, tmp_path):
    config = _setup(sqlite_url, tmp_path)
    users = ["m1", "m2", "sec", "cw"]
    words = ["免打扰", "取消免打扰", "积分", "反映 食堂饭菜太咸了", "帮助"]
    jobs = [(users[i % 4], words[i % 5], next(_ids)) for i in range(50)]
    with serving(config, 2, tmp_path / "serve.log") as server, \
            concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda job: post_text(server.url, *job), jobs))
        triple_id = next(_ids)
        triple = list(pool.map(lambda _: post_text(server.url, "m2", "反映 路灯坏了三天", triple_id), range(3)))
        deadline = clock.monotonic() + 120  # replies that missed the passive answer are pushed meanwhile
        while any(r.status == "processing" for r in _rows(sqlite_url)):
            assert clock.monotonic() < deadline, "rows still processing"
            time.sleep(0.2)
        log = server.output()
    statuses = [status for status, _ in answers + triple]
    assert statuses == [200] * 53, log[-3000:]
    assert not [text for _, text in answers + triple if BUSY in text], log[-3000:]
    assert "database is locked" not in log
    assert {text for _, text in triple} - {""}, "none of the three deliveries got the reply"
    assert len({text for _, text in triple if text}) == 1  # the same reply to each that got one
    rows = {r.dedup_key: r for r in _rows(sqlite_url)}
    assert len(rows) == 51  # 50 messages and the triple once
    for (user, word, msg_id), (_, reply) in zip(jobs, answers, strict=True):
        row = rows[hashlib.sha256(f"wecom:msg:{msg_id}".encode()).hexdigest()]
        # answered in time, or answered empty and the reply pushed through the outbox
        assert row.status == ("done" if reply else "pushed"), (user, word)
    rt = make_runtime(sqlite_url)
    try:
        with rt.session() as session:
            tickets = list(session.exec(select(Ticket)))
    finally:
        rt.close()
    assert len(tickets) == 10 + 1  # ten 反映 among the 50, the triple's one once
    assert len([t for t in tickets if "路灯" in t.text]) == 1


def _rows(url: str) -> list[InboundMessage]:
    rt = make_runtime(url)
    try:
        with rt.session() as session:
            return list(session.exec(select(InboundMessage)))
    finally:
        rt.close()


def test_a_callback_answers_while_another_process_holds_the_write_lock(sqlite_url, tmp_path):
    """Another process holds SQLite's write lock: the callback still answers (empty, in time) instead of
    hanging or failing, and the message is handled and answered through the outbox once the lock goes."""
    rt = make_runtime(sqlite_url, wecom=WECOM, app={"reply_timeout": 0.5, "spool_dir": str(tmp_path / "spool")})
    add_roster(rt)
    client = build_app(runtime=rt).test_client()
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        resp = post_wecom(client, text_xml("m1", "反映 消防通道被占", msg_id=next(_ids)))
        assert (resp.status_code, resp.data) == (200, b"")  # answered while the lock is still held
        holder.execute("ROLLBACK")
        deadline = clock.monotonic() + 60
        while not texts_to(rt, "m1"):
            assert clock.monotonic() < deadline, "the reply was never pushed"
            time.sleep(0.1)
        with rt.session() as session:
            (ticket,) = session.exec(select(Ticket)).all()
        assert f"#{ticket.number}" in texts_to(rt, "m1")[0]
    finally:
        holder.close()
        rt.close()
