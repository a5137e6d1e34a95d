"""`/admin/study`: the library's month calendar, items by status, and the workflow
编辑 → 审核 → 排期 → 发布 through `study_workflow` (role rules there: nobody reviews or schedules what they
wrote). Publishing is the morning push on the item's day. Editing a scheduled item sends it back through
review; an urgent item takes its day from the item scheduled there. The archive is `study_archive.search`,
the same query as the public `/study/` page. Editors, reviewers, committee and admins."""

from __future__ import annotations

import calendar
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import col, select

from bot import clock, texts
from bot.admin.base import bp, not_found, runtime
from bot.admin.principal import area
from bot.admin.tables import download, export_url, wants_export
from bot.models import STUDY_SERIES, StudyItem
from bot.services.study import archive as study_archive
from bot.services.study import content as study_content
from bot.services.study import workflow as study_workflow
from bot.services.study.workflow import WorkflowError

FORM_FIELDS = ("slug", "series", "title", "summary", "body", "question", "answer")


def _month() -> dt.date:
    raw = request.args.get("month", "")
    try:
        return dt.date.fromisoformat(raw + "-01") if raw else clock.today().replace(day=1)
    except ValueError:
        return clock.today().replace(day=1)


@bp.get("/study")
@area("study")
def study_library() -> ResponseReturnValue:
    first = _month()
    with runtime().session() as s:
        dated = study_workflow.month(s, first)
        items = list(s.exec(select(StudyItem).where(col(StudyItem.status).in_(("draft", "reviewed", "scheduled")))
                            .order_by(col(StudyItem.status), col(StudyItem.updated_at).desc()).limit(200)))
        raw = request.args.get("page", "1")
        archive = study_archive.search(s, request.args.get("q", ""), request.args.get("series", ""),
                                       int(raw[:6]) if raw.isdigit() else 1)
    if wants_export():
        return download("学习内容", ("编号", "栏目", "标题", "状态", "编辑", "审核"),
                        [(i.slug, i.series, i.title, texts.label("study_status", i.status), i.editor or "",
                          i.reviewer or "") for i in items])
    weeks = calendar.Calendar().monthdatescalendar(first.year, first.month)
    prev = (first - dt.timedelta(days=1)).replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return render_template("admin/study.html", weeks=weeks, first=first, dated=dated, items=items,
                           labels=texts.labels("study_status"), archive=archive, series=STUDY_SERIES, prev=prev,
                           nxt=nxt, today=clock.today(), export=export_url(), is_workday=clock.is_workday)


def _form(item: StudyItem | None, values: dict[str, Any], error: WorkflowError | None = None) -> ResponseReturnValue:
    errors = {error.field: str(error)} if error else {}
    return render_template("admin/study_edit.html", item=item, values=values, errors=errors, series=STUDY_SERIES,
                           labels=texts.labels("study_status")), 400 if error else 200


@bp.route("/study/new", methods=["GET", "POST"])
@area("study")
def study_new() -> ResponseReturnValue:
    values = {k: request.form.get(k, "") for k in FORM_FIELDS}
    if request.method == "GET":
        return _form(None, values)
    try:
        with runtime().write() as s:
            item = study_workflow.write(s, g.admin.username, g.admin.roles, values)
            slug, title = item.slug, item.title
    except WorkflowError as exc:
        return _form(None, values, exc)
    flash(f"已保存草稿《{title}》，请另一位审核人员审核。", "ok")
    return redirect(url_for("admin.study_edit", slug=slug))


@bp.route("/study/upload", methods=["GET", "POST"])
@area("study")
def study_upload() -> ResponseReturnValue:
    """A .toml / .md / .xlsx file of items: drafts (reviewed when a reviewer uploads), all or nothing."""
    if request.method == "GET":
        return render_template("admin/study_upload.html", errors=[])
    upload = request.files.get("file")
    name = (upload.filename or "") if upload else ""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if upload is None or suffix not in study_content.SUFFIXES:
        return render_template("admin/study_upload.html", errors=["请选择 .toml、.md 或 .xlsx 文件。"]), 400
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        upload.save(path)
        try:
            with runtime().write() as s:
                result = study_workflow.upload(s, g.admin.username, g.admin.roles, path)
        except study_content.ContentError as exc:
            shown = [e.replace(str(path), name) for e in exc.errors]
            return render_template("admin/study_upload.html", errors=shown), 400
        except WorkflowError as exc:
            return render_template("admin/study_upload.html", errors=[str(exc)]), 400
    flash(f"已上传：新增 {result.created} 篇，更新 {result.updated} 篇。", "ok")
    return redirect(url_for("admin.study_library"))


@bp.route("/study/<slug>", methods=["GET", "POST"])
@area("study")
def study_edit(slug: str) -> ResponseReturnValue:
    with runtime().session() as s:
        try:
            item = study_workflow.get(s, slug)
        except WorkflowError:
            return not_found("没有这个学习内容。")
    if request.method == "GET":
        return _form(item, {k: getattr(item, k) or "" for k in FORM_FIELDS})
    values = {k: request.form.get(k, "") for k in FORM_FIELDS}
    try:
        with runtime().write() as s:
            study_workflow.write(s, g.admin.username, g.admin.roles, values, slug=item.slug)
    except WorkflowError as exc:
        return _form(item, values, exc)
    was = item.publish_on if item.status == "scheduled" else None
    again = f"原定 {was.isoformat()} 的排期已取消，" if was else ""
    flash(f"已保存草稿《{values['title']}》。{again}请另一位审核人员审核后重新排期。", "ok")
    return redirect(url_for("admin.study_edit", slug=item.slug))


@bp.post("/study/<slug>/<step>")
@area("study")
def study_step(slug: str, step: str) -> ResponseReturnValue:
    if step not in ("review", "schedule"):
        return not_found("没有这个操作。")
    try:
        with runtime().write() as s:
            if step == "review":
                item = study_workflow.review(s, g.admin.username, g.admin.roles, slug)
                done = f"《{item.title}》已审核，可以排期。"
            else:
                try:
                    day = dt.date.fromisoformat(request.form.get("publish_on", "").strip())
                except ValueError:
                    raise WorkflowError("publish_on", "请按 YYYY-MM-DD 填写发布日期。") from None
                result = study_workflow.schedule(s, g.admin.username, g.admin.roles, slug, day,
                                                 urgent=request.form.get("urgent") == "on")
                item = result.item
                done = f"《{item.title}》已排期：{day.isoformat()} 早上推送。"
                if result.displaced:
                    moved = "、".join(f"《{t}》" for t in result.displaced)
                    done += f"原定当天的{moved}已退回「已审核」，请另行排期。"
    except WorkflowError as exc:
        with runtime().session() as s:
            found = s.exec(select(StudyItem).where(StudyItem.slug == slug)).first()
        if found is None:
            return not_found("没有这个学习内容。")
        return _form(found, {k: getattr(found, k) or "" for k in FORM_FIELDS}, exc)
    flash(done, "ok")
    return redirect(url_for("admin.study_library", month=item.publish_on.strftime("%Y-%m") if item.publish_on
                            else None))
