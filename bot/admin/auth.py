"""Console credentials: password hashing and checks, and session fingerprints.

Passwords are hashed with werkzeug (scrypt); checks are constant-time and an unknown username costs the
same as a wrong password. The failed-login throttle lives in `bot.admin.throttle`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # hashing is deliberately slow: refuse absurd inputs before it
USERNAME_RE = re.compile(r"^[\w.@-]{1,64}$")


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
