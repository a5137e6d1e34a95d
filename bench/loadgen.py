"""A small HTTP/1.1 keep-alive load generator (asyncio streams): C connections send prepared POSTs.

`run(host, port, requests, connections)` sends every prepared (path, body) once, spread over the
connections, and returns the wall time, per-request latencies (s), status counts and errors. Prepared
bodies are built before the clock starts, so signing and encryption do not load the measured run.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Result:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    errors: int = 0  # connection errors and non-200 answers
    empty: int = 0  # 200 with an empty body (the reply went through the outbox, or none)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def request_bytes(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        await reader.readexactly(length)
    return status, close, length


async def _client(host: str, port: int, queue: collections.deque[bytes], result: Result) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while queue:
        payload = queue.popleft()
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            writer.write(payload)
            await writer.drain()
            status, close, length = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            result.errors += 1
            result.statuses[0] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        result.latencies.append(time.perf_counter() - started)
        result.statuses[status] += 1
        if status != 200:
            result.errors += 1
        elif not length:
            result.empty += 1
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def run(host: str, port: int, payloads: Sequence[bytes], connections: int) -> Result:
    result = Result()
    queue = collections.deque(payloads)

    async def main() -> None:
        started = time.perf_counter()
        await asyncio.gather(*(_client(host, port, queue, result) for _ in range(connections)))
        result.seconds = time.perf_counter() - started

    asyncio.run(main())
    return result
