"""Small builders shared by tests: a roster written straight into the real database."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import select

from bot.models import Branch, Delivery, Member, OutboundMessage
from bot.runtime import Runtime


def add_roster(rt: Runtime) -> dict[str, Member]:
    """Committee `dw` over branch `b1`: a secretary, a committee member, two members (one inactive)."""
    with rt.session() as s:
        top = Branch(code="dw", name="公司党委", level="committee")
        s.add(top)
        s.flush()
        b1 = Branch(code="b1", name="第一党支部", parent_id=top.id)
        s.add(b1)
        s.flush()
        people = {
            "sec": Member(userid="sec", name="书记甲", branch_id=b1.id, roles="member;secretary",
                          joined_on=dt.date(2000, 7, 1), full_member_on=dt.date(2001, 7, 1)),
            "m1": Member(userid="m1", name="党员乙", branch_id=b1.id, phone="13800001234",
                         joined_on=dt.date(2010, 11, 25), full_member_on=dt.date(2011, 11, 25)),
            "m2": Member(userid="m2", name="党员丙", branch_id=b1.id, member_type="retired"),
            "gone": Member(userid="gone", name="离册丁", branch_id=b1.id, active=False),
            "cw": Member(userid="cw", name="委员戊", branch_id=top.id, roles="member;committee"),
        }
        s.add_all(people.values())
    return people


def texts_to(rt: Runtime, userid: str) -> list[str]:
    """Every queued text addressed to `userid`, oldest first."""
    with rt.session() as s:
        stmt = (select(OutboundMessage).join(Delivery, Delivery.message_id == OutboundMessage.id)
                .where(Delivery.recipient == userid).order_by(OutboundMessage.id))
        return [json.loads(m.payload)["content"] for m in s.exec(stmt)]
