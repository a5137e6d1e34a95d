"""Chat handlers, one module per area; each module ends in `register(router)`. The order here is the
order routes are tried and the order of the 帮助 list (study first: it is what members use daily). `chat` comes first:
a question never reaches the command it asks about."""

from __future__ import annotations

from bot.router import Router
from handlers import (
    approvals,
    binding,
    birthday,
    chat,
    commitments,
    general,
    notices,
    points,
    preferences,
    reviews,
    study,
    theme_day,
    tickets,
)

# preferences before theme_day (「取消免打扰」 is not 「取消 编号」); commitments before birthday (完成 N).
MODULES = (chat, general, preferences, notices, binding, study, approvals, points, theme_day, tickets, commitments,
           reviews, birthday)


def build_router() -> Router:
    router = Router()
    for module in MODULES:
        if module is study:
            theme_day.register_corrections(router)  # 「补签到 编号 成员」 is not study's 「补签 日期 原因」
        module.register(router)
    chat.register_last(router)  # free text: after every command
    general.register_fallback(router)
    return router
