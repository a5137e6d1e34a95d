"""Encrypted WeCom callbacks per second: the project's full path (verify, decrypt, dedup, route, database
write, encrypted reply) under `dangjian serve --workers 2` against the bare wechatpy app (bench/bare_app.py,
gunicorn, 2 workers, 4 threads: the project's settings), both started side by side and measured one after
the other, round by round, with the same load (C connections, R requests per round, 3 rounds, median).

    python bench/callback.py [postgresql|sqlite|both]       (default both)
    BENCH_CALLBACK_REQUESTS=R (default 1000)  BENCH_CALLBACK_CONNECTIONS=C (default 50)
    BENCH_CALLBACK_ROUNDS (default 3)  BENCH_CALLBACK_MEMBERS (default 2000)

Each request is a text 帮助 from one of the members, with its own MsgId (the project deduplicates). The
load generator (bench/loadgen.py, asyncio, one process) runs on the same 2 cores: it caps what the bare app
can show, so the ratio is, if anything, flattering to the project.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from _common import (
    KEYS,
    REDIS,
    add_members,
    env_int,
    machine,
    median,
    percentile,
    pg_database,
    python,
    start,
    stop,
    target,
    wait_http,
    write_config,
)
from loadgen import Result, request_bytes, run

from tests.callbacks import WECOM, sign_wecom, text_xml
from tests.serve_helpers import free_port

HOST = "127.0.0.1"
_msg_ids = iter(range(8_100_000_000, 9_000_000_000))


def payloads(port: int, userids: list[str], count: int) -> list[bytes]:
    made = []
    for i in range(count):
        query, body = sign_wecom(text_xml(userids[i % len(userids)], "帮助", msg_id=next(_msg_ids)))
        made.append(request_bytes(HOST, port, f"/wecom/callback?{query}", body))
    return made


@contextlib.contextmanager
def database(mode: str, folder: Path) -> Iterator[str]:
    if mode == "postgresql":
        with pg_database("callback") as url:
            yield url
        return
    url = f"sqlite:///{folder}/callback.db"
    from bot import db

    db.upgrade(url)
    yield url


@contextlib.contextmanager
def project(mode: str, folder: Path, members: int) -> Iterator[tuple[int, list[str], Path]]:
    with database(mode, folder) as url:
        userids = add_members(url, members)
        sections = {"app": KEYS, "database": {"url": url}, "wecom": WECOM}
        if mode == "postgresql":
            sections["redis"] = {"url": REDIS, "prefix": f"bench:{folder.name}:"}
        config = write_config(folder / f"{mode}.toml", sections)
        port, log = free_port(), folder / f"serve-{mode}.log"
        proc = start([python(), "-m", "bot", "--config", str(config), "serve", "--port", str(port),
                      "--workers", "2"], log)
        try:
            wait_http(f"http://{HOST}:{port}/healthz", proc, log)
            yield port, userids, log
        finally:
            stop(proc)


@contextlib.contextmanager
def bare(folder: Path) -> Iterator[int]:
    port, log = free_port(), folder / "bare.log"
    proc = start([python(), "-m", "gunicorn", "--workers", "2", "--threads", "4", "--bind", f"{HOST}:{port}",
                  "bench.bare_app:app"], log)
    try:
        wait_http(f"http://{HOST}:{port}/healthz", proc, log)
        yield port
    finally:
        stop(proc)


def show(label: str, result: Result) -> None:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(result.statuses.items()))
    print(f"  {label:8} {result.rate:7.0f}/s  p50 {percentile(result.latencies, 0.5) * 1000:6.1f} ms  "
          f"p99 {percentile(result.latencies, 0.99) * 1000:6.1f} ms  errors {result.errors}  "
          f"empty {result.empty}  ({statuses})")


def measure(mode: str, folder: Path) -> None:
    count, conns = env_int("BENCH_CALLBACK_REQUESTS", 1000), env_int("BENCH_CALLBACK_CONNECTIONS", 50)
    rounds, members = env_int("BENCH_CALLBACK_ROUNDS", 3), env_int("BENCH_CALLBACK_MEMBERS", 2000)
    print(f"-- {mode}: {rounds} rounds x {count} requests, {conns} connections, {members} members")
    with bare(folder) as bare_port, project(mode, folder, members) as (port, userids, log):
        run(HOST, bare_port, payloads(bare_port, userids, 100), conns)  # warm-up, not counted
        run(HOST, port, payloads(port, userids, 100), conns)
        ours, floor = [], []
        for i in range(rounds):
            floor.append(run(HOST, bare_port, payloads(bare_port, userids, count), conns))
            show(f"bare {i + 1}", floor[-1])
            ours.append(run(HOST, port, payloads(port, userids, count), conns))
            show(f"ours {i + 1}", ours[-1])
        failures = log.read_text(errors="replace").count("Traceback")
    rate, floor_rate = median([r.rate for r in ours]), median([r.rate for r in floor])
    p99 = median([percentile(r.latencies, 0.99) for r in ours]) * 1000
    errors = sum(r.errors for r in ours)
    ratio = rate / floor_rate
    print(f"{mode}: project {rate:.0f}/s, bare {floor_rate:.0f}/s, ratio {ratio:.2f}, project p99 {p99:.0f} ms "
          f"(median of rounds), errors {errors}, tracebacks in the server log {failures}")
    if mode == "postgresql":
        target(f"ratio >= 0.5: {ratio:.2f}", ratio >= 0.5)
        target(f"p99 < 100 ms: {p99:.0f} ms", p99 < 100)
    else:
        target(f"SQLite ratio reported: {ratio:.2f}", None)
    target(f"zero errors ({mode}): {errors}", errors == 0)


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "both"
    machine("callback throughput")
    for each in ("postgresql", "sqlite") if mode == "both" else (mode,):
        with tempfile.TemporaryDirectory() as tmp:
            measure(each, Path(tmp))


if __name__ == "__main__":
    main()
