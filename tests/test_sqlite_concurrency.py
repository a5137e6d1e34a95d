"""SQLite (the embedded default) under concurrency: a real `serve --workers 2` answers 50 concurrent
callbacks without a single 5xx or 「系统繁忙」, and three concurrent deliveries of one message have one
effect, each answered with the reply or an empty 200."""

from __future__ import annotations

import concurrent.futures
import itertools

from sqlmodel import select

from bot.models import InboundMessage, Ticket
from tests.callbacks import WECOM
from tests.conftest import make_runtime
from tests.helpers import add_roster
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
        "app": {"spool_dir": str(tmp_path / "spool")}, "database": {"url": url}, "wecom": WECOM})


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
        log = server.output()
    statuses = [status for status, _ in answers + triple]
    assert statuses == [200] * 53, log[-3000:]
    assert not [text for _, text in answers + triple if BUSY in text], log[-3000:]
    assert "database is locked" not in log
    replies = [text for _, text in answers]
    assert sum(1 for text in replies if text) >= 40  # most answered in time (the rest are pushed later)
    assert {text for _, text in triple} - {""}, "none of the three deliveries got the reply"
    assert len({text for _, text in triple if text}) == 1  # the same reply to each that got one
    rt = make_runtime(sqlite_url)
    try:
        with rt.session() as session:
            tickets = list(session.exec(select(Ticket)))
            rows = list(session.exec(select(InboundMessage)))
    finally:
        rt.close()
    assert len(rows) == 51  # 50 messages and the triple once
    assert {r.status for r in rows} <= {"done", "pushed"}
    assert len(tickets) == 10 + 1  # ten 反映 among the 50, the triple's one once
    assert len([t for t in tickets if "路灯" in t.text]) == 1
