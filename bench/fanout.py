"""The morning push to N members: `dangjian run-job morning_study` then two `dangjian worker` processes
on PostgreSQL deliver the study card through the fake WeCom API (tests/fakewecom.py, in this process).

    python bench/fanout.py [N]        (default 300,000; BENCH_FANOUT_N)

Prints the time from the job's start to the last delivery row sent (and the job alone), the API calls,
the delivery rows and duplicates (a member given the card twice, or a send the fake's duplicate check
dropped). Targets for 300,000: < 30 s, <= 305 API calls, 300,000 delivery rows, zero duplicates.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import KEYS, add_members, bot_env, env_int, machine, pg_database, python, start, stop, target, write_config

from tests.fakewecom import FakeWecom

NOW = "2026-11-25T07:50:00"  # a Wednesday (workday)
DAY = NOW[:10]


def seed_item(url: str) -> None:
    from bot import config, runtime
    from bot.services.study import content as study_content

    rt = runtime.build(config.from_dict({"database": {"url": url}}))
    item = study_content.validate({"slug": "bench", "series": "理论摘编", "title": "今日学习", "summary": "摘要",
                                   "body": "学习内容正文。" * 20, "status": "reviewed"})
    with rt.session() as session:
        study_content.apply(session, [item], "bench")
    rt.close()


def delivery_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM delivery GROUP BY status").fetchall())


def unsent(url: str) -> int:
    """Rows still queued or sending: read along the claim index (status, not_before), so polling it five
    times a second does not itself load the database the workers write to (a GROUP BY over every row did)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM delivery WHERE status IN ('queued', 'sending')").fetchone()
        return int(row[0]) if row else 0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else env_int("BENCH_FANOUT_N", 300_000)
    machine(f"morning push to {n:,} members")
    fake = FakeWecom()
    fake.start()
    with tempfile.TemporaryDirectory() as tmp, pg_database("fanout") as url:
        folder = Path(tmp)
        started = time.perf_counter()
        add_members(url, n, branches=max(1, n // 300))
        seed_item(url)
        print(f"setup (COPY {n:,} members, study item): {time.perf_counter() - started:.1f} s")
        config = write_config(folder / "fanout.toml", {
            "app": KEYS, "database": {"url": url},
            "wecom": {"corp_id": "wwfake", "agent_id": 1000002, "secret": "fake-secret", "api_base_url": fake.url},
            "delivery": {"poll_seconds": 0.2}})
        env = bot_env(DANGJIAN_NOW=NOW)
        workers = [start([python(), "-m", "bot", "--config", str(config), "worker"], folder / f"worker{i}.log",
                         env) for i in range(2)]
        try:
            time.sleep(3)  # both workers up and polling before the clock starts
            started = time.perf_counter()
            job = subprocess.run([python(), "-m", "bot", "--config", str(config), "run-job", "morning_study",
                                  "--date", DAY], env=env, capture_output=True, text=True, check=False)
            job_seconds = time.perf_counter() - started
            print(f"run-job: {job.stdout.strip() or job.stderr.strip()[-500:]} ({job_seconds:.1f} s)")
            deadline = time.monotonic() + max(120.0, n / 1000)
            while time.monotonic() < deadline and unsent(url):  # run-job has committed every row by now
                time.sleep(0.2)
            total = time.perf_counter() - started
            counts = delivery_counts(url)
        finally:
            for proc in workers:
                stop(proc)
        fake.stop()
        calls = len(fake.sends())
        given = sum(len(v) for v in fake.delivered.values())
        twice = sum(1 for v in fake.delivered.values() if len(v) > 1)
        duplicates = twice + len(fake.duplicates)
        rows = sum(counts.values())
        print(f"{n:,} members: {total:.1f} s from run-job to the last delivery sent (job alone {job_seconds:.1f} s); "
              f"{calls} API calls; delivery rows {rows:,} {counts}; cards received {given:,} by "
              f"{len(fake.delivered):,} members; duplicates {duplicates}")
        if n >= 300_000:
            target(f"300,000 members < 30 s: {total:.1f} s", total < 30)
        else:
            print(f"(N = {n:,} is below the target size: linear extrapolation to 300,000 would be "
                  f"{total * 300_000 / n:.0f} s, an upper bound since process start-up does not grow with N)")
            target(f"300,000 members < 30 s: not measured at this N ({total:.1f} s for {n:,})", None)
        limit = max(305, n // 1000 + 5) if n >= 300_000 else n // 1000 + 5
        target(f"<= {limit} API calls: {calls}", calls <= limit)
        target(f"{n:,} delivery rows, all sent: {counts.get('sent', 0):,}", counts.get("sent", 0) == n == rows)
        target(f"zero duplicates: {duplicates}", duplicates == 0)


if __name__ == "__main__":
    main()
