"""The chat service: chat lines in (counters, highlights, log), events out, unread and read, deferred saves."""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial
from typing import Any, Protocol

from ..store.base import ConnectionStore, LogRef, MessageLog
from .connection import Connection, Conversation
from .events import ConversationChanged, Event, EventBus, Message, NotificationsRead, Read
from .highlight import Highlights
from .saves import DeferredSaves
from .tasks import Tasks
from .user import User
from .users import Users

log = logging.getLogger(__name__)

# Lines after a reader's last seen one that mark_read reads to count what is still unread.
UNREAD_AFTER_LIMIT = 200


class ConversationStore(ConnectionStore, MessageLog, Protocol):
    """What the chat and connections services need of the store: connection.json and the logs."""


def conversation_changed(conn: Connection, conv: Conversation, topic_by: str | None = None) -> ConversationChanged:
    """The whole conversation as an event (a snapshot: it may change before it is published)."""
    return ConversationChanged(
        email=conn.email, connection_id=conn.connection_id, conversation_id=conv.conversation_id,
        frozen=conv.frozen, info=dict(conv.info), name=conv.name, notifications=conv.notifications,
        topic=conv.topic, unread=conv.unread, first_unread_id=conv.first_unread_id, muted=conv.muted, topic_by=topic_by)


class ChatService:
    """What happens in conversations: the lines protocols report, the events of connections,
    unread counters and highlights, and the saves of connection.json that keep them."""

    def __init__(self, store: ConversationStore, events: EventBus, users: Users, tasks: Tasks, *, save_interval: float,
                 readonly: bool = False) -> None:
        self.store = store
        self.events = events
        self.users = users
        self.tasks = tasks
        self.readonly = readonly
        self.highlights = Highlights()
        # connection.json of what changes by itself (counters, topics), in batches (core/saves.py).
        self.saves = DeferredSaves(save_interval, self._connection_data, self._write_connections)

    def is_current(self, conn: Connection) -> bool:
        """Whether the connection is still its user's: a removed one may still be saying goodbye."""
        return self.users.is_current(conn)

    def emit(self, conn: Connection, event: Event) -> None:
        """Publish an event of the connection's owner, once the lines logged before it are written.

        In log order: a `message` event waits for its line to be written (it carries the line's
        id), and every later event waits with it, so a subscriber sees them in order."""
        if not self.is_current(conn):
            return  # a removed connection's goodbye is nobody's news, even under a new one's id
        self.store.after_logs(partial(self.events.publish, event))

    def _emit_message(self, conn: Connection, conv: Conversation, ref: LogRef, *, type: str, from_: str,
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

    async def events_settled(self) -> None:
        """Wait until every event emitted so far is published: a snapshot of the state taken
        after this (a websocket `load`) is never older than the events a subscriber still gets."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not done.done():
                done.set_result(None)

        self.store.after_logs(settle)
        await done

    def emit_conversation(self, conn: Connection, conv: Conversation, topic_by: str | None = None) -> None:
        """`state/frozen`: the full conversation, after it was created, (un)frozen or got a topic."""
        self.emit(conn, conversation_changed(conn, conv, topic_by))

    def is_highlight(self, conn: Connection, message: str) -> bool:
        """The connection's nick or one of its user's keywords, as a whole word (no user regexes)."""
        user = self.users.get(conn.email)
        nick = str(conn.info.get("nick") or "")
        words = user.highlight_keywords if user else []
        return self.highlights.is_highlight(conn.email, conn.connection_id, nick, words, message)

    async def ingest(
        self,
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

    async def mark_read(self, user: User, conn: Connection, conv: Conversation, last_id: str = "") -> None:
        """Read. With `last_id`, the newest message the reader was shown: lines logged after it
        stay unread (a read request from a view the user just left can come after new lines)."""
        if last_id and conv.unread and await self._unread_after(user, conn, conv, last_id):
            return
        conv.mark_read()
        # Other tabs and devices of the user clear their badges too.
        self.emit(conn, Read(email=user.email, connection_id=conn.connection_id, conversation_id=conv.conversation_id))
        await self.save_connection(user, conn)

    async def _unread_after(self, user: User, conn: Connection, conv: Conversation, last_id: str) -> bool:
        """Make the counters those of the lines of others after `last_id`; False when there are
        none (or `last_id` names no line of the conversation): then all is read."""
        await self.store.flush_logs()  # every line counted so far is in the file
        try:
            page = await self.store.read_messages(user.email, conn.connection_id, conv.conversation_id,
                                                  after_id=last_id, limit=UNREAD_AFTER_LIMIT)
        except (ValueError, LookupError, OSError):
            return False
        nick = str(conn.info.get("nick") or "").lower()
        unseen = [m.to_dict() for m in page.messages]
        unseen = [m for m in unseen if str(m.get("from") or "").lower() != nick]
        if not unseen:
            return False
        if page.after_id is None:  # all of them: the exact count; else more than a page, kept as it is
            conv.unread = min(conv.unread, len(unseen))
        conv.first_unread = str(unseen[0].get("id") or "")
        if conv.conversation_id and not conv.is_private:
            conv.notifications = min(conv.notifications, sum(1 for m in unseen if m.get("highlight")))
        self.emit_conversation(conn, conv)
        await self.save_connection(user, conn)
        return True

    async def mark_notifications_read(self, user: User) -> None:
        for conn in user.sorted_connections():
            changed = False
            for conv in conn.all_conversations():
                changed |= conv.notifications != 0
                conv.notifications = 0
            if changed:
                await self.save_connection(user, conn)
        self.events.publish(NotificationsRead(email=user.email))

    async def mark_all_read(self, user: User) -> None:
        """Every conversation and server tab of the user read at once ("Mark all as read")."""
        for conn in user.sorted_connections():
            changed = False
            for conv in conn.all_conversations():
                if conv.unread or conv.notifications or conv.first_unread:
                    conv.mark_read()
                    self.emit(conn, Read(email=user.email, connection_id=conn.connection_id,
                                         conversation_id=conv.conversation_id))
                    changed = True
            if changed:
                await self.save_connection(user, conn)
        self.events.publish(NotificationsRead(email=user.email))

    async def set_muted(self, user: User, conn: Connection, conv: Conversation, muted: bool) -> None:
        """Mute or unmute a conversation; other tabs and devices get the conversation (`frozen`)."""
        if conv.muted == muted:
            return
        conv.muted = muted
        self.emit_conversation(conn, conv)
        await self.save_connection(user, conn)

    async def save_connection(self, user: User, conn: Connection) -> None:
        # A removed connection (maybe still saying goodbye) never writes over a new one of the same id.
        if user.removed or self.readonly or user.connections.get(conn.connection_id) is not conn:
            return
        self.saves.saved(conn)  # this snapshot has what a deferred save would have written
        await self.store.save_connection(user.email, conn.connection_id, conn.to_dict())

    async def save_connection_of(self, conn: Connection) -> None:
        user = self.users.get(conn.email)
        if user is not None:
            await self.save_connection(user, conn)

    async def clear_history(self, conn: Connection, conv: Conversation) -> None:
        await self.store.delete_conversation_logs(conn.email, conn.connection_id, conv.conversation_id)

    def save_soon(self, conn: Connection, *, soon: bool = False) -> None:
        """Save connection.json within CONVOS_SAVE_INTERVAL (core/saves.py): for what changes by
        itself, such as unread counters; with `soon`, within a second: what the user would miss
        after a crash (a conversation a message opened, the nick the server gave us). Whatever a
        user asks for is saved at once instead (save_connection)."""
        if not self.readonly:
            self.saves.mark(conn, soon=soon)

    def start_saves(self) -> None:
        if not self.readonly:
            self.saves.start()

    async def stop_saves(self) -> None:
        """At shutdown: what is pending and whatever else changed (topics, the server's nick...),
        in one batch; only the files that differ are written."""
        if not self.readonly:
            await self.saves.stop()
            await self.saves.flush(self.users.connections())

    def _connection_data(self, conn: Connection) -> dict[str, Any] | None:
        """What a deferred save writes: None for a connection that is not its user's any more."""
        user = self.users.get(conn.email)
        if user is None or user.removed or user.connections.get(conn.connection_id) is not conn:
            return None
        return conn.to_dict()

    async def _write_connections(self, items: list[tuple[Connection, dict[str, Any]]]) -> None:
        await self.store.save_connections([(conn.email, conn.connection_id, data) for conn, data in items])
