"""The connect queue: a few connections register at once, the rest wait their turn."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from .connection import Connection


class ConnectQueue:
    """At most `limit` connections between starting to connect and registered (or failed) at
    once; the others wait in the order they came, in the state "queued".

    Used at start-up and for reconnects, so that 3,000 connections coming up (or back) at the
    same moment do not take the event loop, and the web server answers meanwhile. A protocol
    says `done` when an attempt is over (registered, failed, or waiting for something else);
    a slot is given back by itself after `hold` seconds in any case. A connect the user asks
    for does not wait here.
    """

    def __init__(self, limit: int, hold: float, start: Callable[[Connection], None]) -> None:
        self.limit = max(1, limit)
        self.hold = hold
        self._start = start
        self._waiting: deque[Connection] = deque()
        self._queued: set[Connection] = set()
        self._active: dict[Connection, asyncio.TimerHandle] = {}

    @property
    def active(self) -> int:
        return len(self._active)

    @property
    def waiting(self) -> int:
        return len(self._queued)

    def add(self, conn: Connection) -> bool:
        """Start `conn` when there is room; True when it has to wait (its state is then "queued")."""
        if conn in self._queued or conn in self._active:
            return conn in self._queued
        if len(self._active) < self.limit and not self._waiting:
            self._begin(conn)
            return False
        self._queued.add(conn)
        self._waiting.append(conn)
        conn.state = "queued"
        return True

    def done(self, conn: Connection) -> None:
        """`conn`'s attempt is over (or never needed a slot): the next one may start."""
        handle = self._active.pop(conn, None)
        if handle is not None:
            handle.cancel()
            self._next()

    def forget(self, conn: Connection) -> None:
        """`conn` no longer waits (the user connected or disconnected it); a slot it has is kept."""
        self._queued.discard(conn)  # its place in the deque is skipped when reached

    def _begin(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        self._active[conn] = loop.call_later(self.hold, self.done, conn)
        self._start(conn)

    def _next(self) -> None:
        while self._waiting and len(self._active) < self.limit:
            conn = self._waiting.popleft()
            if conn not in self._queued:
                continue
            self._queued.discard(conn)
            if conn.state != "queued" or conn.wanted_state != "connected":
                continue  # changed while it waited
            self._begin(conn)
