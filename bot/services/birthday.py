"""Political birthdays (政治生日): greetings, the secretary's talk task, the month's list for the oath renewal.

The date is `[app] political_birthday` (`joined_on` or `full_member_on`); party age (党龄) always counts
from `full_member_on`. A Feb 29 date is celebrated on Feb 28 in common years (`[app]
political_birthday_feb29 = "mar1"` moves it to Mar 1). Members without the date are skipped; `退订生日`
stops the greeting (the secretary's talk task is still created).
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from bot import notify, texts
from bot.models import Branch, Member
from bot.notify_group import Batch
from bot.services import tasks
from bot.services.theme_day import agenda as theme_day_agenda


def date_field(config: Any) -> str:
    return config.app.political_birthday


def feb29_rule(config: Any) -> str:
    return config.app.political_birthday_feb29


def celebrated_on(origin: dt.date, year: int, rule: str = "feb28") -> dt.date:
    """The day in `year` on which a birthday that fell on `origin` is celebrated."""
    if origin.month == 2 and origin.day == 29 and not calendar.isleap(year):
        return dt.date(year, 3, 1) if rule == "mar1" else dt.date(year, 2, 28)
    return origin.replace(year=year)


def full_years(since: dt.date | None, on: dt.date) -> int | None:
    if since is None or since > on:
        return None
    years = on.year - since.year
    if (on.month, on.day) < (since.month, since.day):
        years -= 1
    return years


def birthday_of(member: Member, config: Any) -> dt.date | None:
    return getattr(member, date_field(config), None)


def _active(session: Session) -> list[Member]:
    stmt = select(Member).where(Member.active).order_by(col(Member.branch_id), col(Member.id))
    return list(session.exec(stmt))


def due(session: Session, config: Any, day: dt.date) -> list[Member]:
    """Active members whose political birthday is celebrated on `day` (at least one year on)."""
    rule, out = feb29_rule(config), []
    for member in _active(session):
        origin = birthday_of(member, config)
        if origin is None or origin.year >= day.year:
            continue
        if celebrated_on(origin, day.year, rule) == day:
            out.append(member)
    return out


def greet(session: Session, config: Any, day: dt.date) -> tuple[int, int]:
    """Greetings and talk tasks for `day`: (greeted, tasks created)."""
    greeted = created = 0
    batch = Batch(key=f"talk_tasks:{day}", header="birthday.tasks_header", footer="task.usage")
    for member in due(session, config, day):
        origin = birthday_of(member, config)
        assert origin is not None
        years = day.year - origin.year
        age = full_years(member.full_member_on, day)
        if not member.birthday_optout:
            key = "birthday.greeting" if age is not None else "birthday.greeting_no_age"
            text = texts.t(key, name=member.name, date=origin.isoformat(), years=years, age=age)
            greeted += notify.members(session, config, [member], text, key=f"birthday:{day}:{member.userid}",
                                      topic="birthday_greeting", anchor=day)
        summary = texts.t("birthday.task", name=member.name, years=years)
        _, new = tasks.create(session, config, key=f"talk:{member.id}:{day.year}", kind="talk",
                              branch_id=member.branch_id, member=member, summary=summary, batch=batch)
        created += int(new)
    batch.send(session, config)  # one message per secretary, never a talk with himself (tasks.takers)
    return greeted, created


def month_list(session: Session, config: Any, day: dt.date) -> int:
    """Each branch's secretaries get the month's political birthdays (for 重温入党誓词). Returns branches told."""
    rule = feb29_rule(config)
    by_branch: dict[int, list[tuple[dt.date, Member, int]]] = {}
    for member in _active(session):
        origin = birthday_of(member, config)
        if origin is None or origin.year >= day.year or member.branch_id is None:
            continue
        on = celebrated_on(origin, day.year, rule)
        if on.month == day.month:
            by_branch.setdefault(member.branch_id, []).append((on, member, day.year - origin.year))
    told = 0
    for branch_id, rows in by_branch.items():
        people = tasks.secretaries(session, branch_id)
        branch = session.get(Branch, branch_id)
        if not people or branch is None:
            continue
        lines = [texts.t("birthday.list_header", branch=branch.name, month=day.month, count=len(rows))]
        lines += [texts.t("birthday.list_line", date=f"{on.month}月{on.day}日", name=m.name, years=years)
                  for on, m, years in sorted(rows, key=lambda r: (r[0], r[1].id))[:40]]
        lines.append(texts.t("birthday.list_footer"))
        rule, fixed, _ = theme_day_agenda.branch_rule(config, branch)
        if rule == "fixed":  # the branch's own fixed day when overridden, else [theme_day] day
            lines.append(texts.t("theme_day.fixed_day_line", day=fixed, date=f"{day.month}月{fixed}日"))
        notify.members(session, config, people, "\n".join(lines), key=f"birthday_list:{day:%Y-%m}:{branch.code}",
                       topic="birthday_list")
        told += 1
    return told
