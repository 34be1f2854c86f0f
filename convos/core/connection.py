"""Connections and their conversations, as stored in connection.json and shown by the API."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from ..errors import InvalidInput
from ..store.base import LogRef
from .hub import DETACHED, CoreHub
from .people import People


class ProtocolNotSupported(InvalidInput):
    def __init__(self, url: str) -> None:
        scheme = (urlsplit(url).scheme or "unknown").capitalize()
        super().__init__(f"Convos::Core::Connection::{scheme} is not supported.")

STATES = ("connected", "connecting", "disconnected", "disconnecting", "queued")
CONVERSATION_KEYS = ("connection_id", "conversation_id", "first_unread_id", "frozen", "info", "muted", "name",
                     "notifications", "password", "topic", "unread")
_NOT_EXTRA = frozenset(CONVERSATION_KEYS) | {"last_read", "dialog_id"}
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{16}")
CONNECTION_KEYS = ("connection_id", "conversations", "dialogs", "info", "name", "on_connect_commands",
                   "service_accounts", "state", "url", "wanted_state")


def is_channel_name(name: str) -> bool:
    return name[:1] in ("#", "&")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


@dataclass(slots=True, eq=False)
class Conversation:
    connection_id: str
    conversation_id: str
    name: str
    frozen: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    notifications: int = 0
    password: str = ""
    topic: str = ""
    unread: int = 0
    # Muted by the user: the browser shows no unread count and no notification for it (mentions
    # still count). Kept in connection.json only when true, so unmuted files stay as 8.07 wrote them.
    muted: bool = False
    # The id of the first unread message, where the browser puts its "New messages" line: exact
    # however many messages came, at the cost of one reference. A LogRef until the line is written.
    first_unread: LogRef | str = ""
    # A legacy `last_read` from old files; unread is computed from the logs once, then dropped.
    last_read: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any], connection_id: str) -> Conversation | None:
        name = data.get("name") or data.get("conversation_id") or data.get("dialog_id")
        if not isinstance(name, str) or not name:
            return None
        info = data.get("info")
        return cls(
            connection_id=connection_id,
            conversation_id=str(data.get("conversation_id") or data.get("dialog_id") or name).lower(),
            name=name,
            frozen=str(data.get("frozen") or ""),
            info=info if isinstance(info, dict) else {},
            notifications=_int(data.get("notifications")),
            password=str(data.get("password") or ""),
            topic=str(data.get("topic") or ""),
            unread=_int(data.get("unread")),
            muted=data.get("muted") is True,
            first_unread=_message_id(data.get("first_unread_id")),
            last_read=str(data.get("last_read") or ""),
            extra={k: v for k, v in data.items() if k not in _NOT_EXTRA},
        )

    @property
    def is_private(self) -> bool:
        return not is_channel_name(self.name)

    def unread_logged(self, ref: LogRef) -> None:
        """An unread message was logged as `ref` (after `unread` went up): the first one after a
        read is remembered."""
        if self.unread == 1:
            self.first_unread = ref

    def mark_read(self) -> None:
        self.unread = 0
        self.notifications = 0
        self.first_unread = ""

    @property
    def first_unread_id(self) -> str:
        """The id of the first unread message; "" when there is none, or it is not known (the
        count came from an old file, or the line is not written yet)."""
        if isinstance(self.first_unread, LogRef):
            if self.first_unread.id is None:
                return ""
            self.first_unread = self.first_unread.id
        return self.first_unread if self.unread else ""

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.extra)
        data.update(self.api_dict())
        data["password"] = self.password
        if not self.muted:
            del data["muted"]
        if self.last_read:
            data["last_read"] = self.last_read
        return data

    def api_dict(self) -> dict[str, Any]:
        return {
            "connection_id": self.connection_id,
            "conversation_id": self.conversation_id,
            "frozen": self.frozen,
            "info": dict(self.info),
            "muted": self.muted,
            "name": self.name,
            "notifications": self.notifications,
            "topic": self.topic,
            "unread": self.unread,
            "first_unread_id": self.first_unread_id,
        }


@dataclass(frozen=True, slots=True)
class NetworkFacts:
    """What the network said about itself when we registered: native IRC clients attaching to
    the connection (convos/listen) get the same welcome."""

    server: str = ""
    version: str = ""
    user_modes: str = ""
    channel_modes: str = ""
    isupport: tuple[str, ...] = ()  # the 005 tokens, `KEY=value` or `KEY`
    motd: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WhoReply:
    """One line of a WHO answer: 352 (or WHOX 354) and its parameters after the nick it was for."""

    numeric: str
    params: tuple[str, ...]


def _message_id(value: Any) -> str:
    return value if isinstance(value, str) and _MESSAGE_ID.fullmatch(value) else ""


@dataclass(slots=True, eq=False)
class Connection:
    """What every protocol shares; the IRC core subclasses it to actually connect."""

    connection_id: str
    url: str
    name: str = ""
    wanted_state: str = "connected"
    on_connect_commands: list[str] = field(default_factory=list)
    service_accounts: list[str] = field(default_factory=lambda: ["chanserv", "nickserv"])
    info: dict[str, Any] = field(default_factory=dict)
    state: str = "disconnected"
    conversations: dict[str, Conversation] = field(default_factory=dict)
    # The per-connection server pseudo-conversation: id '' and the connection's name.
    server: Conversation = field(init=False)
    extra: dict[str, Any] = field(default_factory=dict)
    # Whose connection this is, and the core it reports to (set when the core adopts it).
    email: str = field(default="", repr=False)
    hub: CoreHub = field(default=DETACHED, repr=False)
    # Who the network says the people are (user@host, account, ...): in memory, never saved.
    people: People = field(default_factory=People, repr=False)

    def __post_init__(self) -> None:
        self.server = Conversation(self.connection_id, "", self.name or self.connection_id)

    # What a protocol implements. A connection whose scheme has no implementation can be
    # listed, read and deleted, but never connects.
    async def start(self) -> None:
        """Connect when wanted_state is connected (called at start-up and after creation)."""

    async def stop(self) -> None:
        """Disconnect without changing wanted_state (daemon shutdown)."""

    async def connect(self) -> None:
        raise ProtocolNotSupported(self.url)

    @property
    def can_connect(self) -> bool:
        """Whether a protocol implements connecting (known without trying)."""
        return type(self).connect is not Connection.connect

    def network_facts(self) -> NetworkFacts:
        """The network's welcome, as far as this protocol knows it."""
        info = self.info
        return NetworkFacts(server=str(info.get("real_host") or ""), version=str(info.get("version") or ""),
                            user_modes=str(info.get("available_user_modes") or ""),
                            channel_modes=str(info.get("available_channel_modes") or ""))

    async def disconnect(self) -> None:
        """Close the connection on purpose (no reconnect)."""

    async def who(self, *params: str) -> list[WhoReply]:
        """WHO `params` on the network: its 352 (and WHOX 354) replies, in order."""
        raise InvalidInput("Not connected.")

    async def send(self, conversation_id: str, message: str) -> dict[str, Any]:
        """Send a chat line or slash command; returns the `sent` payload or raises ConvosError."""
        raise InvalidInput("Not connected.")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Connection:
        cid = str(data.get("connection_id") or "")
        given_info = data.get("info")
        info: dict[str, Any] = given_info if isinstance(given_info, dict) else {}
        info.setdefault("authenticated", False)
        info.setdefault("capabilities", {})
        commands = data.get("on_connect_commands")
        accounts = data.get("service_accounts")
        conn = cls(
            connection_id=cid,
            url=str(data.get("url") or ""),
            name=str(data.get("name") or ""),
            wanted_state="disconnected" if data.get("wanted_state") == "disconnected" else "connected",
            on_connect_commands=[str(c) for c in commands] if isinstance(commands, list) else [],
            service_accounts=[str(a) for a in accounts] if isinstance(accounts, list) else ["chanserv", "nickserv"],
            info=info,
            extra={k: v for k, v in data.items() if k not in CONNECTION_KEYS},
        )
        if not conn.name:
            conn.name = pretty_connection_name(conn.url) or cid
        conn.server.name = conn.name
        convs = data.get("conversations")
        if not isinstance(convs, list):
            dialogs = data.get("dialogs")  # the older name of the list
            convs = dialogs if isinstance(dialogs, list) else []
        for item in convs:
            if isinstance(item, dict):
                conv = Conversation.from_dict(item, cid)
                if conv is not None:
                    conn.conversations[conv.conversation_id] = conv
        return conn

    def to_dict(self) -> dict[str, Any]:
        """The connection.json form: password in the URL, no `state`."""
        data = dict(self.extra)
        data.update(
            connection_id=self.connection_id,
            conversations=[c.to_dict() for c in self.sorted_conversations()],
            info=self.info,
            name=self.name,
            on_connect_commands=list(self.on_connect_commands),
            service_accounts=list(self.service_accounts),
            url=self.url,
            wanted_state=self.wanted_state,
        )
        return data

    def api_dict(self) -> dict[str, Any]:
        return {
            "connection_id": self.connection_id,
            "info": self.info,
            "name": self.name,
            "on_connect_commands": list(self.on_connect_commands),
            "service_accounts": list(self.service_accounts),
            "state": self.state,
            # The connection's own tab (server messages): not in `conversations`.
            "unread": self.server.unread,
            "url": public_url(self.url),
            "wanted_state": self.wanted_state,
        }

    def sorted_conversations(self) -> list[Conversation]:
        return [self.conversations[k] for k in sorted(self.conversations)]

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        if conversation_id == "":
            return self.server
        return self.conversations.get(conversation_id.lower())

    def conversation_id_in_path(self, conversation_id: str) -> str:
        """The id a URL path means: as decoded, or decoded once more when only that one exists.

        Clients written for Convos 8.07 encode the id twice (`%23with%252Fslash` for `#with/slash`).
        """
        if self.get_conversation(conversation_id) is None and "%" in conversation_id:
            once_more = unquote(conversation_id)
            if self.get_conversation(once_more) is not None:
                return once_more
        return conversation_id

    def all_conversations(self) -> list[Conversation]:
        return [self.server, *self.sorted_conversations()]


def public_url(url: str) -> str:
    """The URL as the API shows it: without the password when the URL has `forced`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "forced" not in query or parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    host = netloc[-1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host))


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    keys = {k for k, _ in query}
    query = [(k, params.get(k, v)) for k, v in query] + [(k, v) for k, v in params.items() if k not in keys]
    return urlunsplit(parts._replace(query=urlencode(query)))


_ZNC = re.compile(r"^[a-z0-9_+-]+@[a-z0-9_+-]+/([a-z0-9_+-]+)$", re.IGNORECASE)


def pretty_connection_name(url: str) -> str:
    """The short name of a connection's host (spec §2.2): irc.libera.chat -> libera."""
    try:
        parts = urlsplit(url)
        username = parts.username
        host = parts.hostname or ""
    except ValueError:
        return ""
    if username:
        m = _ZNC.match(unquote(username))
        if m:
            return m.group(1)
    if not host:
        return ""
    if re.search(r"\befnet\b", host):
        return "efnet"
    if host == "127.0.0.1":
        return "localhost"
    if "irc.perl.org" in host:
        return "magnet"
    name = re.sub(r"^(irc|chat)\.", "", host)
    name = re.sub(r":\d+$", "", name)
    name = re.sub(r"\.\w{2,3}$", "", name)
    name = re.sub(r"\.chat$", "", name)
    return re.sub(r"[\W_]+", "-", name)


def connection_id_for(url: str) -> str:
    scheme = urlsplit(url).scheme or "irc"
    name = pretty_connection_name(url)
    return f"{scheme}-{name}" if name else ""
