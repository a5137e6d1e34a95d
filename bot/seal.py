"""Seals and in-flight encryption under `[app] seal_key` (which defaults to `secret_key`).

- `report_seal(config, who, report_id)`: an opaque, per-report reference to an anonymous reporter
  (HMAC of the member and the report), so two reports by one member carry unrelated seals. Replies find
  the reporter by recomputing it over candidate members; nobody can read who it is.
- `encrypt` / `decrypt`: AES-GCM for a sender or recipient kept only while a message is in flight
  (an inbound row being processed, a spooled message, a delivery to a sealed reporter); the row is wiped
  when done. A value that does not decrypt (the key changed, or it was tampered with) raises `SealError`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED_PREFIX = "sealed:"
ENCRYPTED_PREFIX = "enc:"


class SealError(ValueError):
    """An encrypted value that cannot be opened with the configured key."""


def key_of(config: Any) -> bytes:
    return (config.app.seal_key or config.app.secret_key).encode()


def report_seal(config: Any, who: str, report_id: int) -> str:
    """The seal of member `who` (userid or openid, any case) for report `report_id`."""
    message = f"{who.lower()}\x00{report_id}".encode()
    return SEALED_PREFIX + hmac.new(key_of(config), message, hashlib.sha256).hexdigest()[:32]


def _aead(config: Any) -> AESGCM:
    return AESGCM(hashlib.sha256(b"dangjian-in-flight\x00" + key_of(config)).digest())


def encrypt(config: Any, plain: str) -> str:
    nonce = os.urandom(12)
    sealed = _aead(config).encrypt(nonce, plain.encode(), None)
    return ENCRYPTED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def decrypt(config: Any, token: str) -> str:
    if not token.startswith(ENCRYPTED_PREFIX):
        raise SealError("not an encrypted value")
    raw = token[len(ENCRYPTED_PREFIX):]
    try:
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        return _aead(config).decrypt(data[:12], data[12:], None).decode()
    except (InvalidTag, ValueError) as exc:
        raise SealError("cannot decrypt with the configured seal_key") from exc


def is_encrypted(value: str | None) -> bool:
    return bool(value) and str(value).startswith(ENCRYPTED_PREFIX)


def keyed_hash(config: Any, text: str) -> str:
    """An HMAC under the seal key, for outbox keys about an anonymous report: nobody without the key can
    recompute it from the ticket's number (a plain hash of visible values could be)."""
    return hmac.new(key_of(config), b"dangjian-key\x00" + text.encode(), hashlib.sha256).hexdigest()[:40]


def day_of(moment: dt.datetime | None = None) -> dt.datetime:
    """`moment` (default: now) kept to the day: local midnight. Rows about an anonymous report keep no time
    finer than this, so they cannot be lined up with other rows by the minute."""
    from bot import clock

    return clock.at(clock.local(moment or clock.now()).date(), dt.time(0))


def uses_default_keys(config: Any) -> bool:
    """True when a platform is configured but `secret_key` (or an empty `seal_key` falling back to it)
    is still the shipped default: `serve`, `worker` and `scheduler` refuse to start then."""
    platform = bool(config.wecom.corp_id or config.wechat.app_id)
    return platform and "change-me" in (config.app.secret_key, config.app.seal_key)
