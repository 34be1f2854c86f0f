"""What a client without draft/chathistory missed: on attach it gets the lines logged since that
client (by its name) last saw one, bounded, a batch per conversation. Where each client name got
to is kept in user.json (`irc_clients`), written when the client detaches."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..core import history
from ..errors import ConvosError
from ..store.logs.id import parse_message_id

if TYPE_CHECKING:
    from ..core.connection import Connection, Conversation
    from ..core.core import Core
    from ..core.user import User

KEY = "irc_clients"
# Client names remembered per account (the least recently detached go first).
MAX_CLIENT_NAMES = 32
# Lines replayed on one attach, and conversations looked at for them.
MAX_REPLAY_LINES = 1000
MAX_REPLAY_CONVERSATIONS = 50
PAGE = 200
_NAME = re.compile(r"[^\w.-]")


def client_name(text: str) -> str:
    """The client's name from `email/network@name`, cleaned: '' when it gave none."""
    return _NAME.sub("", text)[:32]


def order(msgid: str) -> tuple[int, int, int]:
    """Sort key of a message id: the order of the logs ('' first)."""
    pos = parse_message_id(msgid)
    return (pos.epoch, pos.offset, pos.tag) if pos is not None else (-1, 0, 0)


def _seen(user: User) -> dict[str, str]:
    value = user.extra.get(KEY)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def last_seen(user: User, connection_id: str, client: str) -> str:
    return _seen(user).get(f"{connection_id}/{client}", "")


def remember(user: User, connection_id: str, client: str, msgid: str) -> None:
    seen = _seen(user)
    key = f"{connection_id}/{client}"
    seen.pop(key, None)
    seen[key] = msgid
    while len(seen) > MAX_CLIENT_NAMES:
        del seen[next(iter(seen))]
    user.extra[KEY] = seen


async def missed(core: Core, user: User, conn: Connection, since: str) -> list[tuple[Conversation, list[dict[str, Any]]]]:
    """The lines of each conversation logged after the message `since`, oldest first, bounded."""
    out: list[tuple[Conversation, list[dict[str, Any]]]] = []
    pos = parse_message_id(since)
    if pos is None:
        return out
    # An id is a place in its own conversation's file: the others are read from the second
    # before it (a line of that second the client saw elsewhere may come again, none is lost).
    after = datetime.fromtimestamp(pos.epoch - 1, UTC).isoformat()
    left = MAX_REPLAY_LINES
    for conv in conn.sorted_conversations()[:MAX_REPLAY_CONVERSATIONS]:
        if left <= 0:
            break
        try:
            page = await history.messages(core, user, conn.connection_id, conv.conversation_id,
                                          {"after": after, "limit": min(PAGE, left)})
        except ConvosError:
            continue
        messages = list(page.get("messages") or [])
        ids = [m.get("id") for m in messages]
        if since in ids:
            messages = messages[ids.index(since) + 1:]  # its own conversation: exactly after it
        if messages:
            out.append((conv, messages))
            left -= len(messages)
    return out
