"""The console's failed-login throttle: counters per (username, IP), per IP and per username, each a
`bot.ratelimit.RateLimiter` (Redis while it answers, else the `login_throttle` table).

Every attempt is counted *before* the password is checked (one atomic hit per counter), and an attempt
that takes any counter over its limit is refused without checking the password. So concurrent guesses
cannot slip past the limit between a read and a write. A successful login undoes its own count and clears
the (username, IP) counter. Windows use wall time.
"""

from __future__ import annotations

import hashlib
import logging

from bot.ratelimit import RateLimiter
from bot.runtime import Runtime

log = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
MAX_FAILURES = 5  # one username from one address
LIMITS = {"pair": MAX_FAILURES, "ip": 20, "user": 50}  # per window; "ip": any usernames, "user": any addresses


def _keys(username: str, ip: str) -> dict[str, str]:
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:40]
    pair = digest(username + "\x00" + ip)
    return {"pair": f"p:{pair}", "ip": f"i:{digest(ip)}", "user": f"u:{digest(username)}"}


class LoginThrottle:
    def __init__(self, runtime: Runtime) -> None:
        self.limiters = {kind: RateLimiter(runtime, "admin-login", limit, WINDOW_SECONDS, fallback="database",
                                           count_refused=True) for kind, limit in LIMITS.items()}

    def attempt(self, username: str, ip: str) -> bool:
        """Count one login attempt; False when it is over a limit (refuse it without checking anything)."""
        over = [kind for kind, key in _keys(username, ip).items() if not self.limiters[kind].hit(key).allowed]
        if over:
            log.warning("console login throttled (%s)", ", ".join(over))
        return not over

    def succeeded(self, username: str, ip: str) -> None:
        """A correct password: the pair counter starts again and this attempt no longer counts."""
        keys = _keys(username, ip)
        self.limiters["pair"].reset(keys["pair"])
        for kind in ("ip", "user"):
            self.limiters[kind].undo(keys[kind])
