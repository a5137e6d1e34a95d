"""述评: 自评 (self-assessment for the half-year round) and 异议 (dispute a review during its public notice);
approval is 通过 / 驳回 under the review's own number, the job `review_finalise` makes it final."""

from bot import texts
from bot.router import Context, Prefix, Router
from bot.services import reviews
from bot.services.approvals import parse_number

MIN_TEXT = 10


def self_review(ctx: Context) -> str:
    """自评 文字 — 提交半年度自评（审核后公示 7 天）"""
    text = ctx.raw_args.strip()
    if len(text) < MIN_TEXT:
        return texts.t("reviews.usage", min=MIN_TEXT)
    try:
        row = reviews.submit(ctx.session, ctx.config, ctx.member, text)
    except reviews.ReviewError as exc:
        return str(exc)
    return texts.t("reviews.submitted", number=row.number, period=row.period)


def dispute(ctx: Context) -> str:
    """异议 编号 文字 — 对公示中的评价提异议"""
    heads, rest = ctx.split(1)
    number = parse_number(heads[0]) if heads and heads[0] else None
    if number is None or not rest.strip():
        return texts.t("reviews.usage_dispute")
    try:
        reviews.dispute(ctx.session, ctx.config, ctx.member, number, rest.strip())
    except reviews.ReviewError as exc:
        return str(exc)
    return texts.t("reviews.disputed", number=number)


def register(router: Router) -> None:
    router.add(Prefix("自评"), self_review)
    router.add(Prefix("异议"), dispute)
