"""述评: 自评 (self-assessment for the half-year round) and 异议 (dispute a review during its public notice);
approval is 通过 / 驳回 under the review's own number, the job `review_finalise` makes it final; the committee's
裁定 settles a review held as disputed."""

from bot import texts
from bot.router import Choice, Context, Number, Router, Text, Token
from bot.services import reviews

MIN_TEXT = 10
AREA = "述评"


def self_review(ctx: Context, text: str) -> str:
    """自评 文字 — 提交半年度自评（审核后公示 7 天）"""
    row = reviews.submit(ctx.session, ctx.config, ctx.member, text)
    return texts.t("reviews.submitted", number=row.number, period=texts.period_words(row.period))


def dispute(ctx: Context, number: int, text: str) -> str:
    """异议 编号 文字 — 对公示中的评价提异议"""
    reviews.dispute(ctx.session, ctx.config, ctx.member, number, text)
    return texts.t("reviews.disputed", number=number)


def ruling(ctx: Context, number: int, outcome: str, conclusion: str, note: str) -> str:
    """裁定 编号 维持|修改 结论 说明 — 裁定有异议的评价（维持原评价，或修改结论）"""
    reviews.rule(ctx.session, ctx.config, ctx.member, number, outcome, conclusion, note)
    shown = f"{outcome}「{conclusion}」" if conclusion else outcome
    return texts.t("reviews.ruled", number=number, outcome=shown)


def register(router: Router) -> None:
    router.command("自评", self_review, area=AREA,
                   note=f"至少 {MIN_TEXT} 个字，写明本半年度学习、工作、作风等方面的表现",
                   example="按时参加组织生活，认真学习党的理论，带头完成岗位任务",
                   args=(Text("文字", min_len=MIN_TEXT),))
    router.command("异议", dispute, area=AREA, example="#21 所述帮扶情况与事实不符",
                   args=(Number(), Text("理由")))
    router.command("裁定", ruling, roles=("committee",), area=AREA, note="修改时先写新结论再写说明，维持时不写结论",
                   example="#21 修改 基本合格 帮扶情况经核实只有一户",
                   args=(Number(), Choice("结果", "outcome", choices=tuple(reviews.RULINGS)),
                         Token("结论", "conclusion", as_sent=True, optional=True, default="",
                               only=lambda values: values["outcome"] == "修改"),
                         Text("说明", "note")))
