"""Official Account callbacks (plain and safe mode, binding), /healthz and `dangjian say`."""

import datetime as dt
import os
import subprocess
import sys

import pytest
import xmltodict
from click.testing import CliRunner
from sqlmodel import select

from bot import clock
from bot.cli import cli
from bot.models import Member
from bot.web import build_app
from tests.callbacks import AES_KEY, APP_ID, TOKEN, WECHAT, wechat_query, wechat_safe
from tests.conftest import make_runtime
from tests.helpers import add_roster


def oa_text(openid, content, msg_id):
    return (f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{clock.timestamp()}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


@pytest.fixture
def oa(backend):
    runtime = make_runtime(backend, wechat=WECHAT)
    add_roster(runtime)
    yield build_app(runtime=runtime).test_client(), runtime
    runtime.close()


def test_oa_url_verification_and_bad_signature(oa):
    client, _ = oa
    ok = client.get(f"/wechat/callback?{wechat_query()}&echostr=hello")
    assert ok.status_code == 200
    assert ok.data == b"hello"
    bad = client.get(f"/wechat/callback?{wechat_query().replace('signature=', 'signature=0')}&echostr=x")
    assert bad.status_code == 403


def test_oa_plain_mode_binding_then_help(oa):
    client, rt = oa
    post = lambda content, i: client.post(f"/wechat/callback?{wechat_query()}",  # noqa: E731
                                          data=oa_text("openid-abc", content, i).encode(), content_type="text/xml")
    first = xmltodict.parse(post("帮助", 1).data)["xml"]["Content"]
    assert "绑定 工号 手机后四位" in first
    wrong = xmltodict.parse(post("绑定 m1 9999", 2).data)["xml"]["Content"]
    assert "不匹配" in wrong
    done = xmltodict.parse(post("绑定 M1 1234", 3).data)["xml"]["Content"]
    assert "绑定成功" in done
    with rt.session() as s:
        assert s.exec(select(Member).where(Member.userid == "m1")).one().openid == "openid-abc"
    help_text = xmltodict.parse(post("帮助", 4).data)["xml"]["Content"]
    assert "免打扰" in help_text


def test_oa_binding_is_throttled(oa):
    client, _ = oa
    for i in range(5):
        resp = client.post(f"/wechat/callback?{wechat_query()}", data=oa_text("openid-x", f"绑定 m1 000{i}", 100 + i))
        assert "不匹配" in xmltodict.parse(resp.data)["xml"]["Content"]
    resp = client.post(f"/wechat/callback?{wechat_query()}", data=oa_text("openid-x", "绑定 m1 1234", 200))
    assert "次数过多" in xmltodict.parse(resp.data)["xml"]["Content"]


def test_oa_safe_mode_reply_is_encrypted(oa):
    from wechatpy.crypto import WeChatCrypto

    client, rt = oa
    with rt.session() as s:
        m = s.exec(select(Member).where(Member.userid == "m1")).one()
        m.openid = "openid-safe"
        s.add(m)
    query, body = wechat_safe(oa_text("openid-safe", "帮助", 11))
    resp = client.post(f"/wechat/callback?{query}", data=body, content_type="text/xml")
    assert resp.status_code == 200
    env = xmltodict.parse(resp.data)["xml"]
    plain = WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(resp.data, env["MsgSignature"],
                                                                 env["TimeStamp"], env["Nonce"])
    assert "免打扰" in xmltodict.parse(plain)["xml"]["Content"]


def test_oa_stale_and_oversized_are_refused(oa):
    client, _ = oa
    stale = client.post(f"/wechat/callback?{wechat_query(clock.timestamp() - 1000)}",
                        data=oa_text("o", "帮助", 5).encode())
    assert stale.status_code == 403
    big = client.post(f"/wechat/callback?{wechat_query()}", data=b"<xml>" + b"x" * 70000 + b"</xml>")
    assert big.status_code == 413


def test_healthz(backend, redis_url):
    rt = make_runtime(backend)
    client = build_app(runtime=rt).test_client()
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "redis": "disabled",
                                                 "calendar": "missing 2027"}  # November 2026: 2027 lacks data
    clock.freeze(dt.datetime(2026, 10, 31, 23, 0, tzinfo=clock.tz()))
    assert client.get("/healthz").get_json()["calendar"] == "ok"
    clock.freeze(dt.datetime(2027, 3, 1, 9, 0, tzinfo=clock.tz()))
    assert client.get("/healthz").get_json()["calendar"] == "missing 2027"
    rt.close()
    rt = make_runtime(backend, redis={"url": redis_url})
    assert build_app(runtime=rt).test_client().get("/healthz").get_json()["redis"] == "ok"
    rt.close()
    rt = make_runtime(backend, redis={"url": "redis://127.0.0.1:1/0"})
    resp = build_app(runtime=rt).test_client().get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json()["redis"] == "down"
    rt.close()


def test_healthz_503_when_database_is_down():
    rt = make_runtime("postgresql://postgres@127.0.0.1:1/none")
    resp = build_app(runtime=rt).test_client().get("/healthz")
    assert resp.status_code == 503
    assert resp.get_json()["database"] == "down"
    rt.close()


def run_cli(url, *args):
    env = {**os.environ, "DANGJIAN_DATABASE_URL": url, "DANGJIAN_NOW": "2026-11-25T09:00"}
    env.pop("DANGJIAN_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def say_in_process(url, *args):
    """`dangjian say` through click's runner: the same command without a fresh interpreter (~2.5 s each:
    jieba and the intent model load per process)."""
    result = CliRunner().invoke(cli, ["say", *args], catch_exceptions=False,
                                env={"DANGJIAN_DATABASE_URL": url, "DANGJIAN_CONFIG": None,
                                     "DANGJIAN_NOW": "2026-11-25T09:00"})
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def test_say_runs_the_pipeline(sqlite_url):
    rt = make_runtime(sqlite_url)
    add_roster(rt)
    rt.close()
    out = run_cli(sqlite_url, "say", "--user", "m1", "帮助")  # the installed entry point, once
    assert out.returncode == 0, out.stderr
    assert "免打扰" in out.stdout
    on = say_in_process(sqlite_url, "--user", "M1", "免打扰")
    assert on.returncode == 0, on.stderr
    assert "已开启免打扰" in on.stdout
    stranger = say_in_process(sqlite_url, "--user", "nobody", "帮助")
    assert stranger.returncode == 0
    assert "不在党员名册" in stranger.stdout
    inactive = say_in_process(sqlite_url, "--user", "gone", "免打扰")
    assert "不在党员名册" in inactive.stdout
    rt = make_runtime(sqlite_url)
    with rt.session() as s:
        assert not s.exec(select(Member).where(Member.userid == "gone")).one().do_not_disturb
    rt.close()


def test_bad_config_exits_2_naming_the_key(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[delivery]\ndaily_budget = 'x'\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "bot", "--config", str(cfg), "init-db"], capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 2
    assert "[delivery] daily_budget" in out.stderr
    assert "Traceback" not in out.stderr
