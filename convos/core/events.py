"""The per-user event bus: IRC -> core -> every open browser of that user.

Events are JSON-ready dicts (the websocket frames of spec §5.3 without `ts` formatting).
A subscriber follows one user (browsers, the bot's own account), or some kinds of event of
every user (the bot waits for the first account: `user` events).
Each subscriber has a bounded queue; a subscriber that falls too far behind is marked
overflowed and dropped, so a slow or dead browser never stalls the others or grows memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Collection
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 2000
_CLOSED = object()
# `event` of an account's events: {"event": "user", "type": "created", "email": ..., "roles": [...]}.
USER_EVENT = "user"


class Subscription:
    def __init__(self, bus: EventBus, email: str, maxsize: int, kinds: frozenset[str] | None = None) -> None:
        self.bus = bus
        self.email = email  # "" for a subscription to kinds of event of every user
        self.kinds = kinds
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self.overflowed = False
        self.closed = False

    def offer(self, event: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("Dropping a slow event subscriber of %s (%d events queued).", self.email, self.queue.qsize())
            self.overflowed = True
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.bus._remove(self)
        # Wake the reader even when the queue is full.
        while True:
            try:
                self.queue.put_nowait(_CLOSED)
                break
            except asyncio.QueueFull:
                self.queue.get_nowait()

    def drain(self) -> tuple[list[dict[str, Any]], bool]:
        """Every event queued right now, without waiting, and whether the subscription ended."""
        events: list[dict[str, Any]] = []
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if item is _CLOSED:
                return events, True
            events.append(item)
        return events, False

    async def get(self) -> dict[str, Any] | None:
        """The next event, or None once the subscription is closed."""
        item = await self.queue.get()
        if item is _CLOSED:
            return None
        return item  # type: ignore[no-any-return]

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            item = await self.get()
            if item is None:
                return
            yield item


class EventBus:
    def __init__(self, maxsize: int = DEFAULT_QUEUE_SIZE) -> None:
        self.maxsize = maxsize
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self._kind_subs: dict[str, set[Subscription]] = defaultdict(set)

    def subscribe(self, email: str, maxsize: int | None = None) -> Subscription:
        sub = Subscription(self, email, maxsize or self.maxsize)
        self._subs[email].add(sub)
        return sub

    def subscribe_kinds(self, kinds: Collection[str], maxsize: int | None = None) -> Subscription:
        """The events of every user whose `event` is one of `kinds`."""
        sub = Subscription(self, "", maxsize or self.maxsize, frozenset(kinds))
        for kind in sub.kinds or ():
            self._kind_subs[kind].add(sub)
        return sub

    def publish(self, email: str, event: dict[str, Any]) -> None:
        """Hand `event` to every subscriber of `email` and of its kind; never blocks."""
        event.setdefault("ts", time.time())
        for sub in list(self._subs.get(email, ())):
            sub.offer(event)
        if self._kind_subs:
            for sub in list(self._kind_subs.get(event.get("event", ""), ())):
                sub.offer(event)

    def subscribers(self, email: str) -> int:
        return len(self._subs.get(email, ()))

    def close_user(self, email: str) -> None:
        for sub in list(self._subs.get(email, ())):
            sub.close()

    def _remove(self, sub: Subscription) -> None:
        for kind in sub.kinds or ():
            kind_subs = self._kind_subs.get(kind)
            if kind_subs is not None:
                kind_subs.discard(sub)
                if not kind_subs:
                    del self._kind_subs[kind]
        if sub.kinds is not None:
            return
        subs = self._subs.get(sub.email)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.email]
