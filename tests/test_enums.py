"""Closed sets of stored values: StrEnums in bot/enums.py, CHECK constraints from migration 0015_enum_checks
on SQLite and PostgreSQL (a bad value is refused by the database), and the migration frozen to the enums."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import psycopg
import pytest
from alembic import command
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from bot import clock, db
from bot.enums import CHECKED_COLUMNS, DeliveryStatus, MemberType, Role
from bot.models import (
    MEMBER_TYPES,
    ROLES,
    Approval,
    CaseNumber,
    Delivery,
    Member,
    OutboundMessage,
    ThemeDay,
    Ticket,
)
from tests.conftest import PG_ADMIN_URL, make_runtime
from tests.helpers import add_roster

MIGRATION = Path(__file__).resolve().parent.parent / "bot" / "migrations" / "versions" / "0015_enum_checks.py"


def _migration():
    spec = importlib.util.spec_from_file_location("enum_checks", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_checks_exactly_the_enum_values():
    frozen = _migration().CHECKS
    assert frozen == {where: tuple(v.value for v in enum) for where, enum in CHECKED_COLUMNS.items()}
    assert set(frozen[("delivery", "status")]) == {"queued", "sending", "sent", "failed", "expired", "skipped",
                                                  "folded"}
    assert MEMBER_TYPES == tuple(MemberType)
    assert ROLES == tuple(Role)
    assert DeliveryStatus.SENT == "sent"  # a StrEnum member is its string: queries and JSON see no difference


def _bad_rows(session, roster):
    """One row per constrained column, each with a value outside its set."""
    branch_id = roster["m1"].branch_id
    numbers = [CaseNumber(kind="x", created_at=clock.now()) for _ in range(3)]
    session.add_all(numbers)
    message = OutboundMessage(channel="console", kind="text", payload="{}")
    session.add(message)
    session.flush()
    member_id = session.get(Member, roster["m1"].id).id
    return {
        "member": lambda: session.get(Member, member_id).__setattr__("member_type", "elderly"),
        "delivery": lambda: session.add(Delivery(message_id=message.id, recipient="m1", status="lost")),
        "approval": lambda: session.add(Approval(number=numbers[0].id, kind="leave", member_id=member_id,
                                                 summary="x", status="maybe")),
        "ticket": lambda: session.add(Ticket(number=numbers[1].id, kind="problem", text="x", status="pending")),
        "theme_day": lambda: session.add(ThemeDay(number=numbers[2].id, branch_id=branch_id, starts_at=clock.now(),
                                                  place="x", topic="x", status="done")),
    }


@pytest.mark.parametrize("table", ["member", "delivery", "approval", "ticket", "theme_day"])
def test_the_database_refuses_a_value_outside_the_set(backend, table):
    rt = make_runtime(backend)
    roster = add_roster(rt)
    def refused() -> None:
        with rt.session() as s:
            _bad_rows(s, roster)[table]()
            s.flush()

    with pytest.raises(sa_exc.IntegrityError, match=f"ck_{table}_"):
        refused()
    with rt.session() as s:  # nothing of the refused transaction stayed
        assert s.get(Member, roster["m1"].id).member_type == "regular"
        assert s.exec(text("SELECT count(*) FROM delivery")).scalar_one() == 0
        s.add(Delivery(message_id=s.exec(text("SELECT min(id) FROM outbound_message")).scalar_one() or
                       _message(s), recipient="m1", status=DeliveryStatus.FOLDED))
        s.flush()  # a value of the set is accepted
    rt.close()


def _message(session) -> int:
    message = OutboundMessage(channel="console", kind="text", payload="{}")
    session.add(message)
    session.flush()
    assert message.id is not None
    return message.id


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An empty database of its own (the down-and-up round trip must not touch the shared test database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"dj_enum_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rpartition("/")[0] + "/" + name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migration_goes_down_and_up_with_data(fresh_url):
    cfg = db.alembic_config(fresh_url)
    command.upgrade(cfg, "0013_inbound_lease")
    engine = db.make_engine(fresh_url)
    with engine.begin() as conn:  # existing rows with good values survive the table rebuild on SQLite
        conn.execute(text("INSERT INTO branch (code, name, level, push_enabled) VALUES ('b1', '一支部', 'branch', "
                          "true)"))
        conn.execute(text("INSERT INTO member (userid, name, roles, member_type, active, session_version, "
                          "do_not_disturb, birthday_optout) VALUES ('m1', '甲', 'member', 'frail', true, 0, false, "
                          "false)"))
    command.upgrade(cfg, "0015_enum_checks")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT member_type FROM member")).scalar_one() == "frail"
    with pytest.raises(sa_exc.IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE member SET member_type = 'elderly'"))
    command.downgrade(cfg, "0013_inbound_lease")
    with engine.begin() as conn:  # no constraint any more
        conn.execute(text("UPDATE member SET member_type = 'elderly'"))
        conn.execute(text("UPDATE member SET member_type = 'retired'"))
    command.upgrade(cfg, "heads")
    engine.dispose()
