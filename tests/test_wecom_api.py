"""Our platform client against the fake server: configured host, shared token, bounded token retry,
bounded connection retry, typed errors, Official Account customer-service messages."""

from __future__ import annotations

import threading

import pytest
import requests
from sqlmodel import select

from bot import outbox
from bot.channels.platform import PlatformError, wechat_client, wecom_client
from bot.channels.senders import ConfigurationError, TransientError, classify, sender_for
from bot.channels.wechat_api import send_custom
from bot.channels.wecom_api import send_message
from bot.models import AuditLog, Delivery, KeyValue

pytest_plugins = ("tests.fakewecom",)


def _enqueue(rt, recipients, content, channel="wecom"):
    with rt.session() as session:
        return outbox.enqueue(session, channel=channel, kind="text", payload={"content": content},
                              recipients=recipients, topic="reply", config=rt.config).id


def _statuses(rt):
    with rt.session() as session:
        return {d.recipient: (d.status, d.last_error) for d in session.exec(select(Delivery))}


@pytest.fixture(params=["database", "redis"])
def token_store(request):
    """Run a token test with the key_value table (no Redis) and with Redis."""
    if request.param == "database":
        return {}
    return {"redis": {"url": request.getfixturevalue("redis_url"),
                      "prefix": request.getfixturevalue("redis_prefix")}}


def test_one_token_for_many_sends_and_across_workers(make_rt, fake_wecom, token_store):
    first, second = make_rt(**token_store), make_rt(**token_store)
    for n in range(3):
        _enqueue(first, [f"a{n}"], f"one {n}")
        outbox.Worker(first, "w1").drain()
        _enqueue(second, [f"b{n}"], f"two {n}")
        outbox.Worker(second, "w2").drain()
    assert fake_wecom.gettoken_calls == 1
    assert len(fake_wecom.sends()) == 6
    assert all(c["query"]["access_token"] == fake_wecom.sends()[0]["query"]["access_token"]
               for c in fake_wecom.sends())
    assert {s for s, _ in _statuses(first).values()} == {"sent"}
    [gettoken] = [c for c in fake_wecom.calls if c["path"] == "/cgi-bin/gettoken"]
    assert gettoken["query"] == {"corpid": "wwfake", "corpsecret": "fake-secret"}
    if not token_store:
        with first.session() as session:
            [row] = session.exec(select(KeyValue))
        assert row.key.startswith("token:wecom:wwfake:")
        assert "fake-secret" not in row.key
    else:
        keys = first.redis.keys(token_store["redis"]["prefix"] + "token:wecom:*")
        assert len(keys) == 1
        assert 0 < first.redis.ttl(keys[0]) <= 7200 - 300


def test_concurrent_clients_fetch_one_token(make_rt, fake_wecom, token_store):
    fake_wecom.token_delay = 0.2
    clients = [wecom_client(make_rt(**token_store)) for _ in range(5)]
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda c=c: tokens.append(c.access_token)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)  # generous: the machine is shared and may be loaded
    assert len(tokens) == 5
    assert len(set(tokens)) == 1
    assert fake_wecom.gettoken_calls == 1


def test_expired_token_is_refreshed_once_and_the_send_succeeds(make_rt, fake_wecom):
    rt = make_rt()
    _enqueue(rt, ["a"], "before")
    outbox.Worker(rt, "w").drain()
    fake_wecom.expire_token()
    _enqueue(rt, ["a"], "after")
    assert outbox.Worker(rt, "w").drain()["sent"] == 1
    assert fake_wecom.gettoken_calls == 2
    assert len(fake_wecom.sends()) == 3  # one rejected with 42001, one retried
    assert fake_wecom.delivered["a"] == [{"content": "before"}, {"content": "after"}]


def test_token_errors_are_retried_once_only(make_rt, fake_wecom):
    api = wecom_client(make_rt())
    fake_wecom.fail_next(40014, times=5)
    with pytest.raises(PlatformError, match="40014") as info:
        send_message(api, 1, 60, "text", {"content": "x"}, ["a"])
    assert info.value.errcode == 40014
    assert isinstance(classify(info.value), TransientError)
    assert len(fake_wecom.sends()) == 2
    assert fake_wecom.gettoken_calls == 2


def test_bad_secret_is_a_configuration_error(make_rt, fake_wecom):
    rt = make_rt(wecom={"secret": "bad-secret"})
    with pytest.raises(ConfigurationError, match="40001"):
        sender_for(rt, "wecom").send("text", {"content": "x"}, ["a"])
    _enqueue(rt, ["a"], "x")
    assert outbox.Worker(rt, "w").drain()["failed"] == 1
    with rt.session() as session:
        [audit] = session.exec(select(AuditLog))
    assert audit.action == "delivery_config_error"
    assert "40001" in audit.detail
    assert fake_wecom.sends() == []


def test_every_call_goes_to_the_configured_host(make_rt, fake_wecom):
    api = wecom_client(make_rt())
    assert api.url("menu/create") == api.url("/cgi-bin/menu/create") == fake_wecom.url + "/cgi-bin/menu/create"
    assert api.timeout == 2.0
    send_message(api, 1, 60, "markdown", {"content": "**x**"}, ["a", "b"])
    assert [c["path"] for c in fake_wecom.calls] == ["/cgi-bin/gettoken", "/cgi-bin/message/send"]
    assert fake_wecom.calls[1]["body"]["touser"] == "a|b"


def test_official_account_messages(make_rt, fake_wecom):
    rt = make_rt()
    fake_wecom.out_of_window({"o-late"})
    _enqueue(rt, ["o-1", "o-late", "o-2"], "你好", channel="wechat")
    stats = outbox.Worker(rt, "w").drain()
    assert (stats["sent"], stats["failed"]) == (2, 1)
    statuses = _statuses(rt)
    assert statuses["o-1"] == ("sent", None)
    assert statuses["o-late"][0] == "failed"
    assert "45047" in statuses["o-late"][1]
    assert fake_wecom.delivered["o-1"] == [{"content": "你好"}]
    [token] = [c for c in fake_wecom.calls if c["path"] == "/cgi-bin/token"]
    assert token["query"] == {"grant_type": "client_credential", "appid": "wxfake", "secret": "fake-app-secret"}
    with rt.session() as session:
        assert list(session.exec(select(AuditLog))) == []  # outside 48 h is not a configuration error


def test_official_account_stale_token_and_busy(make_rt, fake_wecom):
    rt = make_rt()
    api = wechat_client(rt)
    send_custom(api, "text", {"content": "a"}, "o-1")
    fake_wecom.fail_next(40001, path="/cgi-bin/message/custom/send")  # stale token on an Official Account
    send_custom(api, "textcard", {"title": "t", "description": "d", "url": "http://x"}, "o-1")
    assert fake_wecom.gettoken_calls == 2
    assert fake_wecom.delivered["o-1"][1] == {"articles": [
        {"title": "t", "description": "d", "url": "http://x", "picurl": ""}]}
    fake_wecom.fail_next(-1, path="/cgi-bin/message/custom/send")
    result = sender_for(rt, "wechat").send("text", {"content": "b"}, ["o-1", "o-2"])
    assert result.sent == []
    assert set(result.retry) == {"o-1", "o-2"}


def test_http_errors_and_refused_connections_are_typed(make_rt, fake_wecom):
    api = wecom_client(make_rt())
    api.access_token  # noqa: B018 - fetched before the failures below
    fake_wecom.fail_with_status(502)
    with pytest.raises(PlatformError) as info:
        send_message(api, 1, 60, "text", {"content": "x"}, ["a"])
    assert (info.value.errcode, info.value.status) == (None, 502)
    assert isinstance(classify(info.value), TransientError)
    dead = wecom_client(make_rt(wecom={"api_base_url": "http://127.0.0.1:9"}))
    with pytest.raises(requests.ConnectionError):
        dead.get("user/get", {"userid": "a"})
    assert isinstance(classify(requests.ConnectionError("refused")), TransientError)


def test_a_connection_that_fails_once_is_tried_again(make_rt, fake_wecom, monkeypatch):
    api = wecom_client(make_rt())
    real = api.http.request
    calls = []

    def flaky(method, url, **kwargs):
        calls.append(url)
        if len(calls) == 1:
            raise requests.ConnectionError("connection reset before the request was sent")
        return real(method, url, **kwargs)

    monkeypatch.setattr(api.http, "request", flaky)
    monkeypatch.setattr("bot.channels.platform.RETRY_PAUSE", 0.0)
    assert send_message(api, 1, 60, "text", {"content": "again"}, ["a"])["errcode"] == 0
    assert len(calls) == 3  # gettoken refused once then answered, then the send
    assert fake_wecom.delivered["a"] == [{"content": "again"}]
