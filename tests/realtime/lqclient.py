"""A raw LiveQuery client over a real WebSocket (the ``websockets`` sync client).

Waiting is bounded (``WAIT`` seconds) only so that a broken server fails the test
instead of hanging it; nothing is asserted about how long anything took.
"""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection, connect

from .harness import APP_ID, JS_KEY

WAIT = 15.0


class LQ:
    def __init__(self, ws_url: str) -> None:
        self.ws: ClientConnection = connect(ws_url, max_size=None, open_timeout=WAIT).__enter__()
        # requestIds whose frames ``expect`` skips (marker subscriptions)
        self.ignored: set[int] = set()

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> LQ:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- frames ----------------------------------------------------------------------------
    def send(self, frame: Any) -> None:
        self.ws.send(frame if isinstance(frame, (str, bytes)) else json.dumps(frame))

    def recv(self, timeout: float = WAIT) -> dict[str, Any]:
        return json.loads(self.ws.recv(timeout=timeout))

    def expect(self, op: str, **fields: Any) -> dict[str, Any]:
        """The next frame (ignored requestIds aside), which must be ``op`` with ``fields``."""
        frame = self.recv()
        while frame.get("requestId") in self.ignored and frame.get("op") != "subscribed":
            frame = self.recv()
        assert frame.get("op") == op, frame
        for key, value in fields.items():
            assert frame.get(key) == value, (key, frame)
        return frame

    def until(self, op: str, request_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Read up to the first ``op`` frame for ``request_id``: ``(it, frames before it)``."""
        before = []
        while True:
            frame = self.recv()
            if frame.get("op") == op and frame.get("requestId") == request_id:
                return frame, before
            before.append(frame)

    # --- ops ---------------------------------------------------------------------------------
    def connect(self, **extra: Any) -> dict[str, Any]:
        self.send({"op": "connect", "applicationId": APP_ID, "javascriptKey": JS_KEY, **extra})
        return self.expect("connected")

    def subscribe(
        self,
        request_id: int,
        class_name: str,
        where: dict[str, Any] | None = None,
        *,
        op: str = "subscribe",
        session_token: str | None = None,
        **query: Any,
    ) -> dict[str, Any]:
        """Send a subscription and return the server's answer (``subscribed`` or ``error``)."""
        frame: dict[str, Any] = {
            "op": op,
            "requestId": request_id,
            "query": {"className": class_name, "where": where or {}, **query},
        }
        if session_token:
            frame["sessionToken"] = session_token
        self.send(frame)
        return self.recv()


def subscribed(client: LQ, request_id: int, class_name: str, where: Any = None, **kw: Any) -> None:
    answer = client.subscribe(request_id, class_name, where, **kw)
    assert answer == {**answer, "op": "subscribed", "requestId": request_id}, answer
