"""The services' extension points, each listed once: approval kinds and forget hooks.

Nothing registers itself on import: a feature defines its `Kind` (`APPROVAL_KIND`) or its hook function,
and its line is added here. The lists are built on first use (importing the feature modules then), so
importing this module does no work, and `forget` erases tickets whatever else the process imported.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services.approvals import Kind
    from bot.services.roster.forget import ForgetHook


@functools.cache
def approval_kinds() -> dict[str, Kind]:
    """Every kind of request 待审 lists, by name (`Approval.kind`)."""
    from bot.services import commitments, reviews
    from bot.services.points import admin as points_admin
    from bot.services.study import makeup as study_makeup
    from bot.services.theme_day import core as theme_day

    kinds = (study_makeup.APPROVAL_KIND,  # makeup: 补签
             theme_day.APPROVAL_KIND,  # leave: 请假
             points_admin.APPROVAL_KIND,  # points: 积分调整 over the limit
             reviews.APPROVAL_KIND,  # review: 评议 ratings
             commitments.APPROVAL_KIND)  # commitment: 承诺
    table = {kind.name: kind for kind in kinds}
    if len(table) != len(kinds):
        raise ValueError("two approval kinds share a name")
    return table


@functools.cache
def forget_hooks() -> tuple[ForgetHook, ...]:
    """What `forget` runs, in this order, before the sweep of every text column (roster_forget)."""
    from bot import paging
    from bot.services import commitments, reviews
    from bot.services.roster import forget as roster_forget
    from bot.services.tickets import core as tickets

    return (roster_forget.scrub_inbound, roster_forget.scrub_deliveries, roster_forget.scrub_own_texts,
            roster_forget.scrub_audit_targets, reviews.scrub_reviews, tickets.scrub_tickets,
            commitments.scrub_commitments, paging.scrub_pages)
