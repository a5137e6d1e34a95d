"""What every lock backend shares: name, holder, ttl, a guard for its own state, `with` support."""

from __future__ import annotations

import threading


class LockBusy(Exception):
    """Another holder has the lock (raised by `with lock:`)."""


class LockBase:
    backend = ""

    def __init__(self, name: str, holder: str, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.name = name
        self.holder = holder
        self.ttl_seconds = ttl_seconds
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, holder={self.holder!r}, backend={self.backend})"

    def acquire(self) -> bool:
        raise NotImplementedError

    def renew(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> LockBase:
        if not self.acquire():
            raise LockBusy(self.name)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
