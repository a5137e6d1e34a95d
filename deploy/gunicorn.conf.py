"""gunicorn settings for running the web app with gunicorn directly (the same settings `dangjian serve
--workers N` uses; bot/commands/serve.py `gunicorn_settings`):

    DANGJIAN_CONFIG=/etc/dangjian/config.toml \\
        gunicorn -c deploy/gunicorn.conf.py 'bot.web:build_app()'

Command-line options win over this file (`--workers 4 --bind 127.0.0.1:8001`). The master checks the
configuration and refuses the shipped keys like `serve` does, loads jieba and the intent model once and
freezes them before the workers fork (they share those pages: PSS per worker, bench/memory.py); each
worker then builds its own database engine and Redis pool.
"""

from __future__ import annotations

import os
from typing import Any

from bot.commands.serve import gunicorn_settings

_settings = gunicorn_settings("127.0.0.1", 8000, 2)

bind = _settings["bind"]
workers = _settings["workers"]  # 2 per core is plenty: handlers wait on the database, not the CPU
threads = _settings["threads"]
timeout = _settings["timeout"]  # a callback must answer within WeCom's 5 s anyway
graceful_timeout = _settings["graceful_timeout"]
accesslog = _settings["accesslog"]
access_log_format = _settings["access_log_format"]  # no query strings: they may carry names
control_socket_disable = _settings["control_socket_disable"]
keepalive = 5  # behind nginx: upstream keep-alive connections
forwarded_allow_ips = "127.0.0.1"  # and set [app] trusted_proxies = 1 when nginx is in front
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def on_starting(server: Any) -> None:
    from bot import clock, config
    from bot.commands.serve import preload_shared
    from bot.seal import uses_default_keys

    cfg = config.load(None)  # $DANGJIAN_CONFIG; a bad key stops start-up here, naming it
    if uses_default_keys(cfg):
        raise SystemExit("[app] secret_key / seal_key are the default 'change-me' while a platform is configured")
    clock.configure_from(cfg)
    clock.warn_at_startup()
    preload_shared()
