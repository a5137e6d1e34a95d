"""The console's one pattern for an action on a numbered item (`#N`): done by the signed-in roster member in one
write transaction with the same service function the chat command uses; a refusal (or an operator account,
which acts for nobody) comes back into the page on that item's card; success is flashed and redirected. The
pages of numbered items (待审, 问题建议, 承诺, 述评) render through `item_page`, which shows those refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlmodel import Session

from bot.admin.base import acting_member, runtime
from bot.admin.tables import export_url
from bot.config import Config
from bot.models import Member
from bot.refusal import Refusal


def act_on(number: int, act: Callable[[Session, Config, Member], str], *, verb: str, who: str,
           page: Callable[[dict[int, str]], ResponseReturnValue], then: str) -> ResponseReturnValue:
    """Run `act(session, config, actor)` for item `number`; it returns the confirmation to flash. `verb` and `who`
    word the refusal to an operator account ("运维账号不能{verb}：…以{who}身份{verb}。"); `page(errors)` renders
    the page with the refusal on the item; `then` is where a success redirects."""
    try:
        with runtime().write() as s:
            actor = acting_member(s)
            if actor is None:
                raise Refusal(f"运维账号不能{verb}：请用企业微信登录，以{who}身份{verb}。")
            done = act(s, runtime().config, actor)
    except Refusal as exc:
        return page({number: str(exc)})
    flash(done, "ok")
    return redirect(then)


def item_page(template: str, errors: dict[int, str] | None, **context: Any) -> ResponseReturnValue:
    """Render a page of numbered items with its export link; after a refused action, with each refusal on its
    item's card (`errors`), the form as it was posted (`form`, to fill in again) and status 400."""
    return render_template(template, errors=errors or {}, form=request.form if errors else {}, export=export_url(),
                           **context), 400 if errors else 200
