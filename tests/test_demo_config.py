"""`dangjian demo --port P`: `[app] public_url` follows the port unless one is configured."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli import cli
from bot.commands.serve import demo_config
from bot.services.study import core as study
from tests.conftest import make_config


def _cfg(**app):
    return make_config(app=app)


def test_public_url_follows_the_demo_port_unless_configured():
    assert demo_config(_cfg(), "127.0.0.1", 8765).app.public_url == "http://127.0.0.1:8765"
    assert demo_config(_cfg(), "0.0.0.0", 9000).app.public_url == "http://127.0.0.1:9000"  # a wildcard bind
    assert demo_config(_cfg(), "127.0.0.1", 8000).app.public_url == "http://127.0.0.1:8000"
    configured = _cfg(public_url="https://dj.example.org")
    assert demo_config(configured, "127.0.0.1", 8765).app.public_url == "https://dj.example.org"


def test_demo_command_serves_with_the_port_in_links(backend, monkeypatch):
    import werkzeug.serving

    served = {}

    def run_simple(host, port, app, **_):  # stands in for the listening socket: the app it would serve
        served.update(host=host, port=port, runtime=app.extensions["dangjian"])

    monkeypatch.setattr(werkzeug.serving, "run_simple", run_simple)
    env = {"DANGJIAN_DATABASE_URL": backend, "DANGJIAN_CONFIG": None, "DANGJIAN_NOW": "2026-11-25T09:00"}
    result = CliRunner().invoke(cli, ["demo", "--port", "8765"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765/admin/" in result.stdout
    cfg = served["runtime"].config
    assert (served["port"], cfg.app.public_url) == (8765, "http://127.0.0.1:8765")

    class Item:
        slug = "a1"

    assert study.page_url(cfg, Item()).startswith("http://127.0.0.1:8765/study/")
