"""A month of delivery as a committee would live it, against the fake WeCom API (tests/fakewecom.py).

    .venv/bin/python bench/month.py [--members 300] [--days 30] [--database-url URL] [--detail]

A committee over ten branches (secretary, deputy and members each; a few members on 免打扰), a study item
every workday, check-ins, make-up requests and their decisions (one member files four on one morning),
a theme day per branch with its reminders and close, tickets (some graded 急难, some left to escalate),
duty, and notice floods (review publicity to whole branches). The clock (bot.clock, pinned as the tests
pin it) steps every 10 minutes; at each step the scheduler's jobs that are due run (`run_job`) and the
outbox worker drains. SQLite in a temporary folder by default; `--database-url postgresql://...` for
PostgreSQL (an empty database: it is migrated).

Prints, from the delivery rows: messages received per member per day by class (distribution; every row
with `--detail`), the worst delay of a timed message after its moment, timed messages sent after their
expiry (target 0), the number expired (by kind), and digests per member per day (target at most 1).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import select

from bot import clock, config, db, notify, outbox
from bot.models import Branch, Delivery, DutyShift, Member, OutboundMessage, Ticket
from bot.runtime import build
from bot.services import approvals
from bot.services.study import checkin as study_checkin
from bot.services.study import content as study_content
from bot.services.study import makeup as study_makeup
from bot.services.theme_day import core as theme_day
from bot.services.tickets import core as tickets
from bot.services.tickets import handling as ticket_handling
from scheduler import jobs
from scheduler.runner import run_job
from tests.fakewecom import FakeWecom, wecom_sections

START = dt.date(2026, 12, 1)
STEP = dt.timedelta(minutes=10)
HEAVY, HEAVY_DAY = "u0021", 8  # this member files four make-up requests on the morning of day 8 (0-based)
BODY = "学习内容正文。" * 20


def roster(rt, members: int, rng: random.Random) -> list[int]:
    """A committee over ten branches; returns the branch ids."""
    with rt.write() as s:
        top = Branch(code="dw", name="公司党委", level="committee")
        s.add(top)
        s.flush()
        branches = []
        for b in range(10):
            branch = Branch(code=f"b{b:02d}", name=f"第{b + 1}党支部", parent_id=top.id)
            s.add(branch)
            s.flush()
            branches.append(branch.id)
        s.add(Member(userid="cw1", name="委员甲", branch_id=top.id, roles="member;committee"))
        s.add(Member(userid="ed1", name="编辑乙", branch_id=top.id, roles="member;editor"))
        for i in range(members - 2):
            b = i % 10
            role = "member;secretary" if i < 10 else "member;deputy" if i < 20 else "member"
            s.add(Member(userid=f"u{i:04d}", name=f"党员{i:04d}", branch_id=branches[b], roles=role,
                         do_not_disturb=i >= 20 and rng.random() < 0.05))
    return branches


def library(rt, days: int) -> None:
    items = [study_content.validate({"slug": f"s{i:03d}", "series": "理论摘编", "title": f"第{i}期 学习要点",
                                     "summary": f"摘要{i}", "body": BODY, "status": "reviewed"})
             for i in range(days + 5)]
    with rt.session() as s:
        study_content.apply(s, items, "bench")


def plan_actions(rng: random.Random, days: int, members: int, branches: list[int]) -> dict[dt.datetime, list]:
    """(moment → actions) for the month: a seeded, repeatable script of what members and secretaries do."""
    actions: dict[dt.datetime, list] = collections.defaultdict(list)
    plain = [f"u{i:04d}" for i in range(20, members - 2)]

    def at(day: dt.date, minutes: int) -> dt.datetime:
        return clock.at(day, dt.time(0)) + dt.timedelta(minutes=minutes - minutes % 10)

    for d in range(days):
        day = START + dt.timedelta(days=d)
        if clock.is_workday(day):
            for userid in plain:
                if rng.random() < 0.7 and userid != HEAVY:  # HEAVY never checks in: four make-ups are due
                    actions[at(day, rng.randint(8 * 60, 20 * 60))].append(("checkin", userid))
            for _ in range(5):  # make-up requests, decided a few hours later
                actions[at(day, rng.randint(9 * 60, 11 * 60))].append(("makeup", rng.choice(plain)))
            for _ in range(3):
                actions[at(day, rng.randint(8 * 60, 22 * 60))].append(("ticket", rng.choice(plain)))
            if d % 7 == 2:  # review publicity to a whole branch, three notices at once
                actions[at(day, 10 * 60)].append(("review_flood", rng.choice(branches)))
        actions[at(day, 16 * 60)].append(("decide", None))
        actions[at(day, 8 * 60 + 30)].append(("duty", rng.choice(plain)))
    heavy = START + dt.timedelta(days=HEAVY_DAY)  # one member, four make-up requests approved on one morning
    actions[at(heavy, 8 * 60)].append(("heavy", HEAVY))
    for n, branch in enumerate(branches):
        publish_day = START + dt.timedelta(days=1 + n % 5)
        actions[at(publish_day, 10 * 60)].append(("theme_day", (branch, START + dt.timedelta(days=9 + n))))
    return actions


def act(rt, rng: random.Random, kind: str, arg) -> None:
    cfg = rt.config
    with rt.write() as s:
        def member(userid: str) -> Member:
            return s.exec(select(Member).where(Member.userid == userid)).one()

        if kind == "checkin":
            try:
                study_checkin.check_in(s, cfg, member(arg), "chat")
            except study_checkin.StudyError:  # on 免打扰: the card never reached them
                pass
        elif kind in ("makeup", "heavy"):
            today = clock.today()
            back = [today - dt.timedelta(days=k) for k in range(1, 8)]
            days = [d for d in back if clock.is_workday(d) and d >= START][: 4 if kind == "heavy" else 1]
            for day in days:
                try:
                    study_makeup.request_makeup(s, cfg, member(arg), day, "出差")
                except study_checkin.StudyError:  # already checked in, pending, too old: a member's mistake
                    continue
            if kind == "heavy":
                decide(s, cfg)
        elif kind == "decide":
            decide(s, cfg)
        elif kind == "ticket":
            text = f"反映：{arg} 所在楼层照明故障 {rng.randint(1, 999)}"
            ticket = tickets.report(s, cfg, member(arg), "problem", text)
            if rng.random() < 0.1:
                sec = s.exec(select(Member).where(Member.branch_id == ticket.branch_id,
                                                  Member.roles.contains("secretary"))).first()  # type: ignore[union-attr]
                if sec is not None:
                    ticket_handling.grade(s, cfg, sec, ticket.number, "急难")
        elif kind == "review_flood":
            people = list(s.exec(select(Member).where(Member.branch_id == arg, Member.active)))
            for n in range(3):
                text = f"评议公示（第{n + 1}批）：本支部党员民主评议结果已公布，请在七日内查看。"
                notify.members(s, cfg, people, text, f"bench:review:{clock.today()}:{arg}:{n}", topic="review_notice")
        elif kind == "duty":
            s.add(DutyShift(date=clock.today() + dt.timedelta(days=1), member_id=member(arg).id))
        elif kind == "theme_day":
            branch, day = arg
            sec = s.exec(select(Member).where(Member.branch_id == branch, Member.roles.contains("secretary"))).first()  # type: ignore[union-attr]
            theme_day.publish(s, cfg, sec, branch, clock.at(day, dt.time(14, 30)), "会议室",
                              "学习党的二十届四中全会精神")


def decide(s, cfg) -> None:
    from bot.models import Approval

    for request in list(s.exec(select(Approval).where(Approval.status == "pending"))):
        decider = next((m for m in approvals.deciders(s, request)), None)
        if decider is not None:
            approvals.decide(s, cfg, decider, request.number, True)


def due_jobs(rt, moment: dt.datetime) -> list[str]:
    local = clock.local(moment)
    due = []
    for job in jobs.load().values():
        kind, value = config.parse_trigger(job.trigger(rt.config))
        if kind == "interval" or value == local.time().replace(second=0, microsecond=0):
            due.append(job.id)
    return due


def report(rt, detail: bool) -> None:
    with rt.session() as s:
        rows = list(s.exec(select(Delivery, OutboundMessage).join(OutboundMessage,
                                                                  OutboundMessage.id == Delivery.message_id)))
    per = collections.Counter()
    digests = collections.Counter()
    statuses = collections.Counter()
    expired = collections.Counter()
    worst, late = dt.timedelta(0), 0
    for d, m in rows:
        statuses[d.status] += 1
        if d.status == "expired":
            expired[m.topic] += 1
        if d.status != "sent" or m.channel == "robot":
            continue
        day = clock.local(d.sent_at).date()
        per[(d.recipient, day, m.delivery_class)] += 1
        if m.topic == "notice_digest":
            digests[(d.recipient, day)] += 1
        if m.delivery_class == "timed":
            worst = max(worst, d.sent_at - max(d.not_before, m.created_at))
            late += int(m.expires_at is not None and d.sent_at > m.expires_at)
    member_days = {(r, day) for r, day, _ in per}
    print(f"deliveries by status: {dict(sorted(statuses.items()))}")
    print(f"member-days with a message: {len(member_days)}")
    print("messages received per member per day, by class (over member-days with any message):")
    for cls in ("reply", "timed", "notice", "urgent"):
        values = sorted(per.get((r, day, cls), 0) for r, day in member_days)
        if values:
            mean = sum(values) / len(values)
            print(f"  {cls:7s} mean {mean:5.2f}  p95 {values[int(len(values) * 0.95) - 1]:3d}  max {values[-1]:3d}")
    print(f"worst delay of a timed message after its moment: {worst}")
    print(f"timed messages sent after their expiry: {late}")
    print(f"expired (never sent late): {sum(expired.values())} {dict(expired)}")
    heavy = START + dt.timedelta(days=HEAVY_DAY)
    told = sorted(clock.local(d.sent_at).strftime("%m-%d %H:%M") for d, m in rows
                  if d.recipient == HEAVY and m.topic == "decision" and d.status == "sent")
    card = min((clock.local(d.sent_at) for d, m in rows if d.recipient == HEAVY and m.topic == "study_card"
                and d.status == "sent" and clock.local(d.sent_at).date() > heavy), default=None)
    print(f"{HEAVY} (four requests on {heavy}): decisions sent at {told}; next card {card:%m-%d %H:%M}"
          if card else f"{HEAVY}: decisions sent at {told}; no later card")
    most = max(digests.values(), default=0)
    print(f"digests: {sum(digests.values())} in all, at most {most} per member per day")
    if detail:
        print("recipient,day,reply,timed,notice,urgent,digests")
        for r, day in sorted(member_days):
            counts = ",".join(str(per.get((r, day, c), 0)) for c in ("reply", "timed", "notice", "urgent"))
            print(f"{r},{day},{counts},{digests.get((r, day), 0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--detail", action="store_true", help="print every member-day's counts")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/month.db"
    db.upgrade(url)
    fake = FakeWecom()
    fake.start()
    sections = wecom_sections(fake, database={"url": url}, delivery={"poll_seconds": 0.01})
    rt = build(config.from_dict({k: dict(v) for k, v in sections.items()}, {}))
    rng = random.Random(20261201)
    started = time.perf_counter()
    try:
        clock.freeze(clock.at(START, dt.time(0)))
        branches = roster(rt, args.members, rng)
        library(rt, args.days)
        actions = plan_actions(rng, args.days, args.members, branches)
        worker = outbox.Worker(rt, "bench")
        moment, end = clock.at(START, dt.time(0)), clock.at(START + dt.timedelta(days=args.days), dt.time(0))
        while moment < end:
            clock.freeze(moment)
            for kind, arg in actions.get(moment, []):
                act(rt, rng, kind, arg)
            for job_id in due_jobs(rt, moment):
                run_job(rt, job_id, clock.local(moment).date())
            worker.drain()
            moment += STEP
        with rt.session() as s:
            escalated = len([t for t in s.exec(select(Ticket)) if t.level])
        print(f"simulated {args.days} days, {args.members} members, in {time.perf_counter() - started:.0f} s "
              f"({fake.sends().__len__()} send calls to the fake API; {escalated} tickets escalated)")
        report(rt, args.detail)
    finally:
        rt.close()
        fake.stop()


if __name__ == "__main__":
    main()
