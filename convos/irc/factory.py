"""The IRC factory that cli.py builds: the state IRC connections share, owned and bounded.

One factory per core: the host queue (CONVOS_CONNECT_DELAY between attempts to one host), the
/list cache per host, and the TLS client contexts. Two factories (two cores in one process, as
in the tests) share nothing.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .connection import IrcConnection

# Hosts whose /list answer is kept, and the bytes of all of them (estimated: the names and
# topics, plus LIST_ENTRY_COST per channel for the Python objects). The least recently asked
# goes first; one list larger than all of it keeps its first LIST_CACHE_BYTES.
LIST_CACHE_HOSTS = 32
LIST_CACHE_BYTES = 32 << 20
LIST_ENTRY_COST = 400
# A finished list older than this is asked for again.
LIST_CACHE_TTL = 3600.0
# TLS client contexts kept (one per verify setting and client certificate): building one
# loads the system's CA certificates, about 28 ms.
TLS_CONTEXTS = 256
# Hosts the host queue remembers; past it, hosts whose turn has passed are forgotten.
HOST_QUEUE_HOSTS = 1024


class HostQueue:
    """Connection attempts to one IRC host are spaced by CONVOS_CONNECT_DELAY, across all users."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._next: dict[str, float] = {}
        self._clock = clock

    def __len__(self) -> int:
        return len(self._next)

    def reserve(self, host: str, delay: float) -> float:
        """Book the next slot for `host`; returns how long to wait for it."""
        now = self._clock()
        if len(self._next) >= HOST_QUEUE_HOSTS:
            self._next = {h: slot for h, slot in self._next.items() if slot > now}
        slot = max(now, self._next.get(host, 0.0))
        self._next[host] = slot + delay
        return slot - now

    def failed(self, host: str) -> None:
        # After a failed attempt the next one need not wait for the full delay.
        self._next[host] = min(self._next.get(host, 0.0), self._clock())


@dataclass(slots=True, eq=False)
class ChannelList:
    """One host's answer to LIST, as it comes (321, 322..., 323)."""

    started: float
    ts: float  # the last line
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    done: bool = False
    size: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class ListCache:
    """The /list answers per IRC host (`host:port`), shared by the users of one factory, bounded
    in hosts and bytes; a finished list expires after `ttl` seconds."""

    def __init__(self, *, hosts: int = LIST_CACHE_HOSTS, max_bytes: int = LIST_CACHE_BYTES,
                 ttl: float = LIST_CACHE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.hosts = max(1, hosts)
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._clock = clock
        self._lists: OrderedDict[str, ChannelList] = OrderedDict()
        self.size = 0

    def __len__(self) -> int:
        return len(self._lists)

    def __contains__(self, key: str) -> bool:
        return key in self._lists

    def get(self, key: str) -> ChannelList | None:
        """The host's list (now the most recently used), or None when there is none or it expired."""
        found = self._lists.get(key)
        if found is None:
            return None
        if found.done and self._clock() - found.ts > self.ttl:
            self._drop(key)
            return None
        self._lists.move_to_end(key)
        return found

    def idle(self, found: ChannelList) -> float:
        """Seconds since the list got its last line (or was asked for)."""
        return self._clock() - found.ts

    def start(self, key: str) -> ChannelList:
        """A new list for the host (LIST was just sent), replacing the old one."""
        if key in self._lists:
            self._drop(key)
        now = self._clock()
        found = self._lists[key] = ChannelList(started=now, ts=now)
        while len(self._lists) > self.hosts:
            self._drop(next(iter(self._lists)))
        return found

    def feed(self, key: str, command: int | str, params: list[str]) -> None:
        """A 321, 322 or 323 from the host: into its list, if one is being made."""
        found = self._lists.get(key)
        if found is None:
            return
        found.ts = self._clock()  # still coming
        if command == 322 and len(params) >= 3:
            name = params[1]
            topic = params[-1] if len(params) > 3 else ""
            topic = re.sub(r"^\[\+[^\]]*\]\s?", "", topic)  # the modes some servers put first
            users = params[2]
            cost = LIST_ENTRY_COST + len(name) + len(topic)
            old = found.conversations.get(name.lower())
            if old is None and not self._room(key, cost):
                return  # this list alone fills the cache: it keeps what it has
            if old is not None:
                cost -= LIST_ENTRY_COST + len(old["name"]) + len(old["topic"])
            found.conversations[name.lower()] = {
                "name": name, "conversation_id": name.lower(), "n_users": int(users) if users.isdigit() else 0,
                "topic": topic,
            }
            found.size += cost
            self.size += cost
        elif command == 323:
            found.done = True
            found.arrived.set()

    def _room(self, key: str, cost: int) -> bool:
        """Make room for `cost` more bytes, dropping other hosts' lists, least recently used first."""
        while self.size + cost > self.max_bytes:
            other = next((k for k in self._lists if k != key), None)
            if other is None:
                return False
            self._drop(other)
        return True

    def _drop(self, key: str) -> None:
        found = self._lists.pop(key)
        self.size -= found.size
        found.arrived.set()  # whoever waits for it answers with what there is


@dataclass(frozen=True, slots=True)
class _TlsKey:
    verify: bool
    ca_file: str
    cert: str
    key: str
    stamp: tuple[int, int, int, int]  # mtime and size of cert and key: a new certificate is a new context


def _stamp(cert: Path | None, key: Path | None) -> tuple[int, int, int, int]:
    def one(path: Path | None) -> tuple[int, int]:
        try:
            st = os.stat(path) if path is not None else None
        except OSError:
            st = None
        return (st.st_mtime_ns, st.st_size) if st is not None else (0, -1)

    return (*one(cert), *one(key))


class TlsContexts:
    """TLS client contexts, built in a thread and kept per (verify, CA file, client certificate):
    a reconnect, and connections that share a setting, reuse one."""

    def __init__(self, limit: int = TLS_CONTEXTS) -> None:
        self.limit = max(1, limit)
        self._made: OrderedDict[_TlsKey, asyncio.Task[ssl.SSLContext]] = OrderedDict()
        self.built = 0

    def __len__(self) -> int:
        return len(self._made)

    async def context(self, *, verify: bool, ca_file: str = "", cert: Path | None = None,
                      key: Path | None = None) -> ssl.SSLContext:
        stamp = await asyncio.to_thread(_stamp, cert, key)
        ident = _TlsKey(verify, ca_file, os.fspath(cert or ""), os.fspath(key or ""), stamp)
        task = self._made.get(ident)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            from . import tls as tlsmod

            task = asyncio.ensure_future(asyncio.to_thread(
                tlsmod.make_context, verify=verify, ca_file=ca_file, cert=cert, key=key))
            self.built += 1
            self._made[ident] = task
            while len(self._made) > self.limit:
                self._made.popitem(last=False)
        else:
            self._made.move_to_end(ident)
        # Shielded: one connection that gives up does not cancel the build others wait for.
        return await asyncio.shield(task)


class IrcFactory:
    """What cli.py builds for irc:// and ircs://: the IrcConnection class bound to this factory,
    and the state its connections share."""

    def __init__(self) -> None:
        self.hosts = HostQueue()
        self.lists = ListCache()
        self.tls = TlsContexts()
        self._cls: type[IrcConnection] | None = None

    def connection_class(self) -> type[IrcConnection]:
        """IrcConnection, with `factory` set to this one (the protocol modules load on first use)."""
        if self._cls is None:
            from .connection import IrcConnection

            self._cls = type("IrcConnection", (IrcConnection,), {
                "__slots__": (), "factory": self, "__module__": IrcConnection.__module__,
                "__qualname__": IrcConnection.__qualname__})
        return self._cls
