"""#11 item 2: the services behind 签到, 签到码, 出勤, 补签到, 准假, 销假, 满意 / 不满意, 学习 and 通知 return typed
results (no worded string), and bot.wording turns each into the reply the chat, the console and the 扫码签到 page
show (the dialog tests assert the full texts)."""

from __future__ import annotations

import datetime as dt
import typing

import pytest

from bot import texts, wording
from bot.models import Member, StudyItem, ThemeDay
from bot.services import commitments, notices
from bot.services.study import push as study_push
from bot.services.theme_day import fix as theme_day_fix
from bot.services.theme_day import signin as theme_day_signin
from bot.services.tickets import handling as ticket_handling

CONVERTED = [theme_day_signin.sign_in, theme_day_signin.signin_code, theme_day_signin.turnout,
             theme_day_fix.manual_sign_in, theme_day_fix.excuse, theme_day_fix.cancel_leave, ticket_handling.rate,
             commitments.vote, notices.folded, study_push.show_today]


@pytest.mark.parametrize("function", CONVERTED, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_services_return_results_not_sentences(function):
    assert typing.get_type_hints(function)["return"] is not str


def test_wording_of_results():
    event = ThemeDay(number=12, topic="学习党章", starts_at=dt.datetime(2026, 12, 5, 6, 30, tzinfo=dt.UTC),
                     place="三楼", branch_id=1)
    member = Member(userid="zs", name="张三")
    done = theme_day_fix.Correction("signin", "after", member, event, back=5)
    assert wording.correction(done) == texts.t("theme_day.fix_signed_after", name="张三", number=12, back=5)
    plain = theme_day_fix.Correction("excuse", "after", member, event)
    assert wording.correction(plain) == "已为 张三 补记主题党日 #12 请假。"
    assert wording.leave_cancelled(None) == texts.t("theme_day.unleave_none")
    assert wording.leave_cancelled(event) == "已销假：请按时参加主题党日 #12。"
    rating = ticket_handling.Rating(7, "reopened", dt.date(2026, 12, 10))
    assert wording.rating(rating) == "已记录您的不满意，#7 重新办理，期限 2026-12-10。"
    assert wording.folded([]) == texts.t("outbox.listing_none")
    assert wording.today(study_push.Today(None, next=dt.date(2026, 12, 7))) == texts.t("study.rest_day",
                                                                                       next="12月7日")
    item = StudyItem(slug="a1", series="党章", title="标题a1", summary="摘要", question="问题？")
    reply = wording.today(study_push.Today(item, "https://x/study/a1", review=True))
    assert "「温故」标题a1" in reply
    assert "https://x/study/a1" in reply
    assert "问题？" in reply
