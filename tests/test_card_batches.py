"""The morning card's task_id: one per batch (WeCom refuses a task_id it has seen, errcode 42014), kept by
the batch when it is resent, and a resend refused as "task id exists" counts as delivered."""

from __future__ import annotations

import collections
import time

from sqlmodel import select

from bot import clock, outbox
from bot.models import Delivery, Member, OutboundMessage
from bot.services.study import push as study_push
from scheduler.runner import run_job
from tests.study_helpers import add_items, item
from tests.test_worker_process import _rows, _worker, _write_config

pytest_plugins = ("tests.fakewecom",)
DAY = "2026-11-25"


def _roster(rt, n: int) -> list[str]:
    userids = [f"u{i:05d}" for i in range(n)]
    with rt.session() as s:
        s.add_all(Member(userid=u, name=f"党员{i}") for i, u in enumerate(userids))
    return userids


def _card_calls(fake) -> list[dict]:
    return [c["body"] for c in fake.sends() if c["body"]["msgtype"] == "template_card"]


def test_2500_member_push_has_one_task_id_per_batch_and_reaches_everyone(make_rt, fake_wecom):
    rt = make_rt()
    userids = _roster(rt, 2500)
    add_items(rt, item("a1"))
    assert run_job(rt, "morning_study", clock.today()) == "done"
    stats = outbox.Worker(rt, "w").drain()
    assert (stats["sent"], stats["failed"], stats["retried"]) == (2500, 0, 0)
    calls = _card_calls(fake_wecom)
    assert [c["touser"].count("|") + 1 for c in calls] == [1000, 1000, 500]
    task_ids = [c["template_card"]["task_id"] for c in calls]
    assert task_ids == [f"study-{DAY}-1", f"study-{DAY}-2", f"study-{DAY}-3"]
    assert fake_wecom.refused_task_ids == []
    assert sorted(fake_wecom.delivered) == userids
    assert all(len(cards) == 1 for cards in fake_wecom.delivered.values())
    with rt.session() as s:
        batches = collections.Counter(d.batch for d in s.exec(select(Delivery)))
    assert sorted(batches.values()) == [500, 1000, 1000]
    assert sorted(f"study-{DAY}-{b}" for b in batches) == sorted(task_ids)


def test_the_fake_refuses_a_reused_task_id_even_without_the_duplicate_check(make_rt, fake_wecom):
    rt = make_rt()
    sender = outbox.sender_for(rt, "wecom")
    card = {"card_type": "button_interaction", "task_id": "t-1", "main_title": {"title": "x"}}
    assert sender.send("template_card", card, ["a"]).sent == ["a"]
    sender.duplicate_check_interval = 0  # type: ignore[attr-defined]
    other = {**card, "main_title": {"title": "another card, same task_id"}}
    result = sender.send("template_card", other, ["b"])  # refused with 42014: taken as already sent
    assert result.sent == ["b"]
    assert fake_wecom.refused_task_ids == ["t-1"]
    assert "b" not in fake_wecom.delivered


def test_killed_worker_resends_its_batch_under_the_same_task_id(backend, fake_wecom, tmp_path):
    """A worker is killed while the platform takes its first batch; the restarted worker resends that batch
    with the same task_id, WeCom answers "task id exists", and the rows count as sent: nobody gets the
    card twice and nobody is left without it."""
    delivery = {"batch_size": 5, "lease_seconds": 1.0, "poll_seconds": 0.1}
    from tests.conftest import make_runtime

    rt = make_runtime(backend, **fake_wecom.sections(delivery=delivery))
    try:
        users = _roster(rt, 12)
        add_items(rt, item("a1"))
        with rt.session() as s:
            study_push.morning(s, rt.config, clock.today())
    finally:
        rt.close()
    config = _write_config(tmp_path / "worker.toml", backend, fake_wecom, delivery=delivery)
    fake_wecom.delay(0.6, times=1)  # the first batch is in flight when the kill lands
    proc = _worker(config)
    try:
        assert fake_wecom.wait_for(fake_wecom.SEND, 1, timeout=30), "no send within 30 s"
        time.sleep(0.2)
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    rows = _rows(backend)
    in_flight = [r for r in rows if r.status == "sending"]
    assert len(in_flight) == 5
    assert {r.batch for r in in_flight} == {1}
    first_task_id = f"study-{DAY}-1"
    deadline = time.monotonic() + 5  # the platform still processes the batch the dead worker sent
    while len(fake_wecom.delivered) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(max(0.0, max(r.lease_until for r in rows) - clock.wall() + 0.05))
    restarted = _worker(config, "--once")
    out, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err
    assert out.strip().splitlines()[-1] == "sent=12 failed=0 expired=0 queued=0"
    assert {(r.status, r.attempts) for r in _rows(backend)} == {("sent", 1)}
    assert fake_wecom.refused_task_ids == [first_task_id]
    assert sorted(fake_wecom.delivered) == users
    assert all(len(cards) == 1 for cards in fake_wecom.delivered.values())
    assert len(fake_wecom.task_ids) == 3


def test_a_resent_batch_goes_whole_even_when_the_claim_limit_would_cut_it(make_rt, fake_wecom):
    rt = make_rt(delivery={"batch_size": 5, "lease_seconds": 0.3})
    users = _roster(rt, 8)
    add_items(rt, item("a1"))
    with rt.session() as s:
        study_push.morning(s, rt.config, clock.today())
        message = s.exec(select(OutboundMessage)).one()
    dead = outbox.Worker(rt, "dead")
    claimed = dead._claim()
    [(_, formed, number)] = dead._batches(message, claimed, 5)  # batch formed, then the process "dies"
    assert len(formed) == 5
    clock.skip(0.31)  # the dead worker's lease runs out
    narrow = make_rt(delivery={"batch_size": 3})  # restarted with a smaller claim: 3 rows of the 5
    assert outbox.Worker(narrow, "alive").drain()["sent"] == 8
    calls = _card_calls(fake_wecom)
    assert calls[0]["template_card"]["task_id"] == f"study-{DAY}-{number}"
    assert calls[0]["touser"].split("|") == [r.recipient for r in formed]
    assert sorted(fake_wecom.delivered) == users
    assert fake_wecom.refused_task_ids == []


def test_task_id_is_validated_at_enqueue(make_rt):
    rt = make_rt()
    import pytest

    with rt.session() as s, pytest.raises(ValueError, match="task_id"):
        outbox.enqueue(s, channel="wecom", kind="template_card", payload={"task_id": "学习 1"}, recipients=["a"],
                       topic="task", config=rt.config)


def test_a_failed_card_row_requeued_goes_under_a_new_task_id(make_rt, fake_wecom):
    rt = make_rt()
    _roster(rt, 3)
    add_items(rt, item("a1"))
    fake_wecom.invalid_users({"u00000"})  # the batch's first row: its new task_id must still differ
    with rt.session() as s:
        study_push.morning(s, rt.config, clock.today())
    assert outbox.Worker(rt, "w").drain()["failed"] == 1
    fake_wecom.invalid_users(set())  # the member was added to the app's visible range
    with rt.session() as s:
        failed = s.exec(select(Delivery).where(Delivery.status == "failed")).one()
        assert failed.recipient == "u00000"
        assert outbox.requeue(s, [failed.id]) == 1
    assert outbox.Worker(rt, "w").drain()["sent"] == 1
    assert [c["template_card"]["task_id"] for c in _card_calls(fake_wecom)] == [
        f"study-{DAY}-1", f"study-{DAY}-2"]
    assert fake_wecom.refused_task_ids == []
    assert len(fake_wecom.delivered["u00000"]) == 1


def test_two_workers_share_a_card_push_on_postgresql(postgres_url, fake_wecom):
    """Concurrent claimers number their batches from the message's counter: no task_id is taken twice."""
    import threading

    from tests.conftest import make_runtime

    runtimes = [make_runtime(postgres_url, **fake_wecom.sections(delivery={"batch_size": 50})) for _ in range(2)]
    try:
        users = _roster(runtimes[0], 600)
        add_items(runtimes[0], item("a1"))
        with runtimes[0].session() as s:
            study_push.morning(s, runtimes[0].config, clock.today())
        stats: list[collections.Counter[str]] = []
        threads = [threading.Thread(target=lambda rt=rt, n=n: stats.append(outbox.Worker(rt, f"w{n}").drain()))
                   for n, rt in enumerate(runtimes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert sum(s["sent"] for s in stats) == 600
        task_ids = [c["template_card"]["task_id"] for c in _card_calls(fake_wecom)]
        assert sorted(task_ids) == sorted(f"study-{DAY}-{n}" for n in range(1, 13))
        assert fake_wecom.refused_task_ids == []
        assert sorted(fake_wecom.delivered) == users
        assert all(len(cards) == 1 for cards in fake_wecom.delivered.values())
    finally:
        for rt in runtimes:
            rt.close()
