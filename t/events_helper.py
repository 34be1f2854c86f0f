"""Following the websocket /events in tests: wait for exactly the frame a test needs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

Pred = Callable[[dict[str, Any]], bool]


class Events:
    """A websocket on /events with a buffer, so a test waits for exactly the frame it needs."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []
        self._unread: list[dict[str, Any]] = []

    async def wait(self, pred: Pred, timeout: float = 10) -> dict[str, Any]:
        for i, frame in enumerate(self._unread):
            if pred(frame):
                return self._unread.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no matching event; saw {json.dumps(self.seen[-15:], indent=1)}")
            try:
                msg = await self.ws.receive(timeout=left)
            except TimeoutError:
                continue  # the check above fails with what was seen
            if msg.type.name != "TEXT":
                raise AssertionError(f"socket closed: {msg}")
            frame = json.loads(msg.data)
            self.seen.append(frame)
            if pred(frame):
                return frame
            self._unread.append(frame)

    async def send(self, **frame: Any) -> None:
        await self.ws.send_json(frame)

    async def ready(self, timeout: float = 10) -> None:
        """One ping round trip: the server side is subscribed, no later event can be missed."""
        await self.send(method="ping", id="events-ready")
        await self.wait(lambda f: f.get("event") == "pong" and f.get("id") == "events-ready", timeout)


def is_state(type_: str, **match: Any) -> Pred:
    return lambda f: f.get("event") == "state" and f.get("type") == type_ and all(f.get(k) == v for k, v in match.items())


def is_message(**match: Any) -> Pred:
    return lambda f: f.get("event") == "message" and all(f.get(k) == v for k, v in match.items())
