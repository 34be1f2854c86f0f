"""Per-user concurrency limits: a few running at once, a few more waiting, then 429."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..errors import TooManyRequests

BUSY = "Busy with your earlier requests. Try again in a moment."


class _Slot:
    __slots__ = ("running", "waiters")

    def __init__(self) -> None:
        self.running = 0
        self.waiters: deque[asyncio.Future[None]] = deque()


class UserSlots:
    """At most `running` holders per user at once and `waiting` more in line (first come, first
    served); past that, TooManyRequests with Retry-After. Users never wait for each other here."""

    def __init__(self, running: int, waiting: int, *, retry_after: int = 1) -> None:
        self.running = max(1, running)
        self.waiting = max(0, waiting)
        self.retry_after = retry_after
        self._slots: dict[str, _Slot] = {}

    def busy(self, owner: str) -> int:
        """How many of the owner's are running or waiting."""
        slot = self._slots.get(owner)
        return slot.running + len(slot.waiters) if slot else 0

    @asynccontextmanager
    async def hold(self, owner: str) -> AsyncIterator[None]:
        slot = self._slots.get(owner)
        if slot is None:
            slot = self._slots[owner] = _Slot()
        if slot.running < self.running and not slot.waiters:
            slot.running += 1
        elif len(slot.waiters) >= self.waiting:
            raise TooManyRequests(BUSY, retry_after=self.retry_after)
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            slot.waiters.append(turn)
            try:
                await turn  # the one who leaves hands over their place (running stays counted)
            except asyncio.CancelledError:
                if turn.cancelled():
                    if turn in slot.waiters:  # else a leaver skipped it already
                        slot.waiters.remove(turn)
                else:  # handed over just now: pass it on
                    self._leave(owner, slot)
                raise
        try:
            yield
        finally:
            self._leave(owner, slot)

    def _leave(self, owner: str, slot: _Slot) -> None:
        while slot.waiters:
            turn = slot.waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        slot.running -= 1
        if slot.running == 0 and self._slots.get(owner) is slot:
            del self._slots[owner]
