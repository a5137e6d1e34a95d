"""JSON-lines logs (DANGJIAN_LOG_FORMAT=json): one line per request with its id, timings and the hashed dedup
key of a callback; never a userid, least of all a sealed reporter's."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot import logjson
from bot.web import build_app
from tests.callbacks import WECOM, post_wecom, say_wecom, text_xml
from tests.conftest import make_runtime
from tests.helpers import add_roster


@pytest.fixture
def json_log(monkeypatch):
    monkeypatch.setenv(logjson.ENV, "json")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logjson.JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.fixture
def client(backend):
    runtime = make_runtime(backend, wecom=WECOM)
    add_roster(runtime)
    yield build_app(runtime=runtime).test_client()
    runtime.close()


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_callback_writes_one_json_request_line(json_log, client):
    xml = text_xml("m1", "帮助", msg_id=4242)
    resp = post_wecom(client, xml, nonce="n4242")
    assert resp.status_code == 200
    assert resp.headers["X-Request-Id"]
    [line] = [x for x in lines(json_log) if x["logger"] == "bot.request"]
    assert line["request_id"] == resp.headers["X-Request-Id"]
    assert line["method"] == "POST"
    assert line["path"] == "/wecom/callback"  # never the query string
    assert line["endpoint"] == "core.wecom"
    assert line["status"] == 200
    assert line["ms"] >= line["handle_ms"] > 0
    assert line["dedup"] == logjson.hashed("wecom:msg:4242")  # a text message's dedup key (its MsgId), hashed
    assert "4242" not in json_log.getvalue()
    assert "m1" not in json_log.getvalue()
    assert {"ts", "level", "pid", "msg"} <= set(line)


def test_a_proxy_request_id_is_kept_and_a_bad_one_replaced(json_log, client):
    good = client.get("/healthz", headers={"X-Request-Id": "abc-123.x"})
    bad = client.get("/healthz", headers={"X-Request-Id": "a b'c"})
    assert good.headers["X-Request-Id"] == "abc-123.x"
    assert bad.headers["X-Request-Id"] != "a b'c"
    assert len(bad.headers["X-Request-Id"]) == 16
    ids = [x["request_id"] for x in lines(json_log) if x["logger"] == "bot.request"]
    assert ids == ["abc-123.x", bad.headers["X-Request-Id"]]


def test_a_sealed_report_leaves_no_userid_in_any_log_line(json_log, client):
    reply = say_wecom(client, "m1", "匿名反映 食堂的账目不公开")
    assert reply  # the reporter is answered
    text = json_log.getvalue()
    assert any(x["logger"] == "bot.request" and x.get("dedup") for x in lines(json_log))
    assert "m1" not in text
    assert "食堂" not in text


def test_text_logs_stay_the_default(monkeypatch, client, caplog):
    monkeypatch.delenv(logjson.ENV, raising=False)
    with caplog.at_level(logging.INFO, logger="bot.request"):
        client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "bot.request"]
