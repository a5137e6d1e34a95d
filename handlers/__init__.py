"""Chat handlers, one module per area; each module ends in `register(router)`. The order here is the
order routes are tried and the order of the 帮助 list."""

from __future__ import annotations

from bot.router import Router
from handlers import (
    approvals,
    binding,
    birthday,
    commitments,
    general,
    points,
    preferences,
    reviews,
    study,
    theme_day,
    tickets,
)

MODULES = (general, preferences, binding, approvals, points, study, tickets, commitments, reviews, birthday,
           theme_day)


def build_router() -> Router:
    router = Router()
    for module in MODULES:
        module.register(router)
    general.register_fallback(router)
    return router
