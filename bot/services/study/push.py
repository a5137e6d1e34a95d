"""What goes out: the morning card, 学习's answer, the noon reminder and the editors' gap alert.

Each push is one outbox message keyed by its date (`study:D:<channel>`, `study_reminder:D:<channel>`,
`study_gap:D:<channel>`), so running a job again for the same date never duplicates anything. On a 温故 day
(nothing reviewed left: an earlier item is sent again, see bot.services.study.core) the title carries 「温故」.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false
from sqlmodel import Session, col, func, select

from bot import clock, notify, texts
from bot.models import Branch, CheckIn, Member, StudyItem, StudyReceipt
from bot.services.study import checkin as study_checkin
from bot.services.study import core as study


def title(item: StudyItem, review: bool = False) -> str:
    """The item's title as members see it: marked 「温故」 on a review day."""
    return texts.t("study.review_title", title=item.title) if review else item.title


def card(config: Any, item: StudyItem, day: dt.date, review: bool = False) -> dict[str, Any]:
    """A WeCom template card (button_interaction): opens the page; the 已学 button checks in."""
    return {
        "card_type": "button_interaction",
        "source": {"desc": texts.t("study.card_source")},
        "main_title": {"title": title(item, review), "desc": f"{item.series} · {day.month}月{day.day}日"},
        "sub_title_text": item.summary,
        "card_action": {"type": 1, "url": study.page_url(config, item)},
        "task_id": f"study-{day.isoformat()}",
        "button_list": [{"text": texts.t("study.card_button"), "style": 1, "key": f"checkin:{day.isoformat()}"}],
    }


@dataclass(frozen=True)
class Today:
    """学习's answer: today's item (marked 温故 on a review day) and its page, or none — on a rest day `next`
    is the next workday."""
    item: StudyItem | None
    url: str = ""
    review: bool = False
    next: dt.date | None = None


def show_today(session: Session, config: Any, member: Member) -> Today:
    """学习: today's title, summary and link; the item now counts as sent to the member."""
    day = clock.today()
    if not clock.is_workday(day):
        return Today(None, next=clock.next_workday(day))
    item = study.item_for(session, day)
    if item is None:
        return Today(None)
    study.publish(session, item)
    assert member.id is not None  # a member row from the session
    study_checkin.record_receipts(session, [member.id], day, "chat")
    return Today(item, study.page_url(config, item), study.is_review(session, day))


def audience(session: Session) -> Any:
    """Active members the morning push is for, as a query of their ids (no member is loaded): branch push on
    (those on 免打扰 too: their card is recorded as held, `skipped`, by the outbox)."""
    return (select(Member.id).outerjoin(Branch, col(Branch.id) == Member.branch_id)
            .where(Member.active)
            .where((col(Branch.id).is_(None)) | (Branch.push_enabled)))


def _queue(session: Session, config: Any, people: list[Member], kind: str, payload: dict[str, Any],
           key: str, day: dt.date, topic: str) -> int:
    return notify.fanout(session, config, people, topic=topic, key=key, kind=kind, payload=payload, anchor=day,
                         created_by="scheduler")


def morning(session: Session, config: Any, day: dt.date) -> tuple[StudyItem | None, int]:
    """Queue the day's card for everyone in `audience`; (item, recipients), item None when nothing is ready
    (a rest day, or an empty library). On a 温故 day the card re-sends an earlier item, marked."""
    item = study.item_for(session, day)
    if item is None:
        return None, 0
    people = audience(session)
    payload = card(config, item, day, study.is_review(session, day))
    count = notify.fanout_query(session, config, people, topic="study_card", key=f"study:{day.isoformat()}",
                                kind="template_card", payload=payload, anchor=day, created_by="scheduler")
    held = session.exec(select(func.count()).select_from(Member)
                        .where(col(Member.id).in_(people), Member.do_not_disturb)).one()
    study_checkin.record_receipts_query(session, select(Member.id).where(col(Member.id).in_(people),
                                                                         Member.do_not_disturb == false()),
                                        day, "push")
    chosen = study.get_day(session, day)
    if chosen is not None and chosen.pushed_at is None:
        chosen.pushed_at = clock.now()
        session.add(chosen)
    study.publish(session, item)
    return item, count - int(held)  # those on 免打扰 are held, not reached


def remind(session: Session, config: Any, day: dt.date) -> int | None:
    """One reminder to members the card reached who have not checked in; None when nothing was pushed."""
    chosen = study.get_day(session, day)
    if chosen is None or chosen.pushed_at is None:
        return None
    item = session.get(StudyItem, chosen.item_id)
    exclude = config.study.remind_exclude
    done = select(CheckIn.member_id).where(CheckIn.date == day)
    stmt = (select(Member).join(StudyReceipt, col(StudyReceipt.member_id) == Member.id)
            .where(StudyReceipt.date == day, StudyReceipt.via == "push", Member.active,
                   Member.do_not_disturb == false(), col(Member.id).not_in(done)).order_by(col(Member.id)))
    people = [m for m in session.exec(stmt) if m.member_type not in exclude]
    if not people or item is None:
        return 0
    text = texts.t("study.reminder", title=title(item, study.is_review(session, day)),
                   url=study.page_url(config, item))
    return _queue(session, config, people, "text", {"content": text}, f"study_reminder:{day.isoformat()}", day,
                  topic="study_reminder")


def gap_alert(session: Session, config: Any, day: dt.date) -> tuple[dt.date, int | None]:
    """(next workday, editors told) — None told when the next workday already has a reviewed item (a 温故
    re-send does not count: the editors hear about the gap every workday until new items are reviewed)."""
    nxt = clock.next_workday(day)
    if study.fresh(session, nxt) is not None:
        return nxt, None
    drafts = session.exec(select(func.count()).select_from(StudyItem).where(StudyItem.status == "draft")).one()
    editors = [m for m in session.exec(select(Member).where(Member.active).order_by(col(Member.id)))
               if m.has_role("editor")]
    text = texts.t("study.gap_alert", date=nxt.isoformat(), drafts=int(drafts))
    told = notify.members(session, config, editors, text, key=f"study_gap:{nxt.isoformat()}", topic="study_gap",
                          created_by="scheduler")
    return nxt, told
