"""`GET /study/<slug>`: a published study item, readable on a phone; 404 for anything else.
`GET /study/`: the archive of published items by date and series, searchable (`q`, `series`, `page`)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from bot import texts
from bot.models import STUDY_SERIES
from bot.services.study import archive as study_archive
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


@bp.get("/study/")
def archive() -> str:
    runtime = current_app.extensions["dangjian"]
    raw = request.args.get("page", "1")
    with runtime.session() as session:
        found = study_archive.search(session, request.args.get("q", ""), request.args.get("series", ""),
                                     int(raw[:6]) if raw.isdigit() else 1)
    keys = ("page_back", "page_footer", "archive_title", "archive_search", "archive_all", "archive_none",
            "archive_empty", "archive_prev", "archive_next")
    labels = {k: texts.t(f"study.{k}") for k in keys}
    labels["archive_count"] = texts.t("study.archive_count", count=found.total)
    return render_template("study/archive.html", archive=found, series=STUDY_SERIES, labels=labels)
