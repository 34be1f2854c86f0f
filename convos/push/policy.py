"""What is pushed: which events of the core's bus become a notification, and its payload."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

import orjson

from ..core.connection import is_channel_name
from ..core.events import ConversationChanged, Event, Message
from .devices import PushState
from .limits import MAX_BODY

# The frozen text of a channel the user was invited to (irc/handlers.py, on INVITE).
INVITED = "You have a pending invitation."
PUSHED_TYPES = ("private", "action", "notice")
_FORMATTING = re.compile(r"\x03(?:\d{1,2}(?:,\d{1,2})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]")
MAX_TITLE = 100


@dataclass(slots=True)
class Notice:
    """One thing worth a notification, before it is coalesced and turned into a payload."""

    connection_id: str
    conversation_id: str
    name: str  # the conversation's name as shown (#Convos, a nick)
    sender: str
    text: str
    kind: str = "message"  # or "invite"
    message_id: str = ""
    mention: bool = False

    @property
    def key(self) -> str:
        return f"{self.connection_id}/{self.conversation_id}"

    @property
    def urgency(self) -> str:
        return "high" if self.mention or self.kind == "invite" or not is_channel_name(self.conversation_id) \
            else "normal"


def notice_for(event: Event, state: PushState, own_nick: str) -> Notice | None:
    """The notification an event asks for under the user's settings, if any.

    Highlights, private messages and invites are pushed by default ("mentions"); "all" adds
    every line of others in that conversation, "nothing" silences it. Notices are pushed only
    when they mention the user (services send many); the server tab never is."""
    if not isinstance(event, Message | ConversationChanged) or not event.conversation_id:
        return None
    cid, conv_id = event.connection_id, event.conversation_id
    if state.policy(cid, conv_id) == "nothing":
        return None
    if isinstance(event, ConversationChanged):
        if event.frozen == INVITED and is_channel_name(conv_id):
            return Notice(cid, conv_id, event.name or conv_id, "", "", kind="invite")
        return None
    sender = event.from_
    if event.type not in PUSHED_TYPES or not sender or sender.lower() == own_nick.lower():
        return None
    mention = event.highlight
    private = not is_channel_name(conv_id)
    if event.type == "notice" and not mention:
        return None
    if state.policy(cid, conv_id) == "mentions" and not (mention or private):
        return None
    text = _FORMATTING.sub("", event.message)
    if event.type == "action":
        text = f"* {sender} {text}"
    return Notice(cid, conv_id, event.name or conv_id, sender, text, message_id=event.id or "", mention=mention)


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def payload(notice: Notice, count: int, content: bool) -> bytes:
    """The JSON the service worker shows (share/public/sw.js). With `content` off it holds no chat
    text and no nick, only the conversation's name."""
    name = notice.name
    if notice.kind == "invite":
        title, body = "Convos", f"You are invited to {name}."
    elif not content:
        title = "Convos"
        body = f"{count} new messages in {name}" if count > 1 else f"New message in {name}"
    else:
        private = not is_channel_name(notice.conversation_id)
        title = notice.sender if private else f"{notice.sender} in {name}"
        if count > 1:
            title = f"{name} ({count})"
        body = notice.text
    path = f"/chat/{quote(notice.connection_id, safe='')}/{quote(notice.conversation_id, safe='')}"
    if notice.message_id:
        path += f"?around_id={quote(notice.message_id, safe='')}"
    doc = {
        "title": _cut(title, MAX_TITLE),
        "body": _cut(body, MAX_BODY),
        "count": count,
        "kind": notice.kind,
        "connection_id": notice.connection_id,
        "conversation_id": notice.conversation_id,
        "message_id": notice.message_id,
        "tag": notice.key,
        "path": path,
    }
    return orjson.dumps(doc)
