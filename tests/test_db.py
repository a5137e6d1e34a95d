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


def test_delivery_keeps_one_index_per_access_path(backend):
    """0019_delivery_index: no single-column index on delivery.message_id (the unique (message_id, recipient)
    index leads with it); a downgrade puts it back and the upgrade takes it away again."""
    import sqlalchemy as sa

    def indexes() -> set[str]:
        engine = sa.create_engine(db.normalise_url(backend))
        try:
            inspector = sa.inspect(engine)
            names = {ix["name"] for ix in inspector.get_indexes("delivery")}
            unique = {uq["name"] for uq in inspector.get_unique_constraints("delivery")}
        finally:
            engine.dispose()
        return names | unique

    kept = {"ix_delivery_claim", "ix_delivery_batch", "ix_delivery_recipient", "uq_delivery_message_recipient"}
    assert kept <= indexes()
    assert "ix_delivery_message_id" not in indexes()
    command.downgrade(db.alembic_config(backend), "0018_perf")
    assert "ix_delivery_message_id" in indexes()
    command.upgrade(db.alembic_config(backend), "head")
    assert kept <= indexes()
    assert "ix_delivery_message_id" not in indexes()
