"""承诺践诺: 承诺 / 即时承诺, 我的承诺, 践诺, and the secretary's 完成 for commitments (approval is 通过 / 驳回
under the commitment's own number; votes are 满意 / 不满意 in handlers/tickets.py)."""

from bot import clock, texts
from bot.models import CaseNumber
from bot.router import SECRETARY_ROLES, Context, Prefix, Router, Word
from bot.services import commitments
from bot.services.approvals import parse_number

MIN_TEXT = 4


class NumberOf(Prefix):
    """`word 编号 ...` whose number belongs to one of `kinds` (CaseNumber.kind): 完成 is shared by kinds
    (commitments here, talk and follow-up tasks elsewhere), each area claims only its own numbers."""

    def __init__(self, word: str, *kinds: str) -> None:
        super().__init__(word)
        self.kinds = kinds

    def __call__(self, ctx: Context) -> bool:
        if not super().__call__(ctx):
            return False
        number = parse_number(ctx.args.split(" ", 1)[0]) if ctx.args else None
        case = ctx.session.get(CaseNumber, number) if number is not None else None
        return case is not None and case.kind in self.kinds


class _WithText(Prefix):
    """A listing word followed by text (CONTRACT "Chat input"): the base command with that text."""

    def __call__(self, ctx: Context) -> bool:
        return super().__call__(ctx) and bool(ctx.args)


def _make(ctx: Context, kind: str) -> str:
    text = ctx.raw_args.strip()
    if len(text) < MIN_TEXT:
        return texts.t(f"commitments.usage_{kind}")
    try:
        row = commitments.make(ctx.session, ctx.config, ctx.member, text, kind)
    except commitments.CommitmentError as exc:
        return str(exc)
    return texts.t("commitments.made", number=row.number, kind=texts.t(f"commitments.kind_{kind}"))


def yearly(ctx: Context) -> str:
    """承诺 文字 / 即时承诺 文字 — 提出年度承诺或即时承诺"""
    return _make(ctx, "yearly")


def instant(ctx: Context) -> str:
    """即时承诺 文字 — 提出即时承诺"""
    return _make(ctx, "instant")


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


def report_progress(ctx: Context) -> str:
    """践诺 编号 进展 — 报告承诺进展"""
    heads, rest = ctx.split(1)
    number = parse_number(heads[0]) if heads and heads[0] else None
    if number is None or not rest.strip():
        return texts.t("commitments.usage_progress")
    try:
        count = commitments.progress(ctx.session, ctx.member, number, rest.strip())
    except commitments.CommitmentError as exc:
        return str(exc)
    return texts.t("commitments.progress_saved", number=number, count=count)


def fulfil(ctx: Context) -> str:
    """完成 编号 — 确认党员承诺已兑现"""
    number = parse_number(ctx.args.split(" ", 1)[0])
    assert number is not None  # NumberOf matched a commitment number
    try:
        row = commitments.fulfil(ctx.session, ctx.config, ctx.member, number, ctx.state.get("branch_id"))
    except commitments.CommitmentError as exc:
        return str(exc)
    assert row.vote_until is not None  # set by fulfil
    return texts.t("commitments.fulfilled", number=number, until=row.vote_until.isoformat())


def register(router: Router) -> None:
    router.add(Prefix("即时承诺"), instant, listed=False)  # listed with 承诺
    router.add(Word("我的承诺"), mine)
    router.add(Word("承诺公示"), board)
    router.add(_WithText("承诺公示"), yearly, listed=False)  # 「承诺公示…」 with text is 承诺 with that text
    router.add(Prefix("承诺"), yearly)
    router.add(Prefix("践诺"), report_progress)
    router.add(NumberOf("完成", "commitment"), fulfil, roles=SECRETARY_ROLES)
