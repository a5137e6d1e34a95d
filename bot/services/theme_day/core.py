"""主题党日: publish / postpone / cancel, RSVP (参加 / 请假 → approval kind "leave"), sign-in codes, 出勤.

Times are stored as aware UTC and shown in local time. The sign-in code (4 digits) is valid from
`start - [theme_day] signin_opens_min` to `start + duration_hours`; a sign-in after
`start + late_after_min` is late. Publish, postpone, cancel and the
reminders go to the branch's active members through the outbox as timed messages (quiet hours apply, not
the budget; members on 免打扰 get them too; they expire at the start, see bot.outbox.classes) and, when the
branch has a `[robot.webhooks]` entry, to its group robot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from bot import audit, clock, notify, outbox, texts
from bot.models import Approval, Attendance, Branch, Member, ThemeDay
from bot.services import approvals
from bot.services.theme_day.agenda import (
    ONLINE_PLACES,
    ThemeDayError,
    detail_lines,
    online_text,
    split_topic,
    take_link,
)

OPEN = ("scheduled", "postponed")
MAX_WRONG_CODES = 5  # wrong sign-in codes per member and event before 签到 is refused
LEAVE_TIMED = dt.timedelta(hours=36)  # a leave for an event starting within this goes to the deciders at once


def when(event: ThemeDay) -> str:
    return clock.local(event.starts_at).strftime("%Y-%m-%d %H:%M")


def window(config: Any, event: ThemeDay) -> tuple[dt.datetime, dt.datetime]:
    start = clock.local(event.starts_at)
    return (start - dt.timedelta(minutes=config.theme_day.signin_opens_min),
            start + dt.timedelta(hours=config.theme_day.duration_hours))


def branch_members(session: Session, branch_id: int) -> list[Member]:
    """The branch's active members (those on 免打扰 too: the branch's event messages still reach them)."""
    stmt = select(Member).where(Member.branch_id == branch_id, Member.active).order_by(col(Member.id))
    return list(session.exec(stmt))


def push(session: Session, config: Any, event: ThemeDay, people: list[Member], text: str, key: str, *,
         topic: str, anchor: dt.datetime | None = None, robot: bool = False) -> int:
    """Queue `text` (a message of kind `topic`, expiring by `anchor`: see bot.outbox.classes) for the members
    (idempotent by key) and, with `robot`, for the branch's group robot."""
    count = notify.members(session, config, people, text, key, topic=topic, anchor=anchor)
    branch = session.get(Branch, event.branch_id)
    hooks = config.robot.webhooks
    if robot and branch is not None and branch.code in hooks:
        markdown = f"**{texts.t('theme_day.robot_title')}｜{branch.name}**\n" + text
        outbox.enqueue(session, channel="robot", kind="markdown", payload={"content": markdown}, topic=topic,
                       recipients=[branch.code], key=f"{key}:robot", anchor=anchor, config=config)
    return count


def _notice(event: ThemeDay) -> str:
    topic = "\n".join([event.topic, *detail_lines(event)])  # 议程 / 嘉宾 right under the topic line
    return texts.t("theme_day.notice", number=event.number, when=when(event), place=event.place,
                   online=online_text(event), topic=topic)


def publish(session: Session, config: Any, actor: Member, branch_id: int | None, starts: dt.datetime, place: str,
            topic: str) -> tuple[ThemeDay, int]:
    """发布主题党日 with typed values (bot.router.args parses the chat's date, time and place): `topic` may
    carry ` 议程：学 会…` and ` 嘉宾：…` (theme_day_agenda.split_topic)."""
    if branch_id is None:
        raise ThemeDayError(texts.t("theme_day.no_branch"))
    if not place.strip():
        raise ThemeDayError(texts.t("theme_day.usage_publish"))
    place, link, topic = take_link(place, topic.strip())
    topic, agenda, guests = split_topic(topic)
    if not topic:
        raise ThemeDayError(texts.t("theme_day.usage_publish"))
    return create(session, config, actor.userid, branch_id, starts, place, topic, agenda=agenda, guests=guests,
                  link=link)


def create(session: Session, config: Any, actor: str, branch_id: int, starts: dt.datetime, place: str, topic: str,
           *, agenda: str | None = None, guests: str | None = None, online: bool | None = None,
           link: str | None = None) -> tuple[ThemeDay, int]:
    """Save a theme day and notify the branch at once (chat and console both come here). An event with a
    meeting link is online."""
    place, topic = place.strip()[:64], topic.strip()[:200]
    online = (place.lower() in ONLINE_PLACES or link is not None) if online is None else online
    event = ThemeDay(number=approvals.next_number(session, "theme_day"), branch_id=branch_id, starts_at=starts,
                     place=place, topic=topic, online=online, link=link, agenda=agenda, guests=guests,
                     created_by=actor[:64], created_at=clock.now())
    session.add(event)
    session.flush()
    audit.record(session, actor, "theme_day_publish", f"#{event.number}", f"{when(event)} {place} {topic}")
    count = push(session, config, event, branch_members(session, branch_id), _notice(event),
                 f"theme_day:{event.number}:notice", topic="theme_day_publish", anchor=event.starts_at, robot=True)
    return event, count


def branch_event(session: Session, actor: Member, branch_id: int | None, number: int) -> ThemeDay:
    """Event `number` of the branch the command acts on (any branch for the committee)."""
    event = approvals.find_numbered(session, ThemeDay, number)
    if event is None or (event.branch_id != branch_id and not actor.has_role("committee")):
        raise ThemeDayError(texts.t("theme_day.not_found", number=number))
    return event


def find(session: Session, actor: Member, branch_id: int | None, number: int) -> ThemeDay:
    """Event `number` of the branch the command acts on (any branch for the committee), still open."""
    event = branch_event(session, actor, branch_id, number)
    if event.status not in OPEN or event.closed_at is not None:
        raise ThemeDayError(texts.t("theme_day.closed", number=event.number, status=_status(event.status)))
    return event


def _status(status: str) -> str:
    return {"cancelled": "取消", "held": "召开"}.get(status, status)


def reschedule(session: Session, config: Any, actor: str, event: ThemeDay, starts: dt.datetime) -> tuple[ThemeDay, int]:
    original = event.starts_at  # the postponement notice expires at the start members were told before
    event.starts_at, event.status, event.signin_code = starts, "postponed", None
    session.add(event)
    audit.record(session, actor, "theme_day_postpone", f"#{event.number}", when(event))
    text = texts.t("theme_day.postponed_notice", number=event.number, topic=event.topic, when=when(event),
                   place=event.place, online=online_text(event))
    stamp = clock.local(event.starts_at).strftime("%Y%m%d%H%M")
    count = push(session, config, event, branch_members(session, event.branch_id), text,
                 f"theme_day:{event.number}:postponed:{stamp}", topic="theme_day_postpone", anchor=original,
                 robot=True)
    return event, count


def drop(session: Session, config: Any, actor: str, event: ThemeDay) -> tuple[ThemeDay, int]:
    event.status = "cancelled"
    session.add(event)
    audit.record(session, actor, "theme_day_cancel", f"#{event.number}", "")
    text = texts.t("theme_day.cancelled_notice", number=event.number, topic=event.topic, when=when(event))
    count = push(session, config, event, branch_members(session, event.branch_id), text,
                 f"theme_day:{event.number}:cancelled", topic="theme_day_cancel", anchor=event.starts_at,
                 robot=True)
    return event, count


def current(session: Session, config: Any, branch_id: int | None) -> ThemeDay | None:
    """The branch's next event whose sign-in window has not ended (ongoing or upcoming)."""
    if branch_id is None:
        return None
    earliest = clock.now() - dt.timedelta(hours=config.theme_day.duration_hours)
    stmt = (select(ThemeDay).where(ThemeDay.branch_id == branch_id, col(ThemeDay.status).in_(OPEN),
                                   col(ThemeDay.closed_at).is_(None), ThemeDay.starts_at > earliest)
            .order_by(col(ThemeDay.starts_at)))
    return session.exec(stmt).first()


def last_started(session: Session, branch_id: int | None) -> ThemeDay | None:
    if branch_id is None:
        return None
    stmt = (select(ThemeDay).where(ThemeDay.branch_id == branch_id, ThemeDay.status != "cancelled",
                                   ThemeDay.starts_at <= clock.now()).order_by(col(ThemeDay.starts_at).desc()))
    return session.exec(stmt).first()


def row(session: Session, event: ThemeDay, member: Member) -> Attendance:
    found = session.exec(select(Attendance).where(Attendance.event_id == event.id,
                                                  Attendance.member_id == member.id)).first()
    if found is None:
        assert event.id is not None  # rows from the session
        assert member.id is not None
        found = Attendance(event_id=event.id, member_id=member.id)
        session.add(found)
        session.flush()
    return found


def _upcoming(session: Session, config: Any, member: Member) -> ThemeDay:
    event = current(session, config, member.branch_id)
    if event is None:
        raise ThemeDayError(texts.t("theme_day.none_upcoming"))
    return event


def attend(session: Session, config: Any, member: Member) -> tuple[ThemeDay, bool]:
    """参加 the branch's next event: the event, and whether the member was already expected."""
    event = _upcoming(session, config, member)
    entry = row(session, event, member)
    already, entry.rsvp = entry.rsvp == "going", "going"
    session.add(entry)
    return event, already


@dataclass(frozen=True)
class Leave:
    event: ThemeDay
    state: str  # "sent" (request `number` made now), "pending" (made earlier, waiting), "approved" (excused)
    number: int | None


def request_leave(session: Session, config: Any, member: Member, reason: str) -> Leave:
    """请假: asks the deciders to excuse the member from the branch's next event (time-bound when it is near)."""
    if not reason.strip():
        raise ThemeDayError(texts.t("theme_day.leave_usage"))
    event = _upcoming(session, config, member)
    entry = row(session, event, member)
    if entry.rsvp in ("leave", "leave_pending"):  # excused already, or asked and waiting
        return Leave(event, "approved" if entry.rsvp == "leave" else "pending", entry.leave_number)
    summary = texts.t("theme_day.leave_summary", name=member.name, event=event.number, when=when(event),
                      reason=reason.strip()[:100])
    request = approvals.create(session, "leave", member, summary,  # the reason also lets `forget` find copies
                               {"event_id": event.id, "event": event.number, "reason": reason.strip()[:100]})
    entry.rsvp, entry.leave_number = "leave_pending", request.number
    session.add(entry)
    soon = event.starts_at - clock.now() <= LEAVE_TIMED  # time-bound: the deciders hear at once
    approvals.announce(session, config, request, timed_until=event.starts_at if soon else None)
    return Leave(event, "sent", request.number)


def _decided(rsvp: str):
    def apply(session: Session, request: Approval, decider: Member, config: Any) -> None:
        event_id = approvals.payload(request).get("event_id")
        entry = session.exec(select(Attendance).where(Attendance.event_id == event_id,
                                                      Attendance.member_id == request.member_id)).first()
        if entry is not None and entry.leave_number == request.number:
            entry.rsvp = rsvp
            session.add(entry)
            if rsvp == "leave_rejected":  # the event may have closed counting it as excused
                from bot.services.theme_day.jobs import leave_rejected

                leave_rejected(session, config, entry)

    return apply


APPROVAL_KIND = approvals.Kind("leave", "theme_day.label_leave", _decided("leave"), _decided("leave_rejected"))
