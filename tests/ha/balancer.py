"""A small TCP load balancer on loopback, for the HA tests.

It stands for the load balancer of a deployment (nginx, HAProxy, a cloud balancer):
each client connection goes to the next backend in turn; a backend that refuses a
connection is left out for ``down_for`` seconds and the connection tries the next one,
so a dead ASGI process costs only the requests that were in flight on it. Requests on
a connection that breaks are not retried: the client sees the failure, as it would
behind a real balancer that does not replay non-idempotent requests.

It runs its own asyncio loop in a thread of the test process::

    with Balancer([("127.0.0.1", 8001), ("127.0.0.1", 8002)]) as lb:
        httpx.get(f"http://127.0.0.1:{lb.port}/parse/health")
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from typing import Any

Backend = tuple[str, int]


class Balancer:
    def __init__(self, backends: list[Backend], *, down_for: float = 2.0) -> None:
        self.backends = list(backends)
        self.down_for = down_for
        self.port = 0
        self.connections: Counter[Backend] = Counter()  # connections handed to each backend
        self.refused: Counter[Backend] = Counter()  # connects a backend refused
        self._down_until: dict[Backend, float] = {}
        self._next = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> Balancer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._accept, "127.0.0.1", 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="ha-balancer", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the balancer did not start")
        return self

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return

        async def shutdown() -> None:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = self._server = None

    def __enter__(self) -> Balancer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- proxying ------------------------------------------------------------------------

    def _candidates(self) -> list[Backend]:
        """Every backend, starting with the next in turn; those marked down go last."""
        start = self._next
        self._next = (self._next + 1) % len(self.backends)
        ordered = self.backends[start:] + self.backends[:start]
        now = time.monotonic()
        up = [b for b in ordered if self._down_until.get(b, 0.0) <= now]
        return up + [b for b in ordered if b not in up]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        for backend in self._candidates():
            try:
                upstream = await asyncio.wait_for(asyncio.open_connection(*backend), timeout=2)
            except (TimeoutError, OSError):
                self.refused[backend] += 1
                self._down_until[backend] = time.monotonic() + self.down_for
                continue
            self.connections[backend] += 1
            break
        if upstream is None:
            writer.close()
            return
        up_reader, up_writer = upstream
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                w.close()
                with contextlib.suppress(Exception):
                    await w.wait_closed()


async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    """Copy until either side ends, then close the target so its peer sees the end."""
    try:
        while data := await source.read(65536):
            target.write(data)
            await target.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        target.close()
