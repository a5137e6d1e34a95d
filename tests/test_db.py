"""Schema: migrations create exactly what the models describe, on SQLite and PostgreSQL, idempotently."""

from alembic import command
from sqlmodel import select

from bot import db
from bot.models import Member
from tests.conftest import make_runtime


def test_migrations_match_the_models(backend):
    db.upgrade(backend)  # a second upgrade is a no-op
    command.check(db.alembic_config(backend))  # raises when the models and migrations differ


def test_datetimes_come_back_aware_in_utc(backend):
    import datetime as dt

    from bot import clock

    rt = make_runtime(backend)
    moment = clock.now()
    with rt.session() as s:
        s.add(Member(userid="t1", name="时间", welcomed_at=moment))
    with rt.session() as s:
        back = s.exec(select(Member).where(Member.userid == "t1")).one().welcomed_at
    assert back == moment
    assert back.tzinfo == dt.UTC
    rt.close()
