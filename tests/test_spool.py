"""Database unreachable: callbacks are accepted into the local spool ("已收到，稍后答复"), /healthz says 503,
and the spool is replayed once the database is back: effect once, dated by receipt, reply pushed."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import threading
import time

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot import clock, inbound_recovery, spool
from bot.models import InboundMessage, Ticket
from bot.web import build_app
from tests.callbacks import WECOM, decrypt_reply, post_wecom, text_xml
from tests.conftest import DEFAULT_NOW, make_runtime
from tests.helpers import add_roster, texts_to
from tests.tcp_proxy import TcpProxy

ACCEPTED = "已收到，稍后答复"


def dead_url(backend: str, tmp_path) -> str:
    """The same kind of database, unreachable: a closed port, or a file in a missing directory."""
    if backend.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'missing' / 'gone.db'}"
    return "postgresql://postgres@127.0.0.1:1/nowhere"


@pytest.fixture
def outage(backend, tmp_path):
    """(test client of an app whose database is down, spool dir, the real database URL)."""
    live = make_runtime(backend)
    add_roster(live)
    live.close()
    folder = tmp_path / "spool"
    rt = make_runtime(dead_url(backend, tmp_path), wecom=WECOM, app={"spool_dir": str(folder)})
    yield build_app(runtime=rt).test_client(), folder, backend
    rt.close()


def _say(client, user: str, content: str, msg_id: int):
    resp = post_wecom(client, text_xml(user, content, msg_id=msg_id))
    text = decrypt_reply(resp.data).get("Content") if resp.status_code == 200 and resp.data else ""
    return resp.status_code, text


def test_outage_spools_then_replays_once_dated_by_receipt(outage, tmp_path):
    client, folder, url = outage
    assert client.get("/healthz").status_code == 503
    assert _say(client, "m1", "反映 食堂饭菜太咸了", 9001) == (200, ACCEPTED)
    assert _say(client, "m1", "反映 食堂饭菜太咸了", 9001) == (200, ACCEPTED)  # WeCom's retry, spooled again
    assert client.get("/healthz").status_code == 503
    files = sorted(folder.glob("*.json"))
    assert len(files) == 2
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record["sender"].startswith("enc:")  # the sender only encrypted under seal_key
        assert "m1" not in path.read_text(encoding="utf-8").replace(record["sender"], "")
    clock.freeze(DEFAULT_NOW + dt.timedelta(hours=2))  # the database is back two hours later
    rt = make_runtime(url, app={"spool_dir": str(folder)})
    clock.freeze(DEFAULT_NOW + dt.timedelta(hours=2))
    try:
        assert inbound_recovery.run_pass(rt) == {"spooled": 2, "recovered": 0}
        assert inbound_recovery.run_pass(rt) == {"spooled": 0, "recovered": 0}
        assert list(folder.glob("*.json")) == []
        with rt.session() as session:
            tickets = list(session.exec(select(Ticket)))
            rows = list(session.exec(select(InboundMessage)))
        assert len(tickets) == 1  # two spooled copies, one effect
        assert clock.local(tickets[0].created_at) == DEFAULT_NOW  # dated by receipt, not by the replay
        assert [(r.status, r.sender, r.payload) for r in rows] == [("pushed", "", None)]
        assert clock.local(rows[0].received_at) == DEFAULT_NOW
        pushed = texts_to(rt, "m1")
        assert len(pushed) == 1
        assert f"#{tickets[0].number}" in pushed[0] or "已收到" in pushed[0]
    finally:
        rt.close()


def test_full_spool_answers_503(outage, tmp_path):
    client, folder, _ = outage
    rt = client.application.extensions["dangjian"]
    rt.config = rt.config.replace(app=rt.config.app.replace(spool_max_mb=1))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "00000000000000000000-filler.json").write_bytes(b" " * (1024 * 1024))
    status, _ = _say(client, "m1", "积分", 9002)
    assert status == 503
    assert len(list(folder.glob("*.json"))) == 1  # nothing added


def test_retry_after_the_database_is_back_wins_over_the_spool(outage, tmp_path):
    """The member's retry reaches a healthy database before any replay: handled there, passively
    answered; the replay then finds the message done and drops it without a second effect."""
    client, folder, url = outage
    assert _say(client, "m2", "反映 路灯坏了", 9003) == (200, ACCEPTED)
    rt = make_runtime(url, wecom=WECOM, app={"spool_dir": str(folder)})
    try:
        healthy = build_app(runtime=rt).test_client()
        assert healthy.get("/healthz").status_code == 200
        status, reply = _say(healthy, "m2", "反映 路灯坏了", 9003)
        assert status == 200
        assert "#" in reply
        deadline = clock.monotonic() + 20  # the callback also kicked a replay in the background
        while spool.has_pending(rt.config) and clock.monotonic() < deadline:
            inbound_recovery.replay_spool(rt)
            time.sleep(0.05)
        assert list(folder.glob("*.json")) == []
        with rt.session() as session:
            assert len(list(session.exec(select(Ticket)))) == 1
        assert texts_to(rt, "m2") == []  # the passive reply was the answer; nothing pushed twice
    finally:
        rt.close()


def test_a_damaged_spool_file_is_set_aside(backend, tmp_path):
    folder = tmp_path / "spool"
    folder.mkdir()
    (folder / "00000000000000000001-x.json").write_text("{not json", encoding="utf-8")
    rt = make_runtime(backend, app={"spool_dir": str(folder)})
    try:
        assert inbound_recovery.replay_spool(rt) == 0
    finally:
        rt.close()
    assert [p.name for p in folder.iterdir()] == ["00000000000000000001-x.json.bad"]
    assert not spool.has_pending(rt.config)


def _waiting_on_ticket(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted "
                            "AND relation = 'ticket'::regclass").fetchone()[0] > 0


def test_connection_cut_mid_handling_is_spooled_and_finished_later(postgres_url, tmp_path):
    """The handler waits inside its transaction when a local TCP proxy cuts the database connection:
    the member hears 「已收到，稍后答复」, and once the database is reachable again the message has its
    effect once and the real reply is pushed."""
    live = make_runtime(postgres_url)
    add_roster(live)
    live.close()
    target = make_url(postgres_url)
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432))
    proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    folder = tmp_path / "spool"
    rt = make_runtime(proxied, wecom=WECOM, app={"spool_dir": str(folder), "inbound_lease_seconds": 1})
    client = build_app(runtime=rt).test_client()
    answer: dict[str, tuple[int, str]] = {}
    thread = threading.Thread(target=lambda: answer.setdefault("first", _say(client, "m1", "反映 楼顶漏水", 9100)))
    lock = psycopg.connect(postgres_url)
    try:
        lock.execute("LOCK TABLE ticket IN ACCESS EXCLUSIVE MODE")
        thread.start()
        deadline = clock.monotonic() + 30
        while not _waiting_on_ticket(postgres_url):
            assert clock.monotonic() < deadline, "the handler never reached the ticket table"
            time.sleep(0.05)
        proxy.cut()
        lock.rollback()
        thread.join(timeout=60)
        assert answer["first"] == (200, ACCEPTED)
        assert client.get("/healthz").status_code == 503
        assert len(list(folder.glob("*.json"))) == 1
        proxy.restore()
        assert client.get("/healthz").status_code == 200
        deadline = clock.monotonic() + 60
        while not texts_to(rt, "m1"):  # the dead connection's backend must go before the row is free
            assert clock.monotonic() < deadline, "the spooled message was never finished"
            inbound_recovery.run_pass(rt)
            time.sleep(0.2)
        with rt.session() as session:
            (ticket,) = session.exec(select(Ticket)).all()
            (row,) = session.exec(select(InboundMessage)).all()
        assert f"#{ticket.number}" in texts_to(rt, "m1")[0]
        assert (row.status, row.sender) == ("pushed", "")
        assert list(folder.glob("*.json")) == []
    finally:
        thread.join(timeout=30)
        lock.close()
        rt.close()
        proxy.close()


def test_a_file_another_process_is_replaying_is_left_alone(outage, tmp_path):
    client, folder, url = outage
    assert _say(client, "m1", "积分", 9200) == (200, ACCEPTED)
    (path,) = folder.glob("*.json")
    rt = make_runtime(url, app={"spool_dir": str(folder)})
    try:
        with path.open("rb") as held:  # another process holds the file's lock while it replays it
            fcntl.flock(held.fileno(), fcntl.LOCK_EX)
            assert inbound_recovery.replay_spool(rt) == 0
            assert path.exists()
        assert inbound_recovery.replay_spool(rt) == 1
        assert not path.exists()
        with rt.session() as session:
            assert [r.status for r in session.exec(select(InboundMessage))] == ["pushed"]
    finally:
        rt.close()


def test_a_spooled_message_keeps_its_text_as_sent_and_its_sender_sealed():
    from bot.message import InboundMessage as Msg
    from tests.conftest import make_config

    config = make_config(app={"secret_key": "k" * 32})
    sent = "承诺：每月走访困难党员１次"
    msg = Msg(channel="wecom", sender="m1", msg_type="text", text="承诺:每月走访困难党员1次", sent=sent,
              msg_id="42", create_time=1764000000)
    record = spool.encode(config, msg, DEFAULT_NOW)
    assert "m1" not in json.loads(record)["sender"]  # encrypted under seal_key
    back, received = spool.decode(config, record)
    assert (back.sent, back.text, back.sender, received) == (sent, msg.text, "m1", DEFAULT_NOW)
    older = json.loads(record)
    del older["sent"]  # a file spooled before `sent` existed still replays
    assert spool.decode(config, json.dumps(older))[0].sent == ""
