"""The events the core publishes (small frozen dataclasses) and the bus that hands them out.

The core publishes; consumers subscribe. A subscriber says what it wants: the events of one
user or of every user, of every kind or of some kinds (event classes). Each subscriber has a
bounded queue; one that falls too far behind is dropped (its `get` returns None and `dropped`
is True), so a slow or dead consumer never stalls the others or grows memory. Only the web
layer (web/events.py) turns events into the websocket JSON of the spec.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 2000
_CLOSED = object()


# --- the events -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened to the account `email`, at `ts` (epoch seconds)."""

    email: str
    ts: float = field(default_factory=time.time)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserCreated(Event):
    """A new account (the bot waits for the first human one)."""

    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationsRead(Event):
    """Every notification of the user was marked as read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionEvent(Event):
    """An event of one connection of the user."""

    connection_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Message(ConnectionEvent):
    """A chat line, after it was logged: `id` is its message id (None when it is not in the log)."""

    conversation_id: str
    name: str
    from_: str
    highlight: bool
    message: str
    type: str
    id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionAdded(ConnectionEvent):
    connection: Mapping[str, Any]  # the connection as the API shows it


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionChanged(ConnectionEvent):
    """The user changed the connection (its URL, name or wanted state): all of it, as the API shows it."""

    connection: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionRemoved(ConnectionEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionState(ConnectionEvent):
    """The connection's state changed (connected, disconnected, ...), with a message saying why."""

    state: str
    message: str
    reconnect_in: float | None = None  # seconds until the next try, after a lost connection


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionInfo(ConnectionEvent):
    info: Mapping[str, Any]  # a snapshot of the connection's info (nick, capabilities, ...)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationChanged(ConnectionEvent):
    """A conversation was created, (un)frozen, got a topic or was muted: all of it (`state/frozen`)."""

    conversation_id: str
    frozen: str
    info: Mapping[str, Any]
    name: str
    notifications: int
    topic: str
    unread: int
    first_unread_id: str
    muted: bool = False
    topic_by: str | None = None  # who set the topic, on a live change


@dataclass(frozen=True, slots=True, kw_only=True)
class Joined(ConnectionEvent):
    """Someone joined a channel; `user`, `host`, `account` and `realname` as far as the network
    said them (IRCv3 extended-join gives the last two; "" when not known)."""

    conversation_id: str
    nick: str
    user: str = ""
    host: str = ""
    account: str = ""
    realname: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Parted(ConnectionEvent):
    """Someone left a channel, or was kicked (`kicker`)."""

    conversation_id: str
    nick: str
    kicker: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Quit(ConnectionEvent):
    nick: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NickChanged(ConnectionEvent):
    old_nick: str
    new_nick: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ModeChanged(ConnectionEvent):
    """`from_` gave or took `mode` (+o, -v, ...) of `nick` in a channel."""

    conversation_id: str
    from_: str
    mode: str
    nick: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Read(ConnectionEvent):
    """The user read a conversation (other tabs and devices clear their badges)."""

    conversation_id: str


# What the network says about people, for native IRC clients (convos/listen). The websocket of the
# spec has no frame for them: browsers never get them (web/events.py subscribes to its kinds).


@dataclass(frozen=True, slots=True, kw_only=True)
class AwayChanged(ConnectionEvent):
    """`nick` went away with `message`, or came back (`away` false): IRCv3 away-notify."""

    nick: str
    away: bool
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountChanged(ConnectionEvent):
    """`nick` logged in to `account`, or out ("" ): IRCv3 account-notify."""

    nick: str
    account: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HostChanged(ConnectionEvent):
    """`nick` was `old_user@old_host` and is now `user@host`: IRCv3 chghost."""

    nick: str
    old_user: str
    old_host: str
    user: str
    host: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RealnameChanged(ConnectionEvent):
    """`nick` changed its realname: IRCv3 setname."""

    nick: str
    realname: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Invited(ConnectionEvent):
    """`nick` invited `target` (the connection's own nick, or someone else: IRCv3 invite-notify)
    to `channel`."""

    nick: str
    target: str
    channel: str


# --- the bus --------------------------------------------------------------------------------


class Subscription:
    """What one consumer receives: iterate it, or `get()` until None. `close()` when done.

    A deque and one waiter rather than an asyncio.Queue: the bus offers every event to every
    subscriber (an IRC listener with 100 clients has 100), and Queue.put_nowait and get_nowait
    cost ~15 times as much (bench/bench_listen.py)."""

    def __init__(self, bus: EventBus, email: str | None, kinds: frozenset[type[Event]] | None, maxsize: int) -> None:
        self.bus = bus
        self.email = email  # None: every user
        self.kinds = kinds  # None: every kind
        self.maxsize = maxsize
        self._items: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None  # the reader, while it waits in get()
        self.dropped = False  # it fell behind: the bus closed it
        self.closed = False

    def wants(self, event: Event) -> bool:
        return self.kinds is None or type(event) in self.kinds

    def _push(self, item: Any) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def offer(self, event: Event) -> None:
        if self.closed:
            return
        if len(self._items) >= self.maxsize:
            log.warning("Dropping a slow event subscriber of %s (%d events queued).",
                        self.email or "every user", len(self._items))
            self.dropped = True
            self.close()
            return
        self._push(event)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.bus._remove(self)
        # Wake the reader, within maxsize as any event (the oldest one makes room).
        if len(self._items) >= self.maxsize:
            self._items.popleft()
        self._push(_CLOSED)

    def drain(self) -> tuple[list[Event], bool]:
        """Every event queued right now, without waiting, and whether the subscription ended."""
        events: list[Event] = []
        items = self._items
        while items:
            item = items.popleft()
            if item is _CLOSED:
                return events, True
            events.append(item)
        return events, False

    async def get(self) -> Event | None:
        """The next event, or None once the subscription is closed (by `close()` or a drop)."""
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        item = self._items.popleft()
        if item is _CLOSED:
            return None
        event: Event = item
        return event

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            item = await self.get()
            if item is None:
                return
            yield item


class EventBus:
    """One bus for every consumer: the websockets, the bot, push notifications, IRC listeners."""

    def __init__(self, maxsize: int = DEFAULT_QUEUE_SIZE) -> None:
        self.maxsize = maxsize
        self._by_email: dict[str, set[Subscription]] = {}
        self._every_user: set[Subscription] = set()

    def subscribe(self, *, email: str | None = None, kinds: Collection[type[Event]] | None = None,
                  maxsize: int | None = None) -> Subscription:
        """Follow the events of `email` (None: of every user), of the classes in `kinds` (None:
        every kind), with a queue of `maxsize` events (default: the bus's)."""
        sub = Subscription(self, email, frozenset(kinds) if kinds is not None else None, maxsize or self.maxsize)
        if email is None:
            self._every_user.add(sub)
        else:
            self._by_email.setdefault(email, set()).add(sub)
        return sub

    def publish(self, event: Event) -> None:
        """Hand `event` to every subscriber that wants it; never blocks."""
        kind = type(event)
        subs = self._by_email.get(event.email)
        if subs:
            for sub in list(subs):
                if sub.kinds is None or kind in sub.kinds:  # sub.wants(event), inlined: a hot loop
                    sub.offer(event)
        if self._every_user:
            for sub in list(self._every_user):
                if sub.kinds is None or kind in sub.kinds:
                    sub.offer(event)

    def subscribers(self, email: str) -> int:
        """How many subscriptions follow `email` itself."""
        return len(self._by_email.get(email, ()))

    def close_user(self, email: str) -> None:
        """End the subscriptions of one user (the account is gone)."""
        for sub in list(self._by_email.get(email, ())):
            sub.close()

    def _remove(self, sub: Subscription) -> None:
        if sub.email is None:
            self._every_user.discard(sub)
            return
        subs = self._by_email.get(sub.email)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._by_email[sub.email]
