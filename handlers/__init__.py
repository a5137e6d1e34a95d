"""Chat handlers, one module per area; each module ends in `register(router)`. `build_router()` is the entry.

Which handler a text reaches does not depend on the order below: command words live in one table that refuses
a word claimed twice and matches run-on text by its longest word (bot/router/table.py). The order of MODULES
is only the order of lines in 帮助 (study first: it is what members use daily). Routes that are not words are
tried in this explicit order:
1. guards (handlers/chat.py): a question (「怎么打卡」「签到吗」) answers how and never acts; media gets a hint;
2. the command table;
3. events and menu keys (each module's `router.add`: menu keys, the study card's button, enter_agent);
4. free text (handlers/chat.py: intents, only check-in and 参加 act);
5. the fallback (handlers/general.py: the nearest commands).
"""

from __future__ import annotations

from bot.router import Router
from handlers import (
    approvals,
    binding,
    birthday,
    chat,
    commitments,
    done,
    general,
    notices,
    points,
    preferences,
    reviews,
    study,
    theme_day,
    tickets,
)

MODULES = (study, theme_day, tickets, points, commitments, reviews, preferences, notices, birthday, general, binding,
           approvals, done)


def build_router() -> Router:
    router = Router()
    chat.register_guards(router)
    for module in MODULES:
        module.register(router)
    chat.register_last(router)
    general.register_fallback(router)
    return router
