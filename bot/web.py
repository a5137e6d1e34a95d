"""The Flask app factory and the routes that are not the console: callbacks and health."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot import clock, inbound, intents, logjson, spool, texts
from bot import config as config_mod
from bot.admin import bp as admin_bp
from bot.admin.base import console_body_limit
from bot.channels.wechat import WechatCallback
from bot.channels.wecom import MAX_BODY, CallbackError, WeComCallback
from bot.checkin_web import bp as checkin_bp
from bot.controlchars import any_control, has_control
from bot.message import Reply
from bot.runtime import Runtime, build
from bot.study_web import bp as study_bp
from handlers import build_router

log = logging.getLogger(__name__)
request_log = logging.getLogger("bot.request")
bp = Blueprint("core", __name__)


def rt() -> Runtime:
    return current_app.extensions["dangjian"]


def _refuse(exc: CallbackError) -> Response:
    """The caller gets the status and plain words; the log also names the underlying error."""
    cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else "-"
    log.warning("callback refused (%s): %s [%s] from %s", exc.status, exc.reason, cause, request.remote_addr)
    return Response(exc.reason, status=exc.status, mimetype="text/plain")


def _unavailable(exc: spool.SpoolFull) -> Response:
    """Database down and the spool full (or unwritable): 503, so the platform retries later."""
    log.error("callback refused with 503: %s", exc)
    return Response("temporarily unavailable", status=503, mimetype="text/plain")


def _body() -> bytes:
    # get_data(), not request.data: a form content type would leave request.data empty.
    if (request.content_length or 0) > MAX_BODY:
        raise CallbackError(413, "body too large")
    return request.get_data(cache=False)


def _answer(runtime: Runtime, msg: Any, render: Callable[[Reply], str], text_only: bool = False) -> Response:
    """Run the pipeline for an accepted message; the rendered reply, or an empty 200. `text_only`: the
    channel has no button replies (Official Account), so a reply without text is empty."""
    g.dedup = logjson.hashed(msg.dedup_key())
    started = time.perf_counter()
    try:
        reply = inbound.handle(runtime, current_app.extensions["dangjian.router"], msg,
                               timeout=runtime.config.app.reply_timeout)
    except spool.SpoolFull as exc:
        return _unavailable(exc)
    finally:
        g.handle_ms = round((time.perf_counter() - started) * 1000, 1)
    if reply is None or reply.empty or (text_only and not reply.text):
        return Response("", mimetype="text/plain")
    return Response(render(reply), mimetype="application/xml")


@bp.route("/wecom/callback", methods=["GET", "POST"])
def wecom() -> Response:
    runtime = rt()
    if not runtime.config.wecom.token:
        return Response("WeCom callback not configured", status=404, mimetype="text/plain")
    a = request.args
    signature, timestamp, nonce = a.get("msg_signature", ""), a.get("timestamp", ""), a.get("nonce", "")
    channel = WeComCallback(runtime.config.wecom)
    try:
        if request.method == "GET":  # URL verification: the decrypted echostr
            return Response(channel.verify_url(signature, timestamp, nonce, a.get("echostr", "")),
                            mimetype="text/plain")
        msg = channel.parse(_body(), signature, timestamp, nonce)
    except CallbackError as exc:
        return _refuse(exc)
    return _answer(runtime, msg, lambda reply: channel.render(msg, reply, nonce or secrets.token_hex(8)))


@bp.route("/wechat/callback", methods=["GET", "POST"])
def wechat() -> Response:
    runtime = rt()
    if not runtime.config.wechat.token:
        return Response("Official Account callback not configured", status=404, mimetype="text/plain")
    channel = WechatCallback(runtime.config.wechat)
    a = request.args
    try:
        if request.method == "GET":
            channel.check(a.get("signature", ""), a.get("timestamp", ""), a.get("nonce", ""))
            return Response(a.get("echostr", ""), mimetype="text/plain")
        msg, encrypted = channel.parse(_body(), a.to_dict())
    except CallbackError as exc:
        return _refuse(exc)
    return _answer(runtime, msg, lambda reply: channel.render(msg, reply, encrypted,
                                                            a.get("nonce") or secrets.token_hex(8)), text_only=True)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    runtime = rt()
    database = "ok"
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.error("health check: database down: %s", exc)
        database = "down"
    body = {"status": "ok" if database == "ok" else "down", "database": database,
            "redis": runtime.redis_status(), "calendar": clock.calendar_status()}
    return jsonify(body), 200 if database == "ok" else 503


CALLBACKS = frozenset({"core.wecom", "core.wechat"})  # their bodies are XML, read raw: never parsed as a form
SECURITY_HEADERS = {
    # No page runs a script; the study pages keep their styles inline. The console sets a stricter policy.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def refuse_control_characters() -> Response | None:
    """400 for NUL or another control character anywhere in the path, the query or a submitted form, before
    any view (or the database) sees it."""
    bad = has_control(request.path) or any_control(k + v for k, v in request.args.items(multi=True))
    if not bad and request.endpoint not in CALLBACKS and request.method == "POST":
        bad = any_control(k + v for k, v in request.form.items(multi=True)) or any_control(
            (f.filename or "") for f in request.files.values())
    if not bad:
        return None
    log.warning("request refused: control character in %s from %s", request.endpoint, request.remote_addr)
    return Response(texts.t("error.control_char"), status=400, mimetype="text/plain")


def security_headers(response: Response) -> Response:
    """Every response: CSP, nosniff, referrer policy, no framing (a blueprint's own values win)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def start_request() -> None:
    g.request_id = logjson.new_request_id(request.headers.get("X-Request-Id"))
    g.started = time.perf_counter()


def log_request(response: Response) -> Response:
    """The request id goes back in X-Request-Id; with JSON logs, one line per request (bot/logjson.py)."""
    response.headers["X-Request-Id"] = g.get("request_id", "")
    if logjson.enabled():
        ms = round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1)
        request_log.info("request", extra={"method": request.method, "path": request.path,
                                           "endpoint": request.endpoint, "status": response.status_code, "ms": ms,
                                           "dedup": g.get("dedup"), "handle_ms": g.get("handle_ms")})
    return response


def build_app(config: Any = None, runtime: Runtime | None = None) -> Flask:
    if runtime is None:
        cfg = config if isinstance(config, config_mod.Config) else config_mod.load(config)
        runtime = build(cfg)
    app = Flask(__name__, template_folder="admin/templates")
    app.config.update(SECRET_KEY=runtime.config.app.secret_key, MAX_CONTENT_LENGTH=MAX_BODY,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.extensions["dangjian"] = runtime
    app.extensions["dangjian.router"] = build_router()
    intents.warm_up()
    app.before_request(start_request)
    app.before_request(console_body_limit)  # before anything reads the form
    app.before_request(refuse_control_characters)
    app.after_request(security_headers)
    app.after_request(log_request)
    app.register_blueprint(bp)
    app.register_blueprint(study_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(checkin_bp)
    if runtime.config.app.public_url.startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    if runtime.config.app.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = runtime.config.app.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app
