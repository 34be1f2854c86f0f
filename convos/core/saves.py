"""Deferred saves of connection.json: what changes by itself, written in batches."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .connection import Connection

log = logging.getLogger(__name__)

# Connections snapshotted per loop iteration: 3,000 at once would hold the loop for ~50 ms.
SLICE = 200
# The delay of a `soon` save: what the user would miss after a crash (a conversation a message
# opened, the nick the server gave us), batched with whatever else changes in that second.
SOON = 1.0


class DeferredSaves:
    """Unread counters, first unread ids, topics: saved within `interval` seconds per
    connection; what the user would miss after a crash (a conversation a message opened, the
    nick the server gave us) within SOON seconds. Every connection that is due is written in one
    store call, nothing when nothing changed. What a user asks for (wanted state, conversations,
    read marks, settings) is saved at once elsewhere, and that save takes the pending one with
    it (`saved`).

    `write` gets a list of (connection, its connection.json data) and writes it; `snapshot`
    gives a connection's data, or None when it must not be written (a removed connection).
    """

    def __init__(self, interval: float, snapshot: Callable[[Connection], Any],
                 write: Callable[[list[tuple[Connection, Any]]], Awaitable[None]]) -> None:
        self.interval = interval
        self._snapshot = snapshot
        self._write = write
        # In the order marked, so in the order due (one delay per dict).
        self._due: dict[Connection, float] = {}
        self._soon: dict[Connection, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        # Snapshotted for the batch being prepared; a connection saved at once meanwhile leaves
        # it, so its older snapshot never overwrites the newer file.
        self._taken: list[set[Connection]] = []

    def __len__(self) -> int:
        return len(self._due.keys() | self._soon.keys())

    def mark(self, conn: Connection, *, soon: bool = False) -> None:
        """`conn` changed: save it within `interval` seconds, or SOON ones (once, however often
        it changes meanwhile)."""
        pending = self._soon if soon and self.interval > SOON else self._due
        if conn not in pending:
            self._wake.set()  # the loop may wait for a later one, or for none
            delay = SOON if pending is self._soon else self.interval
            pending[conn] = asyncio.get_running_loop().time() + delay

    def saved(self, conn: Connection) -> None:
        """`conn` is being saved with everything in it: nothing pending any more."""
        self._due.pop(conn, None)
        self._soon.pop(conn, None)
        for taken in self._taken:
            taken.discard(conn)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="deferred-saves")

    async def stop(self) -> None:
        """Finish the batch being written (never cut short) and stop; `flush` saves the rest."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await task

    async def flush(self, conns: list[Connection] | None = None) -> None:
        """Save now: every pending connection, or `conns` (pending or not: one that did not change
        costs an encode and a comparison, no write)."""
        if conns is None:
            conns = list(self._due.keys() | self._soon.keys())
        for conn in conns:
            self.saved(conn)
        await self._save(conns)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            now = loop.time()
            due: dict[Connection, None] = {}
            for pending in (self._soon, self._due):
                for conn, when in pending.items():
                    if when > now:
                        break
                    due[conn] = None
            for conn in due:
                self.saved(conn)
            if due:
                try:
                    await self._save(list(due))
                except Exception:
                    log.exception("Could not save %d connections", len(due))
                continue  # more may have come due meanwhile
            # Until the first pending one is due (batches at most 20 a second), or one is marked
            # while none was pending.
            first = min((next(iter(p.values())) for p in (self._soon, self._due) if p), default=None)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), None if first is None else max(0.05, first - now))
            except TimeoutError:
                pass

    async def _save(self, conns: list[Connection]) -> None:
        items = []
        taken: set[Connection] = set()
        self._taken.append(taken)
        try:
            for i, conn in enumerate(conns):
                if i and not i % SLICE:
                    await asyncio.sleep(0)  # let requests in between slices
                data = self._snapshot(conn)
                if data is not None:
                    items.append((conn, data))
                    taken.add(conn)
        finally:
            self._taken.remove(taken)
        items = [(conn, data) for conn, data in items if conn in taken]
        if items:
            await self._write(items)
