"""述评: 自评 (self-assessment for the half-year round) and 异议 (dispute a review during its public notice);
approval is 通过 / 驳回 under the review's own number, the job `review_finalise` makes it final; the committee's
裁定 settles a review held as disputed."""

import re

from bot import texts
from bot.router import Context, Number, Router, Text
from bot.services import reviews
from bot.services.approvals import parse_number

MIN_TEXT = 10
AREA = "述评"
_SEP = re.compile(r"[\s,，、:：]+")  # as between any arguments (bot.router)


def self_review(ctx: Context) -> str:
    """自评 文字 — 提交半年度自评（审核后公示 7 天）"""
    text = ctx.raw_args.strip()
    if len(text) < MIN_TEXT:
        return texts.t("reviews.usage", min=MIN_TEXT)
    row = reviews.submit(ctx.session, ctx.config, ctx.member, text)
    return texts.t("reviews.submitted", number=row.number, period=texts.period_words(row.period))


def dispute(ctx: Context, number: int, text: str) -> str:
    """异议 编号 文字 — 对公示中的评价提异议"""
    reviews.dispute(ctx.session, ctx.config, ctx.member, number, text)
    return texts.t("reviews.disputed", number=number)


def ruling(ctx: Context) -> str:
    """裁定 编号 维持|修改 结论 说明 — 裁定有异议的评价（维持原评价，或修改结论）"""
    heads, rest = ctx.split(2)
    number = parse_number(heads[0]) if heads and heads[0] else None
    outcome = heads[1] if len(heads) > 1 else ""
    conclusion, note = "", rest.strip()
    if outcome == "修改":  # the conclusion is one token, the explanation the rest (both as sent)
        parts = _SEP.split(note, maxsplit=1)
        conclusion, note = parts[0], (parts[1].strip() if len(parts) > 1 else "")
    if number is None or outcome not in reviews.RULINGS or not note:
        return texts.t("reviews.usage_ruling")
    reviews.rule(ctx.session, ctx.config, ctx.member, number, outcome, conclusion, note)
    shown = f"{outcome}「{conclusion}」" if conclusion else outcome
    return texts.t("reviews.ruled", number=number, outcome=shown)


def register(router: Router) -> None:
    router.command("自评", self_review, area=AREA)
    router.command("异议", dispute, area=AREA, example="#21 所述帮扶情况与事实不符",
                   args=(Number(), Text("理由")))
    router.command("裁定", ruling, roles=("committee",), area=AREA)
