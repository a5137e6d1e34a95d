"""A real `python -m bot serve` process for tests: config file, start, wait for health, signed callbacks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.callbacks import decrypt_reply, sign_wecom, text_xml
from tests.conftest import DEFAULT_NOW

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def bot_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env["DANGJIAN_NOW"] = DEFAULT_NOW.isoformat()
    env["PYTHONPATH"] = str(ROOT)
    return env


@contextlib.contextmanager
def serving(config: Path, workers: int, log: Path, timeout: float = 90.0) -> Iterator[Server]:
    """`python -m bot --config CONFIG serve --workers N` on a free port, healthy before it is yielded."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "serve", "--port", str(port),
                                 "--workers", str(workers)], cwd=ROOT, env=bot_env(), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, f"serve exited early:\n{server.output()}"
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{server.url}/healthz", timeout=5).status_code in (200, 503):
                    break
            assert time.monotonic() < deadline, f"serve did not answer within {timeout} s:\n{server.output()}"
            time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def post_text(url: str, user: str, content: str, msg_id: int, timeout: float = 60.0) -> tuple[int, str]:
    """(HTTP status, decrypted reply text, "" for an empty body) of one signed WeCom text callback."""
    query, body = sign_wecom(text_xml(user, content, msg_id=msg_id))
    resp = requests.post(f"{url}/wecom/callback?{query}", data=body, headers={"Content-Type": "text/xml"},
                         timeout=timeout)
    if resp.status_code != 200 or not resp.content:
        return resp.status_code, resp.text if resp.status_code != 200 else ""
    return 200, decrypt_reply(resp.content).get("Content") or ""


@contextlib.contextmanager
def live_app(app: Any, port: int) -> Iterator[str]:
    """A Flask app served over real HTTP in a thread of this process (for browser tests: the test keeps
    the runtime, the clock and the database it built the app with); yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
