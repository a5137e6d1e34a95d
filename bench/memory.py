"""Memory of one gunicorn web worker with jieba loaded: PSS and RSS from /proc/<pid>/smaps_rollup.

    python bench/memory.py

Starts `dangjian serve --workers 2` (SQLite, a temporary directory), sends a few signed callbacks so both
workers have served the chat path, then reads each worker's smaps_rollup (PSS counts a page shared with
the master and the other worker by its share).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _common import KEYS, machine, python, start, stop, target, wait_http, write_config

from tests.callbacks import WECOM
from tests.serve_helpers import free_port, post_text

TARGET_PSS = 100


def rollup(pid: int) -> dict[str, int]:
    """kB figures of /proc/<pid>/smaps_rollup."""
    figures = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        figures[name.strip()] = int(rest.split()[0])
    return figures


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def main() -> None:
    machine("web worker memory")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder / "bench.toml", {"app": KEYS, "database": {"url": f"sqlite:///{folder}/m.db"},
                                                       "wecom": WECOM})
        port = free_port()
        log = folder / "serve.log"
        proc = start([python(), "-m", "bot", "--config", str(config), "init-db"], log)
        proc.wait()
        proc = start([python(), "-m", "bot", "--config", str(config), "serve", "--port", str(port), "--workers", "2"],
                     log)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_http(f"{url}/healthz", proc, log)
            for i in range(20):
                post_text(url, "nobody", "你好，怎么请假", 9_100_000 + i)
            master = proc.pid
            workers = children(master)
            m = rollup(master)
            print(f"master  pid {master}: RSS {m['Rss'] / 1024:.0f} MB, PSS {m['Pss'] / 1024:.0f} MB")
            pss = []
            for pid in workers:
                w = rollup(pid)
                pss.append(w["Pss"] / 1024)
                print(f"worker  pid {pid}: RSS {w['Rss'] / 1024:.0f} MB, PSS {w['Pss'] / 1024:.0f} MB "
                      f"(shared clean {(w.get('Shared_Clean', 0)) / 1024:.0f} MB, private dirty "
                      f"{w.get('Private_Dirty', 0) / 1024:.0f} MB)")
            worst = max(pss)
            target(f"one web worker < {TARGET_PSS} MB PSS: {worst:.0f} MB", worst < TARGET_PSS)
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
