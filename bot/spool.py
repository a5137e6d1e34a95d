"""A durable local spool for callbacks that arrive while the database is unreachable.

`accept()` writes one file per message into `[app] spool_dir` (written to a hidden temporary name,
fsync'd, renamed, directory fsync'd): once it returns, the message survives a crash of the process or
the machine. The spool is bounded by `[app] spool_max_mb`; a full spool raises `SpoolFull` (the callback
answers 503 and the platform retries). The sender is encrypted under `seal_key` (CONTRACT Privacy).

`pending()` yields spooled messages oldest first, each under an exclusive `flock`, so any process (web
or worker) may replay any file and no two replay the same one at once; the caller deletes an entry with
`entry.done()` once the database has it. Dedup keys make a message replayed twice have its effect once.
`encode()` / `decode()` are also the format of `inbound_message.payload` (a row being processed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot import clock, seal
from bot.message import InboundMessage

log = logging.getLogger(__name__)

SUFFIX = ".json"
FIELDS = ("channel", "msg_type", "text", "event", "event_key", "task_id", "msg_id", "create_time", "agent_id",
          "receiver")


class SpoolFull(Exception):
    """The spool holds `[app] spool_max_mb` already (or the disk refused the write)."""


def encode(config: Any, msg: InboundMessage, received_at: dt.datetime) -> str:
    """The message as JSON with its sender encrypted (the raw platform fields are not kept)."""
    data: dict[str, Any] = {name: getattr(msg, name) for name in FIELDS}
    data["sender"] = seal.encrypt(config, msg.sender)
    data["sent"] = msg.sent  # the text as sent: handlers store it (text is the normalised form)
    data["received_at"] = received_at.isoformat()
    return json.dumps(data, ensure_ascii=False)


def decode(config: Any, text: str) -> tuple[InboundMessage, dt.datetime]:
    """(message, received_at); raises ValueError (or seal.SealError) for a damaged record."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a spooled message")
    fields = {name: data[name] for name in FIELDS}
    msg = InboundMessage(sender=seal.decrypt(config, data["sender"]), sent=str(data.get("sent") or ""), **fields)
    return msg, dt.datetime.fromisoformat(data["received_at"])


def directory(config: Any) -> Path:
    return Path(config.app.spool_dir)


def _files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX) and not p.name.startswith("."))
    except FileNotFoundError:
        return []


def size(config: Any) -> int:
    """Bytes held in the spool."""
    total = 0
    for path in _files(directory(config)):
        with contextlib.suppress(FileNotFoundError):
            total += path.stat().st_size
    return total


def has_pending(config: Any) -> bool:
    return bool(_files(directory(config)))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def accept(config: Any, msg: InboundMessage, received_at: dt.datetime) -> Path:
    """Write the message durably; raise SpoolFull when the spool is full or cannot be written."""
    folder = directory(config)
    body = encode(config, msg, received_at).encode("utf-8")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if size(config) + len(body) > config.app.spool_max_mb * 1024 * 1024:
            raise SpoolFull(f"spool {folder} is full ({config.app.spool_max_mb} MB)")
        name = f"{int(clock.wall() * 1_000_000):020d}-{uuid.uuid4().hex}{SUFFIX}"
        temporary = folder / f".{name}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, folder / name)
        _fsync_dir(folder)
    except OSError as exc:
        raise SpoolFull(f"cannot write to the spool {folder}: {exc}") from exc
    log.warning("database unreachable: message spooled as %s", name)
    return folder / name


@dataclasses.dataclass
class Entry:
    path: Path
    message: InboundMessage
    received_at: dt.datetime

    def done(self) -> None:
        """The database has the message: remove it from the spool (the caller still holds the lock)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def pending(config: Any) -> Iterator[Entry]:
    """Spooled messages, oldest first, each locked while the caller handles it. Files another process
    is replaying are skipped; a damaged file is renamed `*.bad` and logged, never replayed."""
    for path in _files(directory(config)):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            if os.fstat(fd).st_nlink == 0:  # replayed and removed by another process meanwhile
                continue
            with os.fdopen(os.dup(fd), "r", encoding="utf-8") as handle:
                text = handle.read()
            try:
                message, received_at = decode(config, text)
            except (ValueError, KeyError, TypeError) as exc:
                log.error("spool file %s cannot be read (%s); kept as .bad", path.name, type(exc).__name__)
                with contextlib.suppress(OSError):
                    path.rename(path.with_name(path.name + ".bad"))
                continue
            yield Entry(path, message, received_at)
        finally:
            os.close(fd)
