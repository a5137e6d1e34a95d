"""积分 / 排行 / 开启排行 / 关闭排行 / 加分 / 扣分 / 否决: the points ledger from chat."""

import datetime as dt
from collections.abc import Callable

from bot import clock, texts
from bot.models import Branch, LedgerEntry, Member
from bot.router import SECRETARY_ROLES, Context, MenuKey, Month, Positive, Router, Text, Who
from bot.services.points import admin as points_admin
from bot.services.points import core as pts
from bot.services.points import ranking as points_ranking
from handlers.approvals import AREA as MANAGE

AREA = "积分"

RECENT = 8
RANK_LINES = 30
MAX_BYTES = 2000  # a text reply stays under the platform's 2048 bytes


def fit(head: list[str], body: list[str], tail: list[str]) -> str:
    """Head, as many body lines as fit in one reply, a "还有 N 条" line when some were left out, tail."""
    size = len("\n".join(head + tail).encode()) + 80
    shown: list[str] = []
    for line in body:
        size += len(line.encode()) + 1
        if size > MAX_BYTES:
            break
        shown.append(line)
    if len(shown) < len(body):
        shown.append(texts.t("points.detail.more", count=len(body) - len(shown)))
    return "\n".join(head + shown + tail)


def mine(ctx: Context) -> str:
    """积分 — 查看本人今年积分和最近记录"""
    year = pts.current_year()
    row = points_ranking.standing_of(ctx.session, ctx.config, ctx.member, year)
    branch = ctx.session.get(Branch, ctx.member.branch_id) if ctx.member.branch_id else None
    ranked = points_ranking.ranking_enabled(ctx.config, branch)
    lines = [texts.t("points.mine_header", year=year, total=row.total)]
    if row.by_category:
        lines.append(texts.t("points.detail.categories", items=pts.category_line(ctx.config, row.by_category)))
    if ranked and row.rank is not None:  # the rank as 排行 shows it; the band is the member's own to see
        rows = points_ranking.standings(ctx.session, ctx.config, year, ctx.member.branch_id)
        rank = next((r for r, s in points_ranking.public_ranking(rows) if s.member.id == ctx.member.id), row.rank)
        lines.append(texts.t("points.mine_band", rank=rank, band=texts.band_words(row.band)))
    veto = pts.veto_of(ctx.session, ctx.member, year)
    if veto is not None:
        lines.append(texts.t("points.mine_vetoed", reason=veto.reason))
    else:  # the contract: status is always qualified / warning / unqualified
        lines.append(texts.t("points.mine_status", status=pts.label("statuses", row.status)))
    recent = pts.recent(ctx.session, ctx.member, RECENT)
    footer = [texts.t("points.mine_footer_ranking" if ranked else "points.mine_footer")]
    if not recent:
        return "\n".join([*lines, texts.t("points.mine_empty"), *footer])
    lines.append(texts.t("points.mine_recent"))
    return fit(lines, [pts.entry_line(e) for e in recent], footer)


def detail(ctx: Context, month: dt.date | None) -> str:
    """积分明细 [年-月] — 逐条查看某月积分记录（默认本月）"""
    shown = month or clock.today()
    year, month_no = shown.year, shown.month
    rows = pts.month_entries(ctx.session, ctx.member, year, month_no)
    if not rows:
        return texts.t("points.detail.none", year=year, month=month_no)
    head = [texts.t("points.detail.header", year=year, month=month_no, count=len(rows),
                    sum=sum(e.points for e in rows))]
    example = f"{year}-{month_no - 1:02d}" if month_no > 1 else f"{year - 1}-12"
    lines = [pts.entry_line(e) for e in rows]  # every line: a long month goes out in pages (bot.paging)
    return "\n".join([*head, *lines, texts.t("points.detail.footer", example=example)])


def ranking(ctx: Context) -> str:
    """排行 — 查看本支部积分排行（支部开启后可用）"""
    branch = ctx.session.get(Branch, ctx.branch_id) if ctx.branch_id else None
    if branch is None or not points_ranking.ranking_enabled(ctx.config, branch):
        return texts.t("points.rank_off")
    year = pts.current_year()
    rows = points_ranking.standings(ctx.session, ctx.config, year, branch.id)
    if not rows:
        return texts.t("points.rank_empty")
    lines = [texts.t("points.rank_header", branch=branch.name, year=year)]
    for rank, row in points_ranking.public_ranking(rows)[:RANK_LINES]:  # no veto, no band, no erased member
        lines.append(texts.t("points.rank_line", rank=rank, name=row.member.name, total=row.total))
    lines.append(texts.t("points.rank_footer"))
    return "\n".join(lines)


def _switch(ctx: Context, enabled: bool) -> str:
    branch = ctx.session.get(Branch, ctx.branch_id) if ctx.branch_id else None
    if branch is None:
        return texts.t("points.no_branch")
    changed = points_admin.set_ranking(ctx.session, ctx.config, ctx.member, branch, enabled)
    state = "on" if enabled else "off"
    return texts.t(f"points.ranking_{state}" if changed else f"points.ranking_already_{state}")


def ranking_on(ctx: Context) -> str:
    """开启排行 — 允许本支部党员查看积分排行"""
    return _switch(ctx, True)


def ranking_off(ctx: Context) -> str:
    """关闭排行 — 停止本支部积分排行"""
    return _switch(ctx, False)


def _adjust(ctx: Context, target: Member, delta: int, reason: str) -> str:
    if ctx.chosen and target.branch_id != ctx.branch_id:
        return texts.t("points.not_your_branch", name=target.name)
    if not reason.strip():
        word = "加分" if delta > 0 else "扣分"
        return texts.t("points.reason_needed", word=word, userid=target.userid, points=abs(delta))
    result = points_admin.adjust(ctx.session, ctx.config, ctx.member, target, delta, reason)
    if isinstance(result, LedgerEntry):
        total = pts.total(ctx.session, ctx.config, target, result.year)
        return texts.t("points.adjusted", name=target.name, points=f"{result.points:+d}", reason=result.reason,
                       year=result.year, total=total)
    month = points_admin.month_adjusted(ctx.session, target, clock.today())
    return texts.t("points.requested", points=f"{delta:+d}", month=month, limit=ctx.config.points.manual_limit,
                   number=result.number)


def add(ctx: Context, member: Member, points: int, reason: str) -> str:
    """加分 成员 分值 原因 — 为本支部党员加分（超过限额需党委审批）"""
    return _adjust(ctx, member, points, reason)


def subtract(ctx: Context, member: Member, points: int, reason: str) -> str:
    """扣分 成员 分值 原因 — 为本支部党员扣分（超过限额需党委审批）"""
    return _adjust(ctx, member, -points, reason)


def veto(ctx: Context, member: Member, reason: str) -> str:
    """否决 成员 原因 — 一票否决党员本年度考核（积分记录保留）"""
    row = points_admin.veto(ctx.session, ctx.config, ctx.member, member, reason)
    return texts.t("points.veto_done", name=member.name, year=row.year, reason=row.reason)


def _bad_points(word: str) -> Callable[[Context], str]:
    return lambda ctx: texts.t("points.bad_points", max=points_admin.MAX_MANUAL, word=word)


def register(router: Router) -> None:
    router.command(("积分", "我的积分"), mine, bare=True, area=AREA, basic=True)
    router.command("积分明细", detail, area=AREA, example="2026-11", note="不写年月查看本月；也可写 2026年11月",
                   args=(Month(optional=True),))
    router.command(("排行", "积分排行"), ranking, bare=True, area=AREA)
    router.command("开启排行", ranking_on, roles=SECRETARY_ROLES, bare=True, area=MANAGE)
    router.command("关闭排行", ranking_off, roles=SECRETARY_ROLES, bare=True, area=MANAGE)
    for word, handler, example in (("加分", add, "张三 2 协助组织主题党日"), ("扣分", subtract, "张三 1 无故缺席学习")):
        router.command(word, handler, roles=SECRETARY_ROLES, area=MANAGE, example=example,
                       note="成员写工号或姓名，分值写正数",
                       args=(Who(), Positive("分值", "points", high=points_admin.MAX_MANUAL, invalid=_bad_points(word)),
                             Text("原因", "reason", optional=True, brackets=False)))
    router.command("否决", veto, roles=("committee",), area="党委", example="张三 违反廉洁纪律",
                   note="成员写工号或姓名",
                   args=(Who(), Text("原因", "reason")))
    router.add(MenuKey("my_points"), mine)
