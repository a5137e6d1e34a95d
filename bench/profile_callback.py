"""cProfile of the callback path in-process (Flask test client, PostgreSQL + Redis): where a 帮助 goes.

    python bench/profile_callback.py [REQUESTS] [SORT]       (default 500, cumulative)

The inbound pool is replaced by an inline executor so that the whole pipeline runs in the profiled
thread (the thread hand-off itself is therefore not in the figures).
"""

from __future__ import annotations

import concurrent.futures
import cProfile
import pstats
import sys
import time

from _common import KEYS, REDIS, add_members, machine, pg_database

from bot import config, inbound, runtime
from bot.web import build_app
from tests.callbacks import WECOM, post_wecom, text_xml


class Inline(concurrent.futures.Executor):
    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_result(fn(*args, **kwargs))
        return future


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    order = sys.argv[2] if len(sys.argv) > 2 else "cumulative"
    machine("callback profile")
    with pg_database("profile") as url:
        userids = add_members(url, 500)
        rt = runtime.build(config.from_dict({"app": KEYS, "database": {"url": url}, "wecom": WECOM,
                                             "redis": {"url": REDIS, "prefix": f"bench:profile:{time.time()}:"}}))
        inbound.executor = lambda _rt: Inline()  # type: ignore[assignment]
        client = build_app(runtime=rt).test_client()
        for i in range(50):
            post_wecom(client, text_xml(userids[i], "帮助"))
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for i in range(count):
            assert post_wecom(client, text_xml(userids[i % len(userids)], "帮助")).status_code == 200
        profiler.disable()
        took = time.perf_counter() - started
        print(f"{count} callbacks in {took:.2f} s: {took / count * 1000:.1f} ms each (profiled; signing included)")
        pstats.Stats(profiler).sort_stats(order).print_stats(45)
        rt.close()


if __name__ == "__main__":
    main()
