"""Console pages: dashboard, members, deliveries, audit log, branches (with their editable settings)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot import audit, clock, outbox, texts
from bot.admin import calendar_warnings, queries
from bot.admin.base import bp, not_found, runtime
from bot.admin.charts import dashboard_charts
from bot.admin.principal import area
from bot.admin.tables import download, export_url, wants_export

EXPORT_ROWS = 50_000
JOB_STATUS_LABELS = {"running": "运行中", "done": "完成", "skipped": "跳过", "failed": "失败"}
LEVEL_LABELS = {"branch": "支部", "general_branch": "总支", "committee": "党委"}
RANKING_CHOICES = (("", "默认"), ("on", "开启"), ("off", "关闭"))
THEME_RULE_CHOICES = (("", "默认"), ("fixed", "固定日"), ("free", "自定"))


def mask_phone(phone: str | None) -> str:
    """138****1234: the console never shows a full phone number."""
    value = (phone or "").strip()
    if len(value) >= 8:
        return f"{value[:3]}****{value[-4:]}"
    return "****" if value else ""


def _int_arg(name: str, default: int | None = None) -> int | None:
    raw = request.args.get(name, "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else default


def _page() -> int:
    return _int_arg("page", 1) or 1


@bp.get("/")
@area("any")
def dashboard() -> ResponseReturnValue:
    with runtime().session() as s:
        data = queries.dashboard(s, branch_id=g.admin.branch_filter())
        charts = dashboard_charts(s, runtime().config, g.admin)
        gaps = calendar_warnings.study_gaps(s, clock.today()) if g.admin.study else []
        drafts = calendar_warnings.drafts(s) if gaps else 0
    return render_template("admin/dashboard.html", d=data, charts=charts, study_gaps=gaps, drafts=drafts,
                           statuses=queries.DELIVERY_STATUSES,
                           status_labels=texts.labels("delivery_status"), job_labels=JOB_STATUS_LABELS,
                           alert_days=queries.ALERT_DAYS, alert_action=queries.CONFIG_ALERT_ACTION)


@bp.get("/members")
@area("branch")
def members() -> ResponseReturnValue:
    branch_id = _int_arg("branch")
    if g.admin.branch_filter() is not None:  # a secretary: their own branch, whatever the URL says
        branch_id = g.admin.branch_filter()
    text = request.args.get("q", "").strip()[:64]
    active = {"1": True, "0": False}.get(request.args.get("active", ""))
    with runtime().session() as s:
        branch_list = [b for b in queries.branches(s) if g.admin.sees_branch(b.id)]
        page = queries.members(s, branch_id=branch_id, text=text, active=active, page=_page(),
                               per_page=EXPORT_ROWS if wants_export() else 50)
    rows = [{"userid": r[0], "name": r[1], "roles": "、".join(texts.label("role", x) for x in r[2].split(";") if x),
             "type": texts.label("member_type", r[3]), "active": r[4], "phone": mask_phone(r[5]),
             "branch": r[7] or r[6] or ""} for r in page.items]
    if wants_export():
        return download("党员名册", ("账号", "姓名", "支部", "角色", "类别", "手机", "在册"),
                        [(r["userid"], r["name"], r["branch"], r["roles"], r["type"], r["phone"],
                          "是" if r["active"] else "否") for r in rows])
    return render_template("admin/members.html", page=page, rows=rows, branches=branch_list, export=export_url(),
                           branch_id=branch_id, q=text, active=request.args.get("active", ""))


@bp.get("/deliveries")
@area("global")
def deliveries() -> ResponseReturnValue:
    status = request.args.get("status", "")
    if status not in queries.DELIVERY_STATUSES:
        status = ""
    with runtime().session() as s:
        page = queries.deliveries(s, status=status or None, page=_page())
    return render_template("admin/deliveries.html", page=page, status=status,
                           statuses=queries.DELIVERY_STATUSES, status_labels=texts.labels("delivery_status"))


@bp.post("/deliveries/<int:delivery_id>/retry")
@area("global")
def delivery_retry(delivery_id: int) -> ResponseReturnValue:
    """Send a failed or expired delivery again (outbox.requeue), audited."""
    with runtime().write() as s:
        count = outbox.requeue(s, [delivery_id])
        if count:
            audit.record(s, g.admin.username, "delivery_retry", f"delivery:{delivery_id}", "")
    flash(f"#{delivery_id} 已重新排队发送。" if count else f"#{delivery_id} 不是失败或过期的投递，无需重发。",
          "ok" if count else "error")
    return redirect(url_for("admin.deliveries", status=request.args.get("status", "")))


@bp.get("/audit")
@area("global")
def audit_log() -> ResponseReturnValue:
    action = request.args.get("action", "").strip()[:64]
    with runtime().session() as s:
        page = queries.audit_log(s, action=action, page=_page())
    return render_template("admin/audit.html", page=page, action=action)


@bp.get("/branches")
@area("global")
def branches() -> ResponseReturnValue:
    return _branch_page()


def _branch_page(errors: dict[int, dict[str, str]] | None = None) -> ResponseReturnValue:
    """The branch settings; after a refused save, that row keeps the values typed with the reason (400)."""
    with runtime().session() as s:
        tree = queries.branch_tree(s)
    names = {b.id: b.name for b, _, _ in tree}
    conf = runtime().config.theme_day
    return render_template("admin/branches.html", tree=tree, names=names, levels=LEVEL_LABELS,
                           ranking_choices=RANKING_CHOICES, rule_choices=THEME_RULE_CHOICES, theme_day=conf,
                           errors=errors or {}, form=request.form if errors else {}), 400 if errors else 200


def _theme_day_form() -> tuple[str | None, int | None, int | None] | dict[str, str] | None:
    """The branch's theme-day override from the form: (rule, day, limit_day), None for a field left at the
    default; None when the form has no such fields; {field: reason} when a value is invalid."""
    if "theme_day_rule" not in request.form:
        return None
    rule = request.form.get("theme_day_rule", "")
    if rule not in ("", "fixed", "free"):
        return {"theme_day_rule": "主题党日规则：默认 / 固定日 / 自定"}
    days: list[int | None] = []
    for name in ("theme_day_day", "theme_day_limit_day"):
        raw = request.form.get(name, "").strip()
        if raw and not (raw.isdigit() and 1 <= int(raw) <= 28):
            return {name: f"“{raw[:10]}”不行：须为 1–28 的整数（每个月都有的日子），留空则跟随全局配置"}
        days.append(int(raw) if raw else None)
    conf = runtime().config.theme_day
    day, limit = days[0] or conf.day, days[1] or conf.limit_day
    if (rule or conf.rule) == "fixed" and limit < day:
        return {"theme_day_limit_day": f"截止日（{limit} 日）不能早于固定日（{day} 日）"}
    return rule or None, days[0], days[1]


@bp.post("/branches/<int:branch_id>")
@area("global")
def branch_settings(branch_id: int) -> ResponseReturnValue:
    ranking = request.form.get("ranking_enabled", "")
    theme_day = _theme_day_form()
    if ranking not in ("", "on", "off"):
        theme_day = {"ranking_enabled": "积分排行：默认 / 开启 / 关闭"}
    if isinstance(theme_day, dict):
        return _branch_page({branch_id: theme_day})
    with runtime().write() as s:
        branch = queries.update_branch(s, branch_id, push_enabled=request.form.get("push_enabled") == "on",
                                       ranking_enabled={"on": True, "off": False}.get(ranking),
                                       actor=g.admin.username, theme_day=theme_day)
        name = branch.name if branch else ""
    if branch is None:
        return not_found("没有这个支部。")
    flash(f"已保存：{name}", "ok")
    return redirect(url_for("admin.branches"))
