"""Figures for the message path: outbox enqueue and drain for N recipients, and callback latency.

    .venv/bin/python bench/pipeline.py [N] [database-url]

Prints measured figures; asserts nothing (this machine is shared and noisy). Default: 30,000 recipients
on a temporary SQLite database. Drain uses the console sender with its output discarded.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import clock, config, db, outbox
from bot.models import Member
from bot.runtime import build
from bot.web import build_app
from tests.callbacks import WECOM, post_wecom, text_xml


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    db.upgrade(url)
    rt = build(config.from_dict({"database": {"url": url}, "delivery": {"quiet_hours": ""}}))
    recipients = [f"u{i:06d}" for i in range(n)]
    started = time.perf_counter()
    with rt.session() as session:
        outbox.enqueue(session, channel="console", kind="text", payload={"content": "今日学习"},
                       topic="study_reminder", anchor=clock.today(),
                       recipients=recipients, key=f"bench:{time.time()}", config=rt.config)
    print(f"enqueue {n} recipients: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        counts = outbox.Worker(rt, "bench").drain()
    print(f"drain {n} deliveries (console sender): {time.perf_counter() - started:.2f} s, {dict(counts)}")

    cfg = config.from_dict({"database": {"url": url}, "wecom": WECOM})
    app_rt = build(cfg)
    with app_rt.session() as session:
        session.add(Member(userid="bench1", name="压测"))
    client = build_app(runtime=app_rt).test_client()
    times = []
    for _ in range(300):
        t0 = time.perf_counter()
        resp = post_wecom(client, text_xml("bench1", "帮助"))
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200
    times.sort()
    print(f"callback 帮助 x{len(times)}: p50 {statistics.median(times):.1f} ms, "
          f"p95 {times[int(len(times) * 0.95)]:.1f} ms (in-process, one thread)")
    rt.close()
    app_rt.close()


if __name__ == "__main__":
    main()
