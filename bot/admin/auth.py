"""Console credentials: password hashing and checks, session fingerprints, and the failed-login throttle.

Passwords are hashed with werkzeug (scrypt); checks are constant-time and an unknown username costs the
same as a wrong password. The throttle counts failures per (username, IP) in a fixed window: in Redis
when the runtime has one, else in the shared `key_value` table, so every web worker sees the same count.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import re
import secrets

import redis as redis_lib
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from bot import clock
from bot.models import KeyValue
from bot.runtime import Runtime

log = logging.getLogger(__name__)

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # hashing is deliberately slow: refuse absurd inputs before it
USERNAME_RE = re.compile(r"^[\w.@-]{1,64}$")
MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
_KV_PREFIX = "admin-login:"


class CredentialError(ValueError):
    """A username or password that cannot be used for a console account."""


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


def check_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise CredentialError("username: 1-64 letters, digits or . _ @ -")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise CredentialError(f"password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise CredentialError(f"password must be at most {MAX_PASSWORD} characters")
    return password


def hash_password(password: str) -> str:
    return generate_password_hash(check_password(password))


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def verify(stored_hash: str | None, password: str) -> bool:
    """Constant-time check; with no stored hash (unknown user) it still spends the hashing time."""
    if len(password) > MAX_PASSWORD:
        return False
    ok = check_password_hash(stored_hash or _dummy_hash(), password)
    return ok and stored_hash is not None


def fingerprint(secret_key: str, password_hash: str) -> str:
    """Kept in the session: a password change (create-admin again) ends every open session."""
    return hmac.new(secret_key.encode(), password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def _slot(username: str, ip: str) -> str:
    return hashlib.sha256(f"{username}\x00{ip}".encode()).hexdigest()[:40]


class LoginThrottle:
    """At most MAX_FAILURES failed logins per (username, IP) per WINDOW_SECONDS (wall clock)."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def _redis_key(self, username: str, ip: str) -> str:
        return f"{self.rt.config.redis.prefix}admin:login:{_slot(username, ip)}"

    def blocked(self, username: str, ip: str) -> bool:
        return self.failures(username, ip) >= MAX_FAILURES

    def failures(self, username: str, ip: str) -> int:
        if self.rt.redis is not None:
            try:
                value = self.rt.redis.get(self._redis_key(username, ip))
                return int(value or 0)
            except redis_lib.RedisError as exc:
                log.warning("login throttle: Redis unavailable, using the database: %s", exc)
        with self.rt.session() as session:
            row = session.get(KeyValue, _KV_PREFIX + _slot(username, ip))
            if row is None or row.expires <= clock.wall():
                return 0
            return int(json.loads(row.value).get("n", 0))

    def failed(self, username: str, ip: str) -> None:
        if self.rt.redis is not None:
            key = self._redis_key(username, ip)
            try:
                pipe = self.rt.redis.pipeline(transaction=True)
                pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
                pipe.incr(key)
                pipe.execute()
                return
            except redis_lib.RedisError as exc:
                log.warning("login throttle: Redis unavailable, using the database: %s", exc)
        try:
            self._failed_db(username, ip)
        except IntegrityError:  # two first failures at once: the other insert won, count again
            self._failed_db(username, ip)

    def _failed_db(self, username: str, ip: str) -> None:
        key = _KV_PREFIX + _slot(username, ip)
        now = clock.wall()
        with self.rt.write() as session:
            session.execute(delete(KeyValue).where(KeyValue.key.startswith(_KV_PREFIX, autoescape=True),
                                                   KeyValue.expires <= now))
            row = session.get(KeyValue, key, with_for_update=True)
            if row is None:
                session.add(KeyValue(key=key, value=json.dumps({"n": 1}), expires=now + WINDOW_SECONDS))
                return
            count = int(json.loads(row.value).get("n", 0)) + 1
            row.value = json.dumps({"n": count})
            session.add(row)

    def reset(self, username: str, ip: str) -> None:
        if self.rt.redis is not None:
            try:
                self.rt.redis.delete(self._redis_key(username, ip))
            except redis_lib.RedisError as exc:
                log.warning("login throttle: Redis unavailable, using the database: %s", exc)
        with self.rt.write() as session:
            session.execute(delete(KeyValue).where(KeyValue.key == _KV_PREFIX + _slot(username, ip)))
