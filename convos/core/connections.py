"""The connections service (creating, changing and removing connections) and the profiles service
(the profiles of hosts, and which addresses a user's connections may reach)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from ..config import Config
from ..errors import ConvosError, FailedDependency, InvalidInput, NotFound
from .addresses import AddressCheck, any_address, is_public_address, parse_address
from .connection import (
    Connection,
    Conversation,
    ProtocolNotSupported,
    connection_id_for,
    pretty_connection_name,
)
from .events import ConnectionAdded, ConnectionChanged, ConnectionRemoved
from .profiles import Profile, host_port, profile_url
from .settings import Settings
from .tasks import Tasks
from .user import User
from .users import Users

if TYPE_CHECKING:
    from ..store.base import SettingsStore
    from .chat import ChatService, ConversationStore
    from .hub import CoreHub

log = logging.getLogger(__name__)

ConnectionClass = Callable[[str], type[Connection]]

# The longest connection URL (the API document says the same of `url`), and the longest name a
# user may give a connection (IRC clients do, with soju.im/bouncer-networks: docs/irc-listener.md).
MAX_URL = 2048
MAX_NAME = 64
# Not in a name: they separate `email/network@client` and `email/network:password` (listen/auth.py).
_NAME_FORBIDDEN = frozenset("/@:,")


def check_name(user: User, name: str, conn: Connection | None = None) -> str:
    """A name the user gives a connection, trimmed; InvalidInput at /name when it is not one (empty,
    too long, a control or separator character, or the name or id of another of their connections)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"A connection name has 1 to {MAX_NAME} characters.", "/name")
    if any(ch in _NAME_FORBIDDEN or not ch.isprintable() for ch in name):
        raise InvalidInput("A connection name has no control characters and none of / @ : ,", "/name")
    taken = {v.lower() for c in user.connections.values() if c is not conn for v in (c.name, c.connection_id)}
    if name.lower() in taken:
        raise InvalidInput("Another connection has this name.", "/name")
    return name


def check_url_length(url: str) -> None:
    if len(url) > MAX_URL:
        raise InvalidInput(f"The URL is longer than {MAX_URL} characters.", "/url")


def channel_from_path(url: str) -> tuple[str, str]:
    """`irc://host/%23chan%20key` -> ("#chan", "key"); the first path segment names a conversation."""
    path = urlsplit(url).path.lstrip("/")
    if not path:
        return "", ""
    name, _, key = unquote(path).partition(" ")
    return name.strip(), key.strip()


def _host_and_port(url: str) -> tuple[str, int]:
    host, port = host_port(url)
    return host.lower().rstrip("."), port or 6667


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def url_changed(old: str, new: str) -> bool:
    """Whether a URL change needs a reconnect (spec §4.5)."""
    a, b = urlsplit(old), urlsplit(new)
    qa, qb = _query(old), _query(new)
    if (a.hostname, a.port, a.username, a.password) != (b.hostname, b.port, b.username, b.password):
        return True
    for key, default in (("realname", ""), ("sasl", ""), ("tls", "0"), ("tls_verify", "0")):
        if qa.get(key, default) != qb.get(key, default):
            return True
    return False


class ProfilesService:
    """The profiles of hosts (per-host limits and options), and which addresses a user's
    connections may reach."""

    def __init__(self, store: SettingsStore, settings: Settings, config: Config, users: Users,
                 save_settings: Callable[[], Awaitable[None]]) -> None:
        self.store = store
        self.settings = settings
        self.config = config
        self.users = users
        self.save_settings = save_settings
        self.by_id: dict[str, Profile] = {}
        self._profiles_loaded = False  # every profile file read (on the first listing)

    # --- profiles ------------------------------------------------------------

    async def profile_for(self, url: str, created_by: str = "") -> Profile:
        """The profile of a URL's host: cached, read from disk, or made from the defaults.

        One made from the defaults is `implicit`: only admins see it, while a connection uses it.
        """
        pid = connection_id_for(url)
        profile = self.by_id.get(pid)
        if profile is None:
            data = await self.store.load_profile(pid) if pid else None
            profile = self.by_id.get(pid)  # made by someone else while the file was read
            if profile is not None:
                return profile
            profile = Profile.default_for(profile_url(url), self.config)
            if data:
                profile.load(data)
            else:
                profile.implicit, profile.shared, profile.created_by = True, False, created_by
            self.by_id[pid] = profile
        elif profile.implicit and not profile.created_by and pid != connection_id_for(self.settings.default_connection):
            profile.created_by = created_by  # the default's was made for everyone, not for this user
        return profile

    async def ensure_default_profile(self) -> None:
        """The default connection always has a profile (in memory; written only when saved)."""
        url = self.settings.default_connection
        if not url:
            return
        pid = connection_id_for(url)
        known = pid in self.by_id
        profile = await self.profile_for(url)
        if not known and await self.store.load_profile(pid) is None:
            profile.url = url

    async def list_profiles(self, admin: bool) -> list[Profile]:
        """What GET /api/connection-profiles shows: for users the shared profiles and the default
        one; for admins every profile, except implicit ones that no connection uses any more."""
        if not self._profiles_loaded:
            # Every saved profile, also of hosts no connection uses (8.07 read them only when used).
            self._profiles_loaded = True
            for pid, data in await self.store.load_profiles():
                if pid not in self.by_id and pretty_connection_name(str(data.get("url") or "")):
                    profile = Profile.default_for(profile_url(str(data["url"])), self.config)
                    profile.id = pid
                    profile.load(data)
                    self.by_id[pid] = profile
        default = self.settings.default_connection
        default_pid = connection_id_for(default) if default else ""
        used = {connection_id_for(c.url) for c in self.users.connections()}
        for pid, profile in list(self.by_id.items()):
            if profile.implicit and pid not in used and pid != default_pid:
                del self.by_id[pid]  # nothing lost: an implicit profile holds only defaults
        return [p for _, p in sorted(self.by_id.items())
                if p.id and (admin or p.shared or p.id == default_pid)]

    def profile_json(self, profile: Profile, admin: bool) -> dict[str, Any]:
        s = self.settings
        return profile.api_dict(default_url=s.default_connection, forced=s.forced_connection, admin=admin)

    async def save_profile(self, data: dict[str, Any], admin_email: str = "") -> Profile:
        url = str(data.get("url") or "").strip()
        if urlsplit(url).scheme not in ("irc", "ircs"):
            raise InvalidInput("The URL must start with irc:// or ircs://.", "/url")
        if not pretty_connection_name(url):
            raise InvalidInput("URL need a valid host.", "/url")
        if data.get("is_default"):
            self.settings.default_connection = url
            self.settings.forced_connection = bool(data.get("is_forced"))
            await self.save_settings()
        fresh = connection_id_for(url) not in self.by_id
        profile = await self.profile_for(url)
        profile.url = profile_url(url)
        profile.update(data)
        if isinstance(data.get("shared"), bool):
            profile.shared = data["shared"]
        elif fresh and profile.implicit:
            profile.shared = True  # a profile an admin makes is for everyone, unless they say not
        profile.created_by = profile.created_by or admin_email
        profile.implicit = False
        await self.store.save_profile(profile.id, profile.to_dict())
        return profile

    async def remove_profile(self, profile_id: str) -> None:
        profile = self.by_id.get(profile_id)
        if profile is None or not host_port(profile.url)[0]:
            raise NotFound("Connection profile not found.")
        if host_port(profile.url)[0] == host_port(self.settings.default_connection)[0]:
            raise InvalidInput("You cannot delete the default connection.")
        if len(self.by_id) <= 1:
            raise InvalidInput("You must have at least one connection profile.")
        del self.by_id[profile_id]
        await self.store.delete_profile(profile_id)

    # --- which addresses a connection may reach -----------------------------------

    def may_reach_private(self, user: User | None, url: str) -> bool:
        """Whether a connection of `user` to `url` may reach loopback and private addresses.

        Yes when the admin allows it for everyone (CONVOS_IRC_ALLOW_PRIVATE), for admins and the
        bot (their connections are the admin's own choice), and for the host and port of the
        default connection, which the admin chose for everyone (forced or not).
        """
        if self.config.irc_allow_private:
            return True
        if user is not None and (user.is_admin or (bool(self.config.bot_email) and user.email == self.config.bot_email)):
            return True
        default = self.settings.default_connection
        return bool(default) and _host_and_port(url) == _host_and_port(default)

    def address_check(self, conn: Connection) -> AddressCheck:
        """What the protocol checks every address of the connection's host with, after DNS."""
        return any_address if self.may_reach_private(self.users.get(conn.email), conn.url) else is_public_address

    def check_literal_address(self, user: User, url: str) -> None:
        """A URL whose host is an address literal is refused at once (names are checked when connecting)."""
        host = host_port(url)[0]
        ip = parse_address(host)
        if ip is not None and not is_public_address(ip) and not self.may_reach_private(user, url):
            raise InvalidInput("Connecting to private addresses is not allowed.", "/url")


class ConnectionsService:
    """The users' connections: made by the connection factory (by URL scheme), reporting to the hub."""

    def __init__(self, store: ConversationStore, settings: Settings, config: Config, users: Users, tasks: Tasks,
                 chat: ChatService, profiles: ProfilesService, connection_class: ConnectionClass,
                 hub: CoreHub) -> None:
        self.store = store
        self.settings = settings
        self.config = config
        self.users = users
        self.tasks = tasks
        self.chat = chat
        self.profiles = profiles
        # Picks the Connection class for a URL scheme; the composition root passes the IRC one.
        self.connection_class = connection_class
        self.hub = hub
        # The latest state change asked for each connection (by id()): the next one waits for it.
        self._state_changes: dict[int, asyncio.Task[None]] = {}

    # --- connections ---------------------------------------------------------

    def make_connection(self, user: User, data: dict[str, Any]) -> Connection:
        cls = self.connection_class(urlsplit(str(data.get("url") or "")).scheme)
        conn = cls.from_dict(data)
        conn.email = user.email
        conn.hub = self.hub
        return conn

    async def load_connections(self, user: User, records: list[dict[str, Any]] | None = None) -> None:
        """The user's connections (at start-up): `records` when the store read them with the user."""
        if records is None:
            records = await self.store.load_connections(user.email)
        for data in records:
            conn = self.make_connection(user, data)
            if not conn.connection_id:
                continue
            user.connections[conn.connection_id] = conn
            await self.profiles.profile_for(conn.url, user.email)
            legacy = [c for c in conn.conversations.values() if c.last_read]
            for conv in legacy:
                # Old files kept `last_read`; count what came after it once, without a cap.
                conv.unread = await self.store.count_messages(
                    user.email, conn.connection_id, conv.conversation_id, conv.last_read
                )
                conv.last_read = ""
            if legacy:
                await self.chat.save_connection(user, conn)

    async def create_connection(
        self,
        user: User,
        url: str,
        *,
        conversation_id: str | None = None,
        on_connect_commands: list[str] | None = None,
        wanted_state: str | None = None,
        name: str | None = None,
        start: bool = True,
    ) -> Connection:
        url = url.strip()
        check_url_length(url)
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise InvalidInput("Invalid URL.", "/url") from None
        if conversation_id:
            parts = parts._replace(path="/" + quote(conversation_id, safe=""))
            url = urlunsplit(parts)
        if self.settings.forced_connection and host_port(url) != host_port(self.settings.default_connection):
            raise InvalidInput("Will only accept forced connection URL.", "/url")
        if not parts.hostname:
            raise InvalidInput('Missing "host" in URL', "/url")
        cid = connection_id_for(url)
        if not pretty_connection_name(url):
            raise InvalidInput("URL need a valid host.", "/url")
        self._check_room(user, cid)
        if name is not None:
            name = check_name(user, name)
        cls = self.connection_class(parts.scheme)
        if cls is Connection:
            raise InvalidInput(f"Convos::Core::Connection::{parts.scheme.capitalize()} is not supported.", "/url")
        self.profiles.check_literal_address(user, url)

        conn = self.make_connection(user, {
            "connection_id": cid,
            "name": name or pretty_connection_name(url),
            "url": url,
            "wanted_state": wanted_state or "connected",
            "on_connect_commands": [c.strip() for c in on_connect_commands or [] if c.strip()],
        })
        profile = await self.profiles.profile_for(url, user.email)
        conn.service_accounts = list(profile.service_accounts)
        name, key = channel_from_path(url)
        if name:
            conv = Conversation(cid, name.lower(), name, password=key)
            conn.conversations[conv.conversation_id] = conv
        self._check_room(user, cid)  # again: another request may have added one during the await
        user.connections[cid] = conn
        await self.chat.save_connection(user, conn)
        log.info("%s created connection %s", user.email, cid)
        self.chat.emit(conn, ConnectionAdded(email=user.email, connection_id=cid, connection=conn.api_dict()))
        if start and not self.config.skip_connect:
            self.tasks.track(conn.start(), name=f"start-{user.email}-{cid}")
        return conn

    def _check_room(self, user: User, cid: str) -> None:
        if cid in user.connections:
            raise InvalidInput("Connection already exists.", "/url")
        if len(user.connections) >= self.config.max_connections:
            raise InvalidInput(f"You have too many connections ({self.config.max_connections}).", "/url")

    async def initial_connection(self, user: User) -> None:
        """Every new user starts with a connection to the default server (spec §4.4); failures are logged."""
        url = self.settings.default_connection
        if not url:
            return
        try:
            await self.create_connection(user, url)
        except ConvosError as err:
            log.warning("No initial connection for %s: %s", user.email, err)

    async def update_connection(
        self,
        user: User,
        conn: Connection,
        *,
        url: str | None = None,
        wanted_state: str | None = None,
        on_connect_commands: list[str] | None = None,
        name: str | None = None,
    ) -> Connection:
        new_url = url.strip() if url and urlsplit(url.strip()).hostname else conn.url
        check_url_length(new_url)
        if name is not None:
            name = check_name(user, name, conn)
        if new_url != conn.url and not self.settings.forced_connection:
            self.profiles.check_literal_address(user, new_url)  # before anything changes
        if wanted_state:
            conn.wanted_state = wanted_state
        if on_connect_commands is not None:
            conn.on_connect_commands = [c.strip() for c in on_connect_commands if c.strip()]
        if name is not None:
            conn.name = conn.server.name = name
        action = wanted_state or ""
        if self.settings.forced_connection:
            wanted = _query(new_url)
            base = urlsplit(self.settings.default_connection)
            query = [(k, wanted[k]) for k in ("nick", "realname", "sasl", "tls", "tls_verify") if k in wanted]
            new_url = urlunsplit(base._replace(path="", query=urlencode(query)))
        elif conn.wanted_state == "connected" and url_changed(conn.url, new_url):
            action = "reconnect"
        nick = _query(new_url).get("nick", "")
        change_nick = wanted_state == "connected" and conn.state == "connected" and nick and nick != conn.info.get("nick")
        conn.url = new_url
        reset = getattr(conn, "reset_reconnect_delay", None)
        if reset is not None:
            reset()
        await self.chat.save_connection(user, conn)
        # Other tabs, devices and IRC clients learn of the change (the answer tells the one that asked).
        self.chat.emit(conn, ConnectionChanged(email=user.email, connection_id=conn.connection_id,
                                               connection=conn.api_dict()))
        if action in ("connected", "reconnect") and not conn.can_connect:
            # Known without the network: a scheme no protocol implements never connects.
            raise FailedDependency(ProtocolNotSupported(conn.url).errors[0].message, "/wanted_state")
        if action in ("connected", "disconnected", "reconnect") or change_nick:
            # The answer does not wait for the network: the websocket reports what happens.
            self.change_state(conn, action, nick if change_nick else "")
        return conn

    async def cancel_state_changes(self) -> None:
        """Stop the state changes asked for (at shutdown: a connect finishing now would open a
        socket nobody closes)."""
        changes = list(self._state_changes.values())
        for task in changes:
            task.cancel()
        await asyncio.gather(*changes, return_exceptions=True)

    def change_state(self, conn: Connection, action: str, nick: str = "") -> asyncio.Task[None]:
        """Connect, disconnect or reconnect in the background, in the order asked, owned by the core.

        A disconnect starts at once (it stops a connect in progress); everything else waits
        for the changes asked before it, so a connect never races the disconnect before it.
        """
        key = id(conn)
        previous = self._state_changes.get(key)
        task = self.tasks.track(self._change_state(conn, action, nick, previous),
                          name=f"state-{conn.email}-{conn.connection_id}-{action or 'nick'}")
        self._state_changes[key] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._state_changes.get(key) is done:
                del self._state_changes[key]

        task.add_done_callback(forget)
        return task

    async def state_settled(self, conn: Connection) -> None:
        """Wait until the state changes asked for the connection so far are done."""
        task = self._state_changes.get(id(conn))
        if task is not None:
            await asyncio.wait([task])

    async def _change_state(self, conn: Connection, action: str, nick: str,
                            previous: asyncio.Task[None] | None) -> None:
        if action != "disconnected" and previous is not None:
            await asyncio.wait([previous])
        try:
            if action in ("disconnected", "reconnect"):
                await conn.disconnect()
            if action in ("connected", "reconnect"):
                await conn.connect()
            if nick:
                await conn.send("", f"/nick {nick}")
        except ConvosError as err:
            # A failed connect already said why (a `connection` event and a server message);
            # "Connecting." and the like only mean that a change asked before got there first.
            log.info("%s %s of %s: %s", action or "nick", conn.connection_id, conn.email, err)
        except OSError as err:
            log.warning("%s %s of %s failed: %s", action or "nick", conn.connection_id, conn.email, err)
        if action == "disconnected" and previous is not None:
            # Done only after the changes before it, so the next change waits for all of them.
            await asyncio.wait([previous])

    async def remove_connection(self, user: User, conn: Connection) -> None:
        """Forget the connection and delete its files now; it says goodbye to the server in the background."""
        conn.wanted_state = "disconnected"
        user.connections.pop(conn.connection_id, None)
        await self.store.delete_connection(user.email, conn.connection_id)
        self.chat.events.publish(ConnectionRemoved(email=user.email, connection_id=conn.connection_id))
        log.info("%s removed connection %s", user.email, conn.connection_id)
        self.change_state(conn, "disconnected")

    async def start_connections(self) -> None:
        """Every connection that wants to be connected, through the connect queue: a few at once."""
        if self.config.skip_connect:
            return
        for user in self.users.all():
            for conn in user.sorted_connections():
                if conn.wanted_state == "connected" and conn.can_connect and conn.state == "disconnected":
                    self.hub.queue_connect(conn)

    async def stop_connections(self) -> None:
        """QUIT every connection at once, so shutdown takes one round trip, not one per connection."""
        conns = self.users.connections()
        results = await asyncio.gather(*(conn.stop() for conn in conns), return_exceptions=True)
        for conn, result in zip(conns, results, strict=True):
            if isinstance(result, Exception):
                log.error("Stopping %s of %s failed: %s", conn.connection_id, conn.email, result)
