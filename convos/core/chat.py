"""What protocols call back into: chat lines, state events and deferred saves."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from ..store.base import LogRef
from .connection import Connection, Conversation
from .highlight import Highlights
from .saves import DeferredSaves

if TYPE_CHECKING:
    from .core import Core

log = logging.getLogger(__name__)


class ChatMixin:
    """Part of Core: the hub a Connection reports to."""

    _tasks: set[asyncio.Task[Any]]
    highlights: Highlights
    saves: DeferredSaves

    def is_current(self: Core, conn: Connection) -> bool:
        """Whether the connection is still its user's: a removed one may still be saying goodbye."""
        user = self.get_user(conn.email)
        return user is not None and user.connections.get(conn.connection_id) is conn

    def emit(self: Core, conn: Connection, event: dict[str, Any]) -> None:
        """Publish an event for the connection's owner (`connection_id` is filled in)."""
        if not self.is_current(conn):
            return  # a removed connection's goodbye is nobody's news, even under a new one's id
        event.setdefault("connection_id", conn.connection_id)
        # In log order: a `message` event waits for its line to be written (it carries the line's
        # id), and every later event waits with it, so the browser sees them in order.
        def publish() -> None:
            ref = event.get("id")
            if isinstance(ref, LogRef):
                if ref.id is None:
                    del event["id"]  # not logged (or the write failed)
                else:
                    event["id"] = ref.id
            self.events.publish(conn.email, event)
            if isinstance(ref, LogRef) and ref.error:
                # Shown but not in the log: the user is told (in the server tab), never left to find out.
                where = event.get("conversation_id") or conn.name
                self.events.publish(conn.email, {
                    "event": "message", "connection_id": conn.connection_id, "conversation_id": "",
                    "name": conn.name, "from": conn.connection_id, "highlight": False, "type": "error",
                    "message": f"Could not log a message of {where}: {ref.error}.", "ts": time.time(),
                })

        self.store.after_logs(publish)

    async def events_settled(self: Core) -> None:
        """Wait until every event emitted so far is published: a snapshot of the state taken
        after this (a websocket `load`) is never older than the events a subscriber still gets."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not done.done():
                done.set_result(None)

        self.store.after_logs(settle)
        await done

    def emit_state(self: Core, conn: Connection, type_: str, **data: Any) -> None:
        self.emit(conn, {"event": "state", "type": type_, **data})

    def emit_conversation(self: Core, conn: Connection, conv: Conversation) -> None:
        """`state/frozen`: the full conversation, after it was created, (un)frozen or got a topic."""
        self.emit(conn, {"event": "state", "type": "frozen", **conv.api_dict()})

    def is_highlight(self: Core, conn: Connection, message: str) -> bool:
        """The connection's nick or one of its user's keywords, as a whole word (no user regexes)."""
        user = self.get_user(conn.email)
        nick = str(conn.info.get("nick") or "")
        words = user.highlight_keywords if user else []
        return self.highlights.is_highlight(conn.email, conn.connection_id, nick, words, message)

    async def chat(
        self: Core,
        conn: Connection,
        conv: Conversation,
        *,
        type: str,
        from_: str,
        message: str,
        ts: float | None = None,
        own: bool = False,
        highlight: bool | None = None,
    ) -> None:
        """A chat line for `conv`: counters, highlight, log, notification, event — in that order."""
        if not self.is_current(conn):
            return  # removed: its files are gone and must not come back
        ts = time.time() if ts is None else ts
        if highlight is None:
            highlight = not own and self.is_highlight(conn, message)
        if not own:
            conv.unread += 1
        is_channel = bool(conv.conversation_id) and not conv.is_private
        if highlight and is_channel and type in ("private", "action", "notice"):
            conv.notifications += 1
            self.store.log_notification(conn.email, ts, conn.connection_id, conv.conversation_id, type, from_,
                                        message)
        ref = self.store.log_message(conn.email, conn.connection_id, conv.conversation_id, ts, type, from_, message,
                                     highlight=highlight, is_channel=is_channel)
        if not own:
            conv.unread_logged(ref)
        self.emit(conn, {
            "event": "message", "conversation_id": conv.conversation_id, "name": conv.name, "from": from_,
            "highlight": highlight, "message": message, "type": type, "ts": ts, "id": ref,
        })
        if not own or highlight:
            self.save_soon(conn)

    async def save_connection_of(self: Core, conn: Connection) -> None:
        user = self.get_user(conn.email)
        if user is not None:
            await self.save_connection(user, conn)

    def client_cert_paths(self: Core, conn: Connection) -> tuple[Any, Any]:
        return self.store.client_cert_paths(conn.email, conn.connection_id)

    def remote_address_of(self: Core, conn: Connection) -> str:
        user = self.get_user(conn.email)
        return user.remote_address if user else ""

    async def reverse_dns(self: Core, ip: str) -> str:
        loop = asyncio.get_running_loop()
        try:
            host, _ = await asyncio.wait_for(loop.getnameinfo((ip, 0)), 5)
            return str(host)
        except (OSError, TimeoutError):
            return ip

    async def clear_history(self: Core, conn: Connection, conv: Conversation) -> None:
        await self.store.delete_conversation_logs(conn.email, conn.connection_id, conv.conversation_id)

    def save_soon(self: Core, conn: Connection, *, soon: bool = False) -> None:
        """Save connection.json within CONVOS_SAVE_INTERVAL (core/saves.py): for what changes by
        itself, such as unread counters; with `soon`, within a second: what the user would miss
        after a crash (a conversation a message opened, the nick the server gave us). Whatever a
        user asks for is saved at once instead (save_connection)."""
        if not self.readonly:
            self.saves.mark(conn, soon=soon)

    def track(self: Core, coro: Any, name: str | None = None) -> asyncio.Task[Any]:
        """Run a background task that the core owns (cancelled on stop)."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self: Core, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Background task %s failed", task.get_name(), exc_info=task.exception())
