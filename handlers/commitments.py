"""承诺践诺: 承诺 / 即时承诺, 我的承诺, 承诺公示, 践诺 (approval is 通过 / 驳回 under the commitment's own number;
the secretary's 完成 is handlers/done.py; votes are 满意 / 不满意 in handlers/tickets.py)."""

from bot import clock, texts
from bot.router import Context, Number, Router, Text
from bot.services import commitments

MIN_TEXT = 4
AREA = "承诺"


def _make(ctx: Context, kind: str, text: str) -> str:
    row = commitments.make(ctx.session, ctx.config, ctx.member, text, kind)
    return texts.t("commitments.made", number=row.number, kind=texts.t(f"commitments.kind_{kind}"))


def yearly(ctx: Context, text: str) -> str:
    """承诺 文字 / 即时承诺 文字 — 提出年度承诺或即时承诺"""
    return _make(ctx, "yearly", text)


def instant(ctx: Context, text: str) -> str:
    """即时承诺 文字 — 提出即时承诺"""
    return _make(ctx, "instant", text)


def mine(ctx: Context) -> str:
    """我的承诺 — 查看我的承诺及状态"""
    year = clock.today().year
    rows = commitments.mine(ctx.session, ctx.member, year)
    if not rows:
        return texts.t("commitments.mine_none", year=year)
    lines = [texts.t("commitments.mine_head", year=year, count=len(rows))]
    for row in rows:
        reports = len(commitments.progress_of(ctx.session, row))
        line = texts.t("commitments.mine_line", number=row.number, kind=texts.t(f"commitments.kind_{row.kind}"),
                       text=row.text[:40], status=commitments.status_label(row), reports=reports)
        if row.status == "fulfilled":
            yes, votes = commitments.tally(ctx.session, row)
            line += texts.t("commitments.mine_votes", satisfied=yes, votes=votes)
        lines.append(line)
    lines.append(texts.t("commitments.mine_footer"))
    return "\n".join(lines)


def board(ctx: Context) -> str:
    """承诺公示 — 查看本支部今年审核通过的承诺"""
    year = clock.today().year
    rows = commitments.public(ctx.session, ctx.branch_id, year) if ctx.branch_id is not None else []
    if not rows:
        return texts.t("commitments.board_none", year=year)
    lines = [texts.t("commitments.board_head", year=year, count=len(rows))]
    for row, name in rows[:30]:
        lines.append(texts.t("commitments.board_line", number=row.number, name=name, text=row.text[:40],
                             status=commitments.status_label(row)))
    if len(rows) > 30:
        lines.append(texts.t("commitments.board_more", count=len(rows) - 30))
    return "\n".join(lines)


def report_progress(ctx: Context, number: int, text: str) -> str:
    """践诺 编号 进展 — 报告承诺进展"""
    count = commitments.progress(ctx.session, ctx.member, number, text)
    return texts.t("commitments.progress_saved", number=number, count=count)


def register(router: Router) -> None:
    router.command("承诺", yearly, area=AREA, example="全年帮扶 2 名困难群众",
                   note=f"写可衡量的内容，至少 {MIN_TEXT} 个字", args=(Text("内容", min_len=MIN_TEXT),))
    router.command("即时承诺", instant, area=AREA, listed=False, example="本周修好楼道灯",  # listed with 承诺
                   note=f"至少 {MIN_TEXT} 个字", args=(Text("内容", min_len=MIN_TEXT),))
    router.command("我的承诺", mine, bare=True, area=AREA)
    router.command("承诺公示", board, bare=True, area=AREA, then="承诺")  # 「承诺公示…」 with text is 承诺
    router.command("践诺", report_progress, area=AREA, example="#8 已走访 1 户", args=(Number(), Text("进展")))
