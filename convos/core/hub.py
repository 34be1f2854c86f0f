"""The seam between the core and the protocol side: what a protocol connection may call.

A `Connection` reports to its `hub` (a `CoreHub`): chat lines and events in, saves, owned
background tasks, the profile and the address rules of its host, pastes. `Hub` is the core's
implementation, made by the Core from its services; a protocol never sees the services.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from .events import ConnectionState

if TYPE_CHECKING:
    from ..config import Config
    from ..store.base import ConnectionStore
    from .addresses import AddressCheck
    from .chat import ChatService
    from .connection import Connection, Conversation
    from .connections import ProfilesService
    from .connectqueue import ConnectQueue
    from .events import Event
    from .files import FilesService
    from .profiles import Profile
    from .tasks import Tasks
    from .users import Users


class CoreHub(Protocol):
    """Everything a protocol connection may call on the core."""

    @property
    def config(self) -> Config: ...

    # Chat lines and events, published to the connection's owner in log order.
    async def chat(self, conn: Connection, conv: Conversation, *, type: str, from_: str, message: str,
                   ts: float | None = None, own: bool = False, highlight: bool | None = None) -> None: ...

    def emit(self, conn: Connection, event: Event) -> None: ...

    def emit_conversation(self, conn: Connection, conv: Conversation, topic_by: str | None = None) -> None: ...

    # connection.json: now, or soon (bursts of changes cost one write).
    async def save_connection_of(self, conn: Connection) -> None: ...

    def save_soon(self, conn: Connection, *, soon: bool = False) -> None: ...

    async def clear_history(self, conn: Connection, conv: Conversation) -> None: ...

    def track(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]: ...

    # The connect queue (core/connectqueue.py): a few connections register at once.
    def queue_connect(self, conn: Connection) -> None: ...

    def connect_done(self, conn: Connection) -> None: ...

    def unqueue_connect(self, conn: Connection) -> None: ...

    # The connection's host and user.
    async def profile_for(self, url: str, created_by: str = "") -> Profile: ...

    def address_check(self, conn: Connection) -> AddressCheck: ...

    def client_cert_paths(self, conn: Connection) -> tuple[Any, Any]: ...

    def remote_address_of(self, conn: Connection) -> str: ...

    async def reverse_dns(self, ip: str) -> str: ...

    async def create_paste(self, conn: Connection, text: str) -> str: ...


class Detached:
    """The hub of a connection no core has adopted (yet): every call is a mistake."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"A connection without a core cannot call {name}.")


DETACHED: CoreHub = Detached()


class Hub:
    """The core's CoreHub: each call goes to the service that does it."""

    def __init__(self, config: Config, store: ConnectionStore, users: Users, tasks: Tasks, chat: ChatService,
                 profiles: ProfilesService, files: FilesService, connect_queue: ConnectQueue) -> None:
        self._config = config
        self._store = store
        self._users = users
        self._tasks = tasks
        self._chat = chat
        self._profiles = profiles
        self._files = files
        self._connect_queue = connect_queue

    @property
    def config(self) -> Config:
        return self._config

    async def chat(self, conn: Connection, conv: Conversation, *, type: str, from_: str, message: str,
                   ts: float | None = None, own: bool = False, highlight: bool | None = None) -> None:
        await self._chat.ingest(conn, conv, type=type, from_=from_, message=message, ts=ts, own=own,
                                highlight=highlight)

    def emit(self, conn: Connection, event: Event) -> None:
        self._chat.emit(conn, event)

    def emit_conversation(self, conn: Connection, conv: Conversation, topic_by: str | None = None) -> None:
        self._chat.emit_conversation(conn, conv, topic_by)

    async def save_connection_of(self, conn: Connection) -> None:
        await self._chat.save_connection_of(conn)

    def save_soon(self, conn: Connection, *, soon: bool = False) -> None:
        self._chat.save_soon(conn, soon=soon)

    async def clear_history(self, conn: Connection, conv: Conversation) -> None:
        await self._chat.clear_history(conn, conv)

    def track(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        return self._tasks.track(coro, name)

    def queue_connect(self, conn: Connection) -> None:
        """Connect when the connect queue has room (at start-up and to reconnect)."""
        if self._connect_queue.add(conn):
            self._chat.emit(conn, ConnectionState(
                email=conn.email, connection_id=conn.connection_id, state="queued",
                message="Waiting for other connections to connect first."))

    def connect_done(self, conn: Connection) -> None:
        """The connection's attempt to connect is over (registered, failed, or waiting for its host's turn)."""
        self._connect_queue.done(conn)

    def unqueue_connect(self, conn: Connection) -> None:
        """The connection no longer waits in the connect queue (connected or disconnected on request)."""
        self._connect_queue.forget(conn)

    async def profile_for(self, url: str, created_by: str = "") -> Profile:
        return await self._profiles.profile_for(url, created_by)

    def address_check(self, conn: Connection) -> AddressCheck:
        return self._profiles.address_check(conn)

    def client_cert_paths(self, conn: Connection) -> tuple[Any, Any]:
        return self._store.client_cert_paths(conn.email, conn.connection_id)

    def remote_address_of(self, conn: Connection) -> str:
        user = self._users.get(conn.email)
        return user.remote_address if user else ""

    async def reverse_dns(self, ip: str) -> str:
        loop = asyncio.get_running_loop()
        try:
            host, _ = await asyncio.wait_for(loop.getnameinfo((ip, 0)), 5)
            return str(host)
        except (OSError, TimeoutError):
            return ip

    async def create_paste(self, conn: Connection, text: str) -> str:
        return await self._files.create_paste(conn, text)
