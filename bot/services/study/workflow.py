"""The study library's workflow, 编辑 → 审核 → 排期 → 发布, with its role rules (used by the console):

- an editor, reviewer, committee member or admin writes an item: it is (back to) `draft`, they are its
  `editor`; a draft, reviewed or scheduled item can be edited, and an edit sends it back through the whole
  workflow (a scheduled one loses its date and must be reviewed and scheduled again); a published item, or
  one its day has already chosen, cannot be edited;
- a reviewer other than the author reviews it: `reviewed`;
- a reviewer, admin or committee member other than the author schedules it for a workday from today on
  (`scheduled`, `publish_on`); a day has one scheduled item: `urgent` replaces that day's item (which goes
  back to `reviewed` without a date, to be scheduled again or taken by the rotation), otherwise a taken day
  is refused; the morning push publishes it.

Field checks are `study_content.validate` (the same as `import-content`); a body is at most 3,000
characters. Every step is audited. `WorkflowError` carries the field it is about (or "") and the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from bot import audit, clock
from bot.models import StudyDay, StudyItem
from bot.services.study import content as study_content

BODY_MAX = study_content.BODY_MAX
WRITERS = frozenset({"editor", "reviewer", "committee", "admin"})
REVIEWERS = frozenset({"reviewer"})
SCHEDULERS = frozenset({"reviewer", "committee", "admin"})
FIELD_WORDS = ("slug", "series", "title", "summary", "body", "question", "answer", "publish_on")


class WorkflowError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Scheduled:
    item: StudyItem
    displaced: list[str] = field(default_factory=list)  # titles an urgent item took the day from


def _field_of(message: str) -> str:
    return next((f for f in FIELD_WORDS if message.startswith(f)), "")


def get(session: Session, slug: str) -> StudyItem:
    item = session.exec(select(StudyItem).where(StudyItem.slug == slug.strip().lower()[:80])).first()
    if item is None:
        raise WorkflowError("", f"没有编号为 {slug} 的学习内容。")
    return item


def write(session: Session, actor: str, roles: frozenset[str], data: dict[str, Any],
          slug: str | None = None) -> StudyItem:
    """Create (slug None) or edit an item; it is a draft afterwards."""
    if not roles & WRITERS:
        raise WorkflowError("", "只有编辑、审核、党委委员或管理员可以撰写学习内容。")
    item = get(session, slug) if slug else None
    if item is not None and item.status not in ("draft", "reviewed", "scheduled"):
        raise WorkflowError("", f"《{item.title}》已发布，不能再修改；如需更正请撰写一篇新的内容。")
    if item is not None and session.exec(select(StudyDay.id).where(StudyDay.item_id == item.id)).first():
        raise WorkflowError("", f"《{item.title}》已选定为当天的学习内容，不能再修改。")
    was = item.publish_on if item is not None and item.status == "scheduled" else None
    raw = {k: data.get(k, "") for k in ("series", "title", "summary", "body", "question", "answer")}
    raw["slug"] = item.slug if item else str(data.get("slug") or "")
    try:
        clean = study_content.validate({**raw, "status": "draft", "editor": actor})
    except ValueError as exc:
        raise WorkflowError(_field_of(str(exc)), str(exc)) from None
    if len(clean["body"]) > BODY_MAX:
        raise WorkflowError("body", f"body is {len(clean['body'])} characters, over {BODY_MAX}")
    if item is None:
        if session.exec(select(StudyItem.id).where(StudyItem.slug == clean["slug"])).first() is not None:
            raise WorkflowError("slug", f"slug {clean['slug']!r} is already used")
        item = StudyItem(**clean, created_at=clock.now())
    else:
        for key in ("series", "title", "summary", "body", "question", "answer"):
            setattr(item, key, clean[key])
        item.status, item.editor, item.reviewer = "draft", actor, None
        item.publish_on, item.urgent = None, False  # a changed text is reviewed and scheduled again
    item.updated_at = clock.now()
    session.add(item)
    session.flush()
    detail = item.title[:100] + (f" (was scheduled {was.isoformat()})" if was else "")
    audit.record(session, actor, "study_write", f"study:{item.slug}", detail)
    return item


def _next_step(session: Session, actor: str, roles: frozenset[str], slug: str, allowed: frozenset[str],
               status: str, refusals: tuple[str, str, str]) -> StudyItem:
    """The item `slug`, when `actor` may take its next step: one of the `allowed` roles, not the item's
    author, the item in `status`. Else a WorkflowError with the matching refusal (roles, own item, status;
    the last may name the item's `{title}`)."""
    item = get(session, slug)
    not_role, own, wrong_status = refusals
    if not roles & allowed:
        raise WorkflowError("", not_role)
    if item.editor == actor:
        raise WorkflowError("", own)
    if item.status != status:
        raise WorkflowError("", wrong_status.format(title=item.title))
    return item


def review(session: Session, actor: str, roles: frozenset[str], slug: str) -> StudyItem:
    item = _next_step(session, actor, roles, slug, REVIEWERS, "draft",
                      ("只有审核可以审核学习内容。", "不能审核自己撰写的内容，请另一位审核人员审核。",
                       "《{title}》不是待审核的草稿。"))
    item.status, item.reviewer, item.updated_at = "reviewed", actor, clock.now()
    session.add(item)
    audit.record(session, actor, "study_review", f"study:{item.slug}", item.title[:100])
    return item


def schedule(session: Session, actor: str, roles: frozenset[str], slug: str, day: dt.date,
             urgent: bool = False) -> Scheduled:
    item = _next_step(session, actor, roles, slug, SCHEDULERS, "reviewed",
                      ("只有审核、党委委员或管理员可以排期。",
                       "不能给自己撰写的内容排期，请另一位审核人员或管理员排期。",
                       "《{title}》还没有通过审核，不能排期。"))
    if day < clock.today():
        raise WorkflowError("publish_on", f"{day} 已经过去，请选今天或以后的工作日。")
    if not clock.is_workday(day):
        raise WorkflowError("publish_on", f"{day} 不是工作日：每日学习只在工作日推送。")
    taken = list(session.exec(select(StudyItem).where(StudyItem.publish_on == day, StudyItem.status == "scheduled",
                                                      StudyItem.id != item.id)))
    if taken and not urgent:
        raise WorkflowError("publish_on", f"{day} 已排《{taken[0].title}》：请换一天，或勾选「紧急插播」替换它。")
    for other in taken:  # urgent: the day's item goes back to reviewed, to be scheduled again
        other.status, other.publish_on, other.urgent, other.updated_at = "reviewed", None, False, clock.now()
        session.add(other)
        audit.record(session, actor, "study_unschedule", f"study:{other.slug}", f"{day.isoformat()} urgent {item.slug}")
    item.status, item.publish_on, item.urgent, item.updated_at = "scheduled", day, urgent, clock.now()
    session.add(item)
    audit.record(session, actor, "study_schedule", f"study:{item.slug}",
                 f"{day.isoformat()}{' urgent' if urgent else ''}")
    return Scheduled(item, [other.title for other in taken])


def upload(session: Session, actor: str, roles: frozenset[str], path: Path) -> study_content.ImportResult:
    """A file of items (TOML, Markdown or XLSX, as import-content reads it) uploaded in the console: every
    item lands as `draft`, or `reviewed` when the uploader is a reviewer; ContentError lists the problems."""
    if not roles & WRITERS:
        raise WorkflowError("", "只有编辑、审核、党委委员或管理员可以上传学习内容。")
    status = "reviewed" if roles & REVIEWERS else "draft"
    items = [{**item, "status": status, "editor": actor, "reviewer": actor if status == "reviewed" else None,
              "publish_on": None, "urgent": False} for item in study_content.load(path)]
    taken = {i.slug: i.status for i in session.exec(select(StudyItem).where(
        col(StudyItem.slug).in_([i["slug"] for i in items])))}
    late = [slug for slug, st in taken.items() if st in ("scheduled", "published")]
    if late:
        raise study_content.ContentError([f"{slug}: 已排期或已发布，不能用上传覆盖" for slug in sorted(late)])
    return study_content.apply(session, items, actor)


def month(session: Session, first: dt.date) -> dict[dt.date, list[StudyItem]]:
    """Items dated within the month of `first` (scheduled or published), by day."""
    nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    stmt = select(StudyItem).where(StudyItem.publish_on >= first, StudyItem.publish_on < nxt)  # type: ignore[operator]
    out: dict[dt.date, list[StudyItem]] = {}
    for item in session.exec(stmt):
        if item.publish_on is not None:
            out.setdefault(item.publish_on, []).append(item)
    return out
