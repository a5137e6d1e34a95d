"""The admin console: the `admin` blueprint (url prefix `/admin`), its templates and static files.

`build_app` registers it with `app.register_blueprint(bp)`; importing the route modules attaches their
views to `bp`.
"""

from bot.admin import (
    approvals,
    attendance,
    commitments,
    login,
    members,
    points,
    reviews,
    study,
    theme_days,
    tickets,
    views,
    wecom_login,
)
from bot.admin.base import bp

__all__ = ["approvals", "attendance", "bp", "commitments", "login", "members", "points", "reviews", "study",
           "theme_days", "tickets", "views", "wecom_login"]
