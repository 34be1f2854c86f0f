"""What protocols call back into: chat lines, state events and debounced saves."""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from ..store.base import LogRef
from .connection import Connection, Conversation
from .events import ConversationChanged, Event, Message
from .highlight import Highlights

if TYPE_CHECKING:
    from .core import Core

log = logging.getLogger(__name__)

SAVE_DELAY = 2.0


def conversation_changed(conn: Connection, conv: Conversation, topic_by: str | None = None) -> ConversationChanged:
    """The whole conversation as an event (a snapshot: it may change before it is published)."""
    return ConversationChanged(
        email=conn.email, connection_id=conn.connection_id, conversation_id=conv.conversation_id,
        frozen=conv.frozen, info=dict(conv.info), name=conv.name, notifications=conv.notifications,
        topic=conv.topic, unread=conv.unread, first_unread_id=conv.first_unread_id, topic_by=topic_by)


class ChatMixin:
    """Part of Core: the hub a Connection reports to."""

    _save_handles: dict[int, asyncio.TimerHandle]
    _tasks: set[asyncio.Task[Any]]
    highlights: Highlights

    def is_current(self: Core, conn: Connection) -> bool:
        """Whether the connection is still its user's: a removed one may still be saying goodbye."""
        user = self.get_user(conn.email)
        return user is not None and user.connections.get(conn.connection_id) is conn

    def emit(self: Core, conn: Connection, event: Event) -> None:
        """Publish an event of the connection's owner, once the lines logged before it are written.

        In log order: a `message` event waits for its line to be written (it carries the line's
        id), and every later event waits with it, so a subscriber sees them in order."""
        if not self.is_current(conn):
            return  # a removed connection's goodbye is nobody's news, even under a new one's id
        self.store.after_logs(partial(self.events.publish, event))

    def _emit_message(self: Core, conn: Connection, conv: Conversation, ref: LogRef, *, type: str, from_: str,
                      message: str, ts: float, highlight: bool) -> None:
        if not self.is_current(conn):
            return

        def publish() -> None:
            self.events.publish(Message(
                email=conn.email, connection_id=conn.connection_id, conversation_id=conv.conversation_id,
                name=conv.name, from_=from_, highlight=highlight, message=message, type=type, ts=ts, id=ref.id))
            if ref.error:
                # Shown but not in the log: the user is told (in the server tab), never left to find out.
                where = conv.conversation_id or conn.name
                self.events.publish(Message(
                    email=conn.email, connection_id=conn.connection_id, conversation_id="", name=conn.name,
                    from_=conn.connection_id, highlight=False, type="error",
                    message=f"Could not log a message of {where}: {ref.error}."))

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

    def emit_conversation(self: Core, conn: Connection, conv: Conversation, topic_by: str | None = None) -> None:
        """`state/frozen`: the full conversation, after it was created, (un)frozen or got a topic."""
        self.emit(conn, conversation_changed(conn, conv, topic_by))

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
        self._emit_message(conn, conv, ref, type=type, from_=from_, message=message, ts=ts, highlight=highlight)
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

    def save_soon(self: Core, conn: Connection) -> None:
        """Save connection.json shortly: bursts of messages cost one write, and counters survive a restart."""
        key = id(conn)
        if key in self._save_handles or self.readonly:
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._save_handles.pop(key, None)
            self.track(self._save_conn(conn))

        self._save_handles[key] = loop.call_later(SAVE_DELAY, fire)

    async def _save_conn(self: Core, conn: Connection) -> None:
        user = self.get_user(conn.email)
        if user is not None:
            try:
                await self.save_connection(user, conn)
            except Exception:
                log.exception("Could not save %s of %s", conn.connection_id, conn.email)

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

    async def flush_saves(self: Core) -> None:
        """Save every connection with a pending debounced save, now."""
        pending = list(self._save_handles.items())
        self._save_handles.clear()
        for _key, handle in pending:
            handle.cancel()
        for user in self.users:
            for conn in user.connections.values():
                if any(k == id(conn) for k, _ in pending):
                    await self._save_conn(conn)
