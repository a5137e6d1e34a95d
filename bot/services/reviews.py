"""Review rounds (述评, case 21): 自评 → branch review (通过 / 驳回 under the review's own `#N`) → 7-day public
notice to the branch (异议 编号 文字 raises a dispute) → final (job `review_finalise`).

Decisions (README.md repeats them):
- Rounds are half-years: a 自评 sent January–June belongs to `YYYY-H1` (mid-year), July–December to
  `YYYY-H2` (year-end). A member has one live review per round; after a rejection they may send 自评 again.
- Approval snapshots the member's points total for the year (`points`) and opens a public notice of 7 calendar
  days; the notice goes to the branch's active members.
- 异议: any active member of the branch except the subject, once per review, during the notice. A disputed
  review is not finalised automatically: when its notice ends it becomes `disputed` and the branch's
  secretaries and the committee are told; the others become `final`.
- 裁定 (committee only, `disputed` reviews only) settles it: `维持` keeps the self-assessment as noticed,
  `修改 结论` replaces its conclusion; either way the review becomes `final`. The model has no conclusion
  column: the ruling (outcome, conclusion, explanation, the ruling member's id, the day) is stored as `ruling`
  in the JSON payload of the review's request (`Approval` of the same number) and the audit records
  `review_ruling` with the outcome only. The points snapshot and the ledger are unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlmodel import Session, col, select

from bot import audit, clock, notify, texts
from bot.models import Approval, Member, Review, ReviewDispute
from bot.refusal import Refusal
from bot.services import approvals
from bot.services.points import core as pts
from bot.services.roster.forget import Forgotten

NOTICE_DAYS = 7
RULINGS = {"维持": "upheld", "修改": "amended"}
LIVE = ("submitted", "notice", "disputed", "final")


class ReviewError(Refusal):
    """An expected refusal; the message is the Chinese reply."""


def period_of(day: dt.date) -> str:
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def get(session: Session, number: int) -> Review:
    return approvals.get_numbered(session, Review, number, ReviewError, "reviews.not_found")


def submit(session: Session, config: Any, member: Member, text: str) -> Review:
    period = period_of(clock.today())
    stmt = select(Review).where(Review.member_id == member.id, Review.period == period, col(Review.status).in_(LIVE))
    live = session.exec(stmt).first()
    if live is not None and live.status != "submitted":
        raise ReviewError(texts.t("reviews.already", number=live.number, period=texts.period_words(period)))
    if live is not None:  # still pending: the new text replaces the old one
        live.text = text[:1000]
        session.add(live)
        request = session.exec(select(Approval).where(Approval.number == live.number)).one()
        request.summary = texts.t("reviews.summary", name=member.name, period=texts.period_words(period),
                                  text=text[:100])[:200]
        session.add(request)
        return live
    number = approvals.next_number(session, "review")
    assert member.id is not None  # a member row from the session
    row = Review(number=number, member_id=member.id, branch_id=member.branch_id, period=period, text=text[:1000],
                 created_at=clock.now())
    session.add(row)
    summary = texts.t("reviews.summary", name=member.name, period=texts.period_words(period), text=text[:100])
    request = Approval(number=number, kind="review", member_id=member.id, branch_id=member.branch_id,
                       summary=summary[:200], payload=json.dumps({"review": number}), created_at=clock.now())
    session.add(request)
    session.flush()
    audit.record(session, member.userid, "request_review", f"#{number}", period)
    approvals.announce(session, config, request)
    return row


def _branch(session: Session, row: Review, exclude: int | None = None) -> list[Member]:
    stmt = select(Member).where(col(Member.active).is_(True), Member.branch_id == row.branch_id)
    return [m for m in session.exec(stmt) if m.id != exclude]


def _on_approve(session: Session, request: Approval, decider: Member, config: Any) -> None:
    row = get(session, request.number)
    member = session.get(Member, row.member_id)
    assert member is not None  # member_id is a foreign key
    row.points = pts.total(session, config, member, clock.today().year)
    row.status, row.approved_at = "notice", clock.now()
    row.notice_until = clock.today() + dt.timedelta(days=NOTICE_DAYS)
    session.add(row)
    text = texts.t("reviews.notice", number=row.number, name=member.name, period=texts.period_words(row.period),
                   points=row.points, text=row.text[:300], until=row.notice_until.isoformat())
    notify.members(session, config, _branch(session, row, exclude=member.id), text, key=f"review:{row.number}:notice",
                   topic="review_notice")


def _on_reject(session: Session, request: Approval, decider: Member, config: Any) -> None:
    row = get(session, request.number)
    row.status = "rejected"
    session.add(row)


APPROVAL_KIND = approvals.Kind("review", "reviews.approval_label", _on_approve, _on_reject)


def dispute(session: Session, config: Any, member: Member, number: int, text: str) -> Review:
    row = get(session, number)
    in_notice = row.status == "notice" and not (row.notice_until and clock.today() > row.notice_until)
    seen = select(ReviewDispute).where(ReviewDispute.review_id == row.id, ReviewDispute.member_id == member.id)
    approvals.check_peer(session, member, row, ReviewError, ("reviews.own", "reviews.not_branch",
                         "reviews.not_in_notice", "reviews.disputed_already"), in_notice, seen)
    assert row.id is not None  # rows from the session
    assert member.id is not None
    session.add(ReviewDispute(review_id=row.id, member_id=member.id, text=text[:500], at=clock.now()))
    session.flush()
    audit.record(session, member.userid, "review_dispute", f"#{number}")
    people = [m for m in _branch(session, row) if m.has_role("secretary", "deputy")]
    notice = texts.t("reviews.dispute_notice", number=number, name=member.name, text=text[:300])
    notify.members(session, config, people, notice, key=f"review:{number}:dispute:{member.id}",
                   topic="new_request")
    return row


def disputes(session: Session, row: Review) -> list[ReviewDispute]:
    return list(session.exec(select(ReviewDispute).where(ReviewDispute.review_id == row.id)))


def finalise(session: Session, config: Any, today: dt.date) -> tuple[int, int]:
    """Reviews whose notice ended before `today`: final, or disputed. Returns (final, disputed)."""
    stmt = (select(Review).where(Review.status == "notice", col(Review.notice_until) < today)
            .order_by(col(Review.number)))
    done = held = 0
    for row in list(session.exec(stmt)):
        row.finalised_at = clock.now()
        if disputes(session, row):
            row.status, held = "disputed", held + 1
            member = session.get(Member, row.member_id)
            people = [m for m in _branch(session, row) if m.has_role("secretary", "deputy")]
            committee = select(Member).where(col(Member.active).is_(True), col(Member.roles).contains("committee"))
            people += [m for m in session.exec(committee) if m.has_role("committee") and m not in people]
            text = texts.t("reviews.held", number=row.number, name=member.name if member else "-",
                           count=len(disputes(session, row)))
            notify.members(session, config, people, text, key=f"review:{row.number}:held", topic="review_notice")
        else:
            row.status, done = "final", done + 1
            member = session.get(Member, row.member_id)
            if member is not None:
                notify.members(session, config, [member], texts.t("reviews.final", number=row.number,
                               period=texts.period_words(row.period)), key=f"review:{row.number}:final",
                               topic="review_notice")
        session.add(row)
        audit.record(session, "system", f"review_{row.status}", f"#{row.number}")
    return done, held


def rule(session: Session, config: Any, actor: Member, number: int, outcome: str, conclusion: str,
         note: str) -> Review:
    """裁定: a committee member settles a disputed review; `outcome` 维持 (keep) or 修改 (with `conclusion`).
    The subject and every disputer are told."""
    if outcome not in RULINGS or (outcome == "修改") != bool(conclusion) or not note:
        raise ReviewError(texts.t("reviews.bad_ruling"))
    if not actor.has_role("committee"):
        raise ReviewError(texts.t("reviews.ruling_committee"))
    row = get(session, number)
    if row.member_id == actor.id:
        raise ReviewError(texts.t("reviews.ruling_own", number=number))
    if row.status != "disputed":
        raise ReviewError(texts.t("reviews.not_disputed", number=number))
    row.status, row.finalised_at = "final", clock.now()
    session.add(row)
    request = session.exec(select(Approval).where(Approval.number == number)).first()
    if request is not None:
        data = json.loads(request.payload or "{}")
        data["ruling"] = {"outcome": RULINGS[outcome], "conclusion": conclusion[:200], "note": note[:500],
                          "by": actor.id, "on": clock.today().isoformat()}
        request.payload = json.dumps(data, ensure_ascii=False)
        session.add(request)
    audit.record(session, actor.userid, "review_ruling", f"#{number}", RULINGS[outcome])
    member = session.get(Member, row.member_id)
    ids = {d.member_id for d in disputes(session, row)}
    people = [m for m in ([member] if member else []) + [session.get(Member, i) for i in sorted(ids)] if m]
    key = "reviews.ruled_amended" if outcome == "修改" else "reviews.ruled_upheld"
    text = texts.t(key, number=number, name=member.name if member else "-", period=texts.period_words(row.period),
                   conclusion=conclusion[:200], note=note[:300])
    notify.members(session, config, people, text, key=f"review:{number}:ruling", topic="review_notice")
    return row


def scrub_reviews(session: Session, gone: Forgotten) -> None:
    """`forget`: the member's reviews and disputes keep their status but lose their text (searched for elsewhere)."""
    gone.keep_words(r.text for r in session.exec(select(Review).where(Review.member_id == gone.member_id)))
    gone.scrub(session, Review, Review.member_id == gone.member_id, text="（已注销）")
    gone.scrub(session, ReviewDispute, ReviewDispute.member_id == gone.member_id, text="")
