"""`dangjian serve` (WSGI: werkzeug's threaded server, or gunicorn with --workers N) and `dangjian demo`
(what `make run` starts: database with the demo organisation, web, scheduler and an in-process worker)."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import click
from sqlmodel import select
from werkzeug.security import generate_password_hash

from bot import clock, db, logjson, logsafe
from bot.cli import command, load_config, refuse_default_keys, runtime
from bot.config import AppConfig
from bot.models import AdminUser

log = logging.getLogger(__name__)

DEMO_ADMIN_USER = "admin"
DEMO_ADMIN_PASSWORD = "dangjian-demo"


def _warnings(cfg: Any) -> None:
    if cfg.now is not None:
        click.echo(f"warning: DANGJIAN_NOW pins the clock at {cfg.now.isoformat()} (demos and tests only)", err=True)
    if cfg.app.secret_key == "change-me":
        click.echo("warning: [app] secret_key is the default; set a long random value in production", err=True)


def gunicorn_settings(host: str, port: int, workers: int) -> dict[str, Any]:
    """The gunicorn settings `serve --workers N` runs with.

    gunicorn >= 25.1 opens a control socket at one path per user ($XDG_RUNTIME_DIR/gunicorn.ctl or
    ~/.gunicorn/gunicorn.ctl): a second instance on the host unlinks the first one's socket and takes the
    path over. We never use `gunicornc`, so it is switched off; stop or reload with signals (TERM, HUP)."""
    # With JSON logs (DANGJIAN_LOG_FORMAT=json) the app writes its own request line (bot/logjson.py) instead.
    return {"bind": f"{host}:{port}", "workers": workers, "threads": 4, "timeout": 30, "graceful_timeout": 20,
            "accesslog": None if logjson.enabled() else "-",
            "access_log_format": logsafe.GUNICORN_ACCESS_FORMAT,  # no query strings (names)
            "control_socket_disable": True}


def preload_shared() -> None:
    """In the gunicorn master, before the workers fork: load jieba's dictionary and the intent model once and
    freeze the garbage collector's view of them, so every worker shares those pages with the master instead
    of building its own copy (web worker PSS; the engine and the Redis pool are still built per worker)."""
    import gc

    from bot import intents

    intents.warm_up()
    gc.collect()
    gc.freeze()


def _gunicorn(app_factory: Any, host: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # gunicorn's documented custom-application API
        def load_config(self) -> None:
            for name, value in gunicorn_settings(host, port, workers).items():
                if name in self.cfg.settings:  # an older gunicorn without a control socket lacks the key
                    self.cfg.set(name, value)

        def load(self) -> Any:
            return app_factory()  # once per worker: each builds its own engine and Redis pool

    preload_shared()
    Server().run()


@command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=0, show_default=True, type=click.IntRange(0, 64),
              help="gunicorn worker processes; 0 runs the single-process threaded server")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve callbacks, study pages and the console."""
    cfg = load_config(ctx)
    refuse_default_keys(cfg)
    _warnings(cfg)
    from bot.web import build_app

    if workers > 0:
        _gunicorn(lambda: build_app(cfg), host, port, workers)
        return
    from werkzeug.serving import run_simple

    run_simple(host, port, build_app(cfg), threaded=True, use_reloader=False)


def ensure_demo_admin(rt: Any) -> bool:
    with rt.session() as session:
        if session.exec(select(AdminUser)).first() is not None:
            return False
        session.add(AdminUser(username=DEMO_ADMIN_USER, password_hash=generate_password_hash(DEMO_ADMIN_PASSWORD),
                              created_at=clock.now()))
    return True


def demo_config(cfg: Any, host: str, port: int) -> Any:
    """The configuration `demo --host H --port P` runs with: `[app] public_url` follows the port (card links
    and check-in links point at the demo server) while it is still the shipped default; a configured one stays."""
    if cfg.app.public_url != AppConfig().public_url:
        return cfg
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
    return cfg.replace(app=cfg.app.replace(public_url=f"http://{shown}:{port}"))


@command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def demo(ctx: click.Context, host: str, port: int) -> None:
    """What `make run` starts: demo data, web server, scheduler and an in-process outbox worker."""
    from werkzeug.serving import run_simple

    from bot import inbound_recovery
    from bot.outbox import Worker
    from bot.services import demo as demo_data
    from bot.services.study import content as study_content
    from bot.web import build_app
    from scheduler.process import SchedulerProcess

    cfg = demo_config(load_config(ctx), host, port)
    ctx.obj["config"] = cfg  # the runtime below, so the web app, the scheduler and the worker, use it
    db.upgrade(cfg.database.url)
    rt = runtime(ctx)
    with rt.session() as session:
        seeded = demo_data.seed(session)
        library = study_content.seed_library(session)
    new_admin = ensure_demo_admin(rt)
    app = build_app(runtime=rt)
    from bot.admin.wecom_login import demo_links

    tokens, link_lines = demo_links(cfg.app.public_url.rstrip("/"), {
        "secretary": demo_data.DEMO_SECRETARY, "committee": demo_data.DEMO_COMMITTEE,
        "editor": demo_data.DEMO_EDITOR, "reviewer": demo_data.DEMO_REVIEWER, "admin": demo_data.DEMO_ADMIN})
    app.extensions["dangjian.demo_logins"] = tokens  # only here: /admin/login/demo is 403 in every other app
    stop = threading.Event()
    worker = threading.Thread(target=Worker(rt, f"demo-{os.getpid()}").run, args=(stop,), name="outbox",
                              daemon=True)
    recovery = threading.Thread(target=inbound_recovery.loop, args=(rt, stop), name="inbound-recovery",
                                daemon=True)
    sched = SchedulerProcess(rt)
    scheduler_thread = threading.Thread(target=sched.run, name="scheduler", daemon=True)
    base = f"http://{host}:{port}"
    admin_line = (f"{DEMO_ADMIN_USER} / {DEMO_ADMIN_PASSWORD}" if new_admin or _is_demo_password(rt)
                  else "an existing admin account (dangjian create-admin NAME to add one)")
    sender = "console (prints every delivery)" if not cfg.wecom.enabled else f"WeCom corp {cfg.wecom.corp_id}"
    click.echo("\n".join([
        "党建助手 demo",
        f"  database: {cfg.database.url}" + (" (demo organisation created)" if seeded else ""),
        "  library:  sample study library imported" if library else "  library:  study items already present",
        f"  sender:   {sender}",
        f"  console:  {base}/admin/",
        f"  login:    {admin_line}",
        "  one-time console links (this computer only):",
        *link_lines,
        f"  health:   {base}/healthz",
        f"try: dangjian say --user {demo_data.DEMO_MEMBER} 帮助",
        f"secretary: dangjian say --user {demo_data.DEMO_SECRETARY} 帮助",
        "",
    ]))
    _warnings(cfg)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    worker.start()
    recovery.start()
    scheduler_thread.start()
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        stop.set()
        sched.stop()
        worker.join(timeout=5)
        recovery.join(timeout=5)
        scheduler_thread.join(timeout=5)


def _is_demo_password(rt: Any) -> bool:
    from werkzeug.security import check_password_hash

    with rt.session() as session:
        user = session.exec(select(AdminUser).where(AdminUser.username == DEMO_ADMIN_USER)).first()
        return user is not None and check_password_hash(user.password_hash, DEMO_ADMIN_PASSWORD)
