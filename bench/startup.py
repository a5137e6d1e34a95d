"""One-shot CLI start-up: `dangjian jobs` (python -m bot jobs), median of several runs, next to a bare
`python -c pass` measured in the same run.

    python bench/startup.py [RUNS]        (default 7; BENCH_STARTUP_RUNS)
"""

from __future__ import annotations

import subprocess
import sys
import time

from _common import bot_env, env_int, machine, median, python, target

TARGET = 0.5


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=bot_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else env_int("BENCH_STARTUP_RUNS", 7)
    machine("CLI start-up")
    bare = median([timed([python(), "-c", "pass"]) for _ in range(runs)])
    jobs = median([timed([python(), "-m", "bot", "jobs"]) for _ in range(runs)])
    say_help = median([timed([python(), "-m", "bot", "say", "--help"]) for _ in range(runs)])
    print(f"python -c pass        median of {runs}: {bare:.3f} s")
    print(f"dangjian jobs         median of {runs}: {jobs:.3f} s")
    print(f"dangjian say --help   median of {runs}: {say_help:.3f} s (loads the chat path: jieba, router)")
    target(f"dangjian jobs < {TARGET} s: {jobs:.3f} s", jobs < TARGET)


if __name__ == "__main__":
    main()
