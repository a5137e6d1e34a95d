"""Commitments (承诺践诺): 承诺 / 即时承诺 → approval under the commitment's own `#N` (通过 N / 驳回 N) →
践诺 N 进展 → 完成 N by a secretary (points `commitment_fulfilled`) → branch members vote 满意 / 不满意 →
below the satisfaction threshold the commitment is escalated to the committee.

Decisions (README.md repeats them):
- Limits per member and year: `[commitments] yearly_limit` (default 4) yearly commitments and
  `instant_limit` (default 10) instant ones; rejected ones do not count.
- 完成 is the secretary's (deputy's, committee member's): the owner reports progress with 践诺 and cannot
  mark their own commitment fulfilled, so the points are never self-awarded.
- Voting opens at 完成 and closes when every active member of the branch but the owner has voted or after
  `[commitments] vote_days` working days (checked by the `ticket_escalation` job). One vote per member,
  never the owner. Satisfaction = 满意 ÷ votes cast. It is escalated when at least `min_votes` (default 3)
  votes were cast and 满意 × 100 < `satisfaction_threshold` (default 50) × votes: 49% escalates, 50% does not.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import audit, clock, notify, texts
from bot.enums import PointsRule
from bot.models import Approval, Commitment, CommitmentProgress, CommitmentVote, Member
from bot.notify_group import Batch
from bot.refusal import Refusal
from bot.services import approvals
from bot.services.points import core as pts
from bot.services.roster.forget import Forgotten

KINDS = ("yearly", "instant")
STATUSES = ("pending", "approved", "rejected", "fulfilled")


class CommitmentError(Refusal):
    """An expected refusal; the message is the Chinese reply."""


def find(session: Session, number: int) -> Commitment | None:
    return approvals.find_numbered(session, Commitment, number)


def get(session: Session, number: int) -> Commitment:
    return approvals.get_numbered(session, Commitment, number, CommitmentError, "commitments.not_found")


def status_label(row: Commitment) -> str:
    return texts.t(f"commitments.status_{row.status}")


def make(session: Session, config: Any, member: Member, text: str, kind: str = "yearly") -> Commitment:
    year = clock.today().year
    limit = getattr(config.commitments, f"{kind}_limit")
    stmt = select(func.count()).select_from(Commitment).where(
        Commitment.member_id == member.id, Commitment.year == year, Commitment.kind == kind,
        Commitment.status != "rejected")
    if int(session.exec(stmt).one()) >= limit:
        raise CommitmentError(texts.t(f"commitments.limit_{kind}", limit=limit, year=year))
    number = approvals.next_number(session, "commitment")
    assert member.id is not None  # a member row from the session
    row = Commitment(number=number, member_id=member.id, branch_id=member.branch_id, kind=kind, year=year,
                     text=text[:500], created_at=clock.now())
    session.add(row)
    summary = texts.t("commitments.summary", name=member.name, kind=texts.t(f"commitments.kind_{kind}"),
                      text=text[:120])
    request = Approval(number=number, kind="commitment", member_id=member.id, branch_id=member.branch_id,
                       summary=summary[:200], payload=json.dumps({"commitment": number}), needs_role="secretary",
                       created_at=clock.now())
    session.add(request)
    session.flush()
    audit.record(session, member.userid, "request_commitment", f"#{number}", text[:200])
    approvals.announce(session, config, request)
    return row


def _on_approve(session: Session, request: Approval, decider: Member, config: Any) -> None:
    row = get(session, request.number)
    row.status, row.approved_at = "approved", clock.now()
    session.add(row)


def _on_reject(session: Session, request: Approval, decider: Member, config: Any) -> None:
    row = get(session, request.number)
    row.status = "rejected"
    session.add(row)


APPROVAL_KIND = approvals.Kind("commitment", "commitments.approval_label", _on_approve, _on_reject)


def mine(session: Session, member: Member, year: int | None = None) -> list[Commitment]:
    stmt = select(Commitment).where(Commitment.member_id == member.id)
    if year is not None:
        stmt = stmt.where(Commitment.year == year)
    return list(session.exec(stmt.order_by(col(Commitment.number))))


def public(session: Session, branch_id: int, year: int) -> list[tuple[Commitment, str]]:
    """The branch's approved and fulfilled commitments of the year with their owners' names (承诺公示)."""
    stmt = (select(Commitment, Member.name).join(Member, col(Member.id) == Commitment.member_id)
            .where(Commitment.branch_id == branch_id, Commitment.year == year,
                   col(Commitment.status).in_(("approved", "fulfilled")))
            .order_by(col(Commitment.number)))
    return [(row, name) for row, name in session.exec(stmt)]


def progress(session: Session, member: Member, number: int, text: str) -> int:
    """践诺: the owner reports progress on an approved commitment; returns how many reports it has."""
    row = get(session, number)
    if row.member_id != member.id:
        raise CommitmentError(texts.t("commitments.not_owner", number=number))
    if row.status != "approved":
        raise CommitmentError(texts.t("commitments.not_approved", number=number, status=status_label(row)))
    assert row.id is not None  # a row from the session
    session.add(CommitmentProgress(commitment_id=row.id, text=text[:500], at=clock.now()))
    session.flush()
    return len(progress_of(session, row))


def progress_of(session: Session, row: Commitment) -> list[CommitmentProgress]:
    stmt = select(CommitmentProgress).where(CommitmentProgress.commitment_id == row.id)
    return list(session.exec(stmt.order_by(col(CommitmentProgress.id))))


def fulfil(session: Session, config: Any, actor: Member, number: int, branch_id: int | None = None) -> Commitment:
    """完成: a secretary of the owner's branch (or a committee member) marks it fulfilled; points; voting opens."""
    row = get(session, number)
    owner = session.get(Member, row.member_id)
    assert owner is not None  # member_id is a foreign key
    if actor.id == row.member_id:
        raise CommitmentError(texts.t("commitments.own", number=number))
    if not actor.has_role("committee") and row.branch_id not in {actor.branch_id, branch_id}:
        raise CommitmentError(texts.t("commitments.not_yours", number=number))
    if row.status != "approved":
        raise CommitmentError(texts.t("commitments.not_approved", number=number, status=status_label(row)))
    row.status, row.fulfilled_at, row.fulfilled_by = "fulfilled", clock.now(), actor.userid
    row.vote_until = clock.add_workdays(clock.today(), config.commitments.vote_days)
    session.add(row)
    audit.record(session, actor.userid, "commitment_fulfilled", f"#{number}")
    pts.award(session, config, owner, PointsRule.COMMITMENT_FULFILLED, on=clock.today(), actor=actor.userid,
              reason=texts.t("commitments.reason_fulfilled", number=number), source=f"commitment:#{number}")
    voters = eligible(session, row)
    if voters:
        text = texts.t("commitments.vote_call", number=number, name=owner.name, text=row.text[:200],
                       until=row.vote_until.isoformat())
        notify.members(session, config, voters, text, key=f"commitment:{number}:vote", topic="vote_invitation")
    notify.members(session, config, [owner], texts.t("commitments.told_fulfilled", number=number),
                   key=f"commitment:{number}:fulfilled", topic="decision")
    return row


def eligible(session: Session, row: Commitment) -> list[Member]:
    stmt = select(Member).where(col(Member.active).is_(True), Member.branch_id == row.branch_id,
                         Member.id != row.member_id)
    return list(session.exec(stmt))


def tally(session: Session, row: Commitment) -> tuple[int, int]:
    """(满意 votes, votes cast)."""
    votes = session.exec(select(CommitmentVote.satisfied).where(CommitmentVote.commitment_id == row.id)).all()
    return sum(1 for v in votes if v), len(votes)


def below_threshold(config: Any, satisfied: int, votes: int) -> bool:
    return votes >= config.commitments.min_votes and satisfied * 100 < config.commitments.satisfaction_threshold * votes


def vote(session: Session, config: Any, voter: Member, row: Commitment, satisfied: bool) -> CommitmentVote:
    """满意 / 不满意 on a fulfilled commitment by a peer; the vote closes when everyone eligible voted."""
    seen = select(CommitmentVote).where(CommitmentVote.commitment_id == row.id, CommitmentVote.member_id == voter.id)
    approvals.check_peer(session, voter, row, CommitmentError, ("commitments.vote_own", "commitments.vote_branch",
                         "commitments.vote_closed", "commitments.voted_already"),
                         row.status == "fulfilled" and row.evaluated_at is None, seen)
    assert row.id is not None  # rows from the session
    assert voter.id is not None
    cast = CommitmentVote(commitment_id=row.id, member_id=voter.id, satisfied=satisfied, at=clock.now())
    session.add(cast)
    session.flush()
    _, votes = tally(session, row)
    if votes >= len(eligible(session, row)):
        evaluate(session, config, row)
    return cast


def evaluate(session: Session, config: Any, row: Commitment, batch: Batch | None = None) -> bool:
    """Close the vote; escalate to the committee when satisfaction is below the threshold (added to `batch`
    when given: one message per person per job). True if escalated."""
    satisfied, votes = tally(session, row)
    row.evaluated_at = clock.now()
    session.add(row)
    if not below_threshold(config, satisfied, votes):
        return False
    row.escalated_at = clock.now()
    owner = session.get(Member, row.member_id)
    audit.record(session, "system", "commitment_escalate", f"#{row.number}", f"{satisfied}/{votes}")
    stmt = select(Member).where(col(Member.active).is_(True), col(Member.roles).contains("committee"))
    people = [m for m in session.exec(stmt) if m.has_role("committee") and m.id != row.member_id]
    text = texts.t("commitments.escalated", number=row.number, name=owner.name if owner else "-",
                   text=row.text[:200], satisfied=satisfied, votes=votes, rate=rate_text(satisfied, votes),
                   threshold=config.commitments.satisfaction_threshold)
    if batch is not None:
        line = texts.t("commitments.escalated_line", number=row.number, name=owner.name if owner else "-",
                       rate=rate_text(satisfied, votes), threshold=config.commitments.satisfaction_threshold)
        batch.add(people, f"commitment:{row.number}:escalate", line, single=text)
    else:
        notify.members(session, config, people, text, key=f"commitment:{row.number}:escalate", topic="task")
    return True


def rate_text(satisfied: int, votes: int) -> str:
    return f"{satisfied * 100 / votes:.1f}%" if votes else "-"


def evaluate_due(session: Session, config: Any, today: dt.date, batch: Batch | None = None) -> int:
    """Close the votes whose window ended before `today`; returns how many were escalated."""
    stmt = select(Commitment).where(Commitment.status == "fulfilled", col(Commitment.evaluated_at).is_(None),
                                    col(Commitment.vote_until) < today)
    return sum(1 for row in list(session.exec(stmt)) if evaluate(session, config, row, batch))


def scrub_commitments(session: Session, gone: Forgotten) -> None:
    """`forget`: the member's commitments keep status and votes (aggregates) but lose their text (searched for
    elsewhere too)."""
    ids = [c.id for c in session.exec(select(Commitment).where(Commitment.member_id == gone.member_id))]
    gone.keep_words(c.text for c in session.exec(select(Commitment).where(Commitment.member_id == gone.member_id)))
    progress = select(CommitmentProgress).where(col(CommitmentProgress.commitment_id).in_(ids))
    gone.keep_words(p.text for p in session.exec(progress))
    gone.scrub(session, CommitmentProgress, col(CommitmentProgress.commitment_id).in_(ids), text="")
    gone.scrub(session, Commitment, Commitment.member_id == gone.member_id, text="（已注销）")
