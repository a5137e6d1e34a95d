"""Roster changes in the console: edit one member, deactivate, and import a CSV/XLSX file with a preview
of every bad row before anything is applied. All of it goes through `roster.import_roster` (the same
validation and upsert as `dangjian import-roster`; a lost role or deactivation ends the member's console
sessions), audited as `console.roster_*`. A secretary changes members of their own branch only.

Uploads (up to 20 MiB) wait for the 应用 button in `<tempdir>/dangjian-uploads/<token>` (the token is in
the session, the file is removed when applied or after an hour)."""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlmodel import Session, select

from bot import audit, texts
from bot.admin.base import bp, runtime
from bot.admin.principal import ALL_BRANCHES, area
from bot.models import Branch, Member
from bot.services.roster.cells import split_list
from bot.services.roster.core import ImportResult, import_roster
from bot.services.roster.io import Table, read_csv_bytes, read_xlsx
from bot.services.roster.row import role_words

UPLOADS = Path(tempfile.gettempdir()) / "dangjian-uploads"
UPLOAD_HOURS = 1
HIGH_ROLES = ALL_BRANCHES  # who may grant 党委/管理员: those who see every branch
MSG_HIGH = "党委、管理员角色只能由党委委员或管理员设置。"
FIELDS = ("name", "roles", "member_type", "joined_on", "full_member_on", "phone", "active")
ERROR_FIELDS = {"unknown role": "roles", "unknown member_type": "member_type", "name": "name", "phone": "phone",
                "joined_on": "joined_on", "full_member_on": "full_member_on", "active": "active"}


def _member(session: Session, userid: str) -> tuple[Member, Branch | None]:
    member = session.exec(select(Member).where(Member.userid == userid.strip().lower()[:64])).first()
    if member is None or not g.admin.sees_branch(member.branch_id):
        abort(404)
    return member, session.get(Branch, member.branch_id) if member.branch_id else None


def _field_of(problem: str) -> str:
    text = problem.split(": ", 1)[1] if problem.startswith("line ") else problem
    return next((f for key, f in ERROR_FIELDS.items() if text.startswith(key)), "")


def _apply(rows: Table, dry_run: bool) -> ImportResult:
    with runtime().write() as s:
        result = import_roster(s, rows, g.admin.username)
        if dry_run or not result.ok:
            s.rollback()
        else:
            audit.record(s, g.admin.username, "console.roster_import", "roster", result.summary())
    return result


def _high_roles(raw: str) -> bool:
    return any(role_words().get(word.lower()) in HIGH_ROLES for word in split_list(raw))


def _scope_errors(rows: Table) -> list[str]:
    """A secretary's file may only name their own branch, and grants no committee or admin role."""
    if g.admin.all_branches:
        return []
    with runtime().session() as s:
        own = s.get(Branch, g.admin.branch_id) if g.admin.branch_id else None
    code = own.code if own else ""
    out = []
    for line, row in rows:
        value = str(row.get("branch") or row.get("支部") or "").strip()
        if value != code:
            out.append(f"line {line}: 支部 {value!r} 不是您的支部（{code}）")
        if _high_roles(str(row.get("roles") or row.get("角色") or "")):
            out.append(f"line {line}: {MSG_HIGH}")
    return out


@bp.route("/members/<userid>", methods=["GET", "POST"])
@area("branch")
def member_edit(userid: str) -> ResponseReturnValue:
    with runtime().session() as s:
        member, branch = _member(s, userid)
    from bot.admin.views import mask_phone

    role_labels = texts.labels("role")
    values: dict[str, Any] = {"name": member.name, "member_type": texts.label("member_type", member.member_type),
                              "roles": ";".join(role_labels[r] for r in role_labels if r in member.role_set),
                              "joined_on": member.joined_on or "", "full_member_on": member.full_member_on or "",
                              "phone": "", "active": "是" if member.active else "否"}
    masked = mask_phone(member.phone)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values.update({k: request.form.get(k, "").strip() for k in FIELDS if k in request.form})
        if request.form.get("deactivate"):
            values["active"] = "否"
        if not g.admin.all_branches and _high_roles(str(values["roles"])) and \
                not (member.role_set & HIGH_ROLES):
            errors["roles"] = [MSG_HIGH]
            return render_template("admin/member_edit.html", member=member, branch=branch, values=values,
                                   masked=masked, errors=errors), 400
        if not values["phone"]:
            values.pop("phone")  # left empty: the number stays (the console never shows it in full)
        row = {"userid": member.userid, "branch": branch.code if branch else "", **values}
        values.setdefault("phone", "")
        result = _apply(Table([(2, {k: str(v) for k, v in row.items()})], header=list(row)), dry_run=False)
        if result.ok:
            gone = "（已离册，其管理后台登录已结束）" if values["active"] == "否" else ""
            flash(f"已保存：{member.name}{gone}", "ok")
            return redirect(url_for("admin.members"))
        for problem in result.errors:
            errors.setdefault(_field_of(problem), []).append(problem.split(": ", 1)[-1])
    return render_template("admin/member_edit.html", member=member, branch=branch, values=values, masked=masked,
                           errors=errors), 400 if errors else 200


def _read(upload: Any) -> Table | str:
    name = (upload.filename or "").lower()
    data = upload.read()
    if not data:
        return "请选择一个 CSV 或 Excel（.xlsx）文件。"
    try:
        if name.endswith(".xlsx"):
            import io

            return read_xlsx(io.BytesIO(data))
        if name.endswith(".csv"):
            return read_csv_bytes(data)
    except (ValueError, KeyError, OSError) as exc:
        return f"文件读不出来：{exc}"
    return "只接受 .csv 或 .xlsx 文件。"


def _sweep() -> None:
    UPLOADS.mkdir(parents=True, exist_ok=True)
    for old in UPLOADS.iterdir():
        if time.time() - old.stat().st_mtime > UPLOAD_HOURS * 3600:
            old.unlink(missing_ok=True)


@bp.route("/members/import", methods=["GET", "POST"])
@area("branch")
def members_import() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("admin/members_import.html", result=None, error="")
    upload = request.files.get("file")
    table = _read(upload) if upload else "请选择一个 CSV 或 Excel（.xlsx）文件。"
    if isinstance(table, str):
        return render_template("admin/members_import.html", result=None, error=table), 400
    scope = _scope_errors(table)
    result = ImportResult(errors=scope) if scope else _apply(table, dry_run=True)
    token = ""
    if result.ok:
        _sweep()
        token = secrets.token_hex(16)
        suffix = ".xlsx" if (upload and (upload.filename or "").lower().endswith(".xlsx")) else ".csv"
        assert upload is not None
        upload.stream.seek(0)
        (UPLOADS / f"{token}{suffix}").write_bytes(upload.stream.read())
        session["roster_upload"] = token + suffix
    return render_template("admin/members_import.html", result=result, error="", token=token,
                           rows=len(table)), 200 if result.ok else 400


@bp.post("/members/import/apply")
@area("branch")
def members_import_apply() -> ResponseReturnValue:
    stored = session.pop("roster_upload", None)
    path = UPLOADS / stored if isinstance(stored, str) and "/" not in stored else None
    if path is None or not path.exists():
        flash("预览已过期，请重新上传文件。", "error")
        return redirect(url_for("admin.members_import"))
    data = path.read_bytes()
    path.unlink(missing_ok=True)
    import io

    table = read_xlsx(io.BytesIO(data)) if path.suffix == ".xlsx" else read_csv_bytes(data)
    scope = _scope_errors(table)
    result = ImportResult(errors=scope) if scope else _apply(table, dry_run=False)
    if not result.ok:
        return render_template("admin/members_import.html", result=result, error="", token=""), 400
    flash(f"已导入：新增 {result.created} 人，更新 {result.updated} 人。", "ok")
    return redirect(url_for("admin.members"))
