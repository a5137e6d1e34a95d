"""`GET /study/<slug>`: a published study item, readable on a phone; 404 for anything else."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from bot import texts
from bot.services.study import core as study

bp = Blueprint("study", __name__, template_folder=str(texts.CONTENT / "templates"))


@bp.get("/study/<slug>")
def page(slug: str) -> str:
    runtime = current_app.extensions["dangjian"]
    with runtime.session() as session:
        item = study.published_item(session, slug)
    if item is None:
        abort(404)
    paragraphs = [p.strip() for p in item.body.splitlines() if p.strip()]
    return render_template("study/page.html", item=item, paragraphs=paragraphs,
                           labels={k: texts.t(f"study.{k}") for k in ("page_back", "page_question", "page_footer")})
