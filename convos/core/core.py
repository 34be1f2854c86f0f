"""The Core: loads settings and users from the store and owns them while the daemon runs."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..config import Config
from ..errors import InvalidInput, NotFound, Unauthorized
from ..store.base import DiskUsage, Store
from . import invite
from .chat import ChatMixin
from .connection import Connection, Conversation
from .connections import ConnectionClass, ConnectionsMixin
from .connectqueue import ConnectQueue
from .events import USER_EVENT, EventBus
from .files import FilesMixin
from .highlight import Highlights
from .history import SCAN_QUEUE
from .passwords import hash_password_async, verify_password_async
from .profiles import Profile
from .saves import DeferredSaves
from .sessions import new_id as new_session_id
from .settings import Settings, random_secret
from .slots import UserSlots
from .user import User, normalize_email, normalize_keywords

log = logging.getLogger(__name__)


def utc_now_z() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Invite:
    email: str
    existing: bool
    exp: int
    token: str

    @property
    def expires(self) -> str:
        return datetime.fromtimestamp(self.exp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def query(self) -> dict[str, str]:
        return {"email": self.email, "exp": str(self.exp), "token": self.token}


def _no_protocols(scheme: str) -> type[Connection]:
    return Connection


class Core(ConnectionsMixin, ChatMixin, FilesMixin):
    def __init__(
        self, store: Store, config: Config, *, readonly: bool = False, connection_class: ConnectionClass = _no_protocols
    ) -> None:
        self.store = store
        self.config = config
        # Picks the Connection class for a URL scheme; the composition root passes the IRC one.
        self.connection_class = connection_class
        self.profiles: dict[str, Profile] = {}
        # connection.json of what changes by itself (counters, topics), in batches (core/saves.py).
        self.saves = DeferredSaves(config.save_interval, self._connection_data, self._write_connections)
        # A few connections register at once; the rest wait (core/connectqueue.py).
        self.connect_queue = ConnectQueue(config.max_connecting, config.connect_timeout, self._start_queued)
        self._tasks: set[asyncio.Task[object]] = set()
        self._state_changes: dict[int, asyncio.Task[None]] = {}
        # Read-only cores (the `recover` command) never write: the daemon owns the files.
        self.readonly = readonly
        self.settings = Settings()
        self.ready = False
        self.ready_event = asyncio.Event()
        self.events = EventBus()
        self.highlights = Highlights()
        # Log scans of one user: a few at once, a few more waiting, then 429 (core/history.py).
        self.scan_slots = UserSlots(config.scans_per_user, SCAN_QUEUE)
        self._users: dict[str, User] = {}
        self._users_lock = asyncio.Lock()

    # --- start-up ----------------------------------------------------------

    async def start(self) -> None:
        await self.load_settings()
        await self.load_users()

    async def load_settings(self) -> None:
        """Read settings.json, fill in missing secrets and save it back, before serving anything."""
        data = await self.store.load_settings()
        self.settings = Settings.from_dict(data or {})
        if self.config.default_connection and "default_connection" not in (data or {}):
            # Like the secrets: the environment only fills in what settings.json lacks.
            self.settings.default_connection = self.config.default_connection
        if self.readonly:
            if not self.settings.session_secrets or not self.settings.local_secret:
                raise RuntimeError(f"No secrets in {self.config.home}/settings.json yet: start the daemon once first.")
            return
        # Secrets from the environment only fill in what settings.json lacks.
        if not self.settings.session_secrets:
            legacy = await self.store.load_legacy_secrets()
            secrets = list(self.config.secrets) or legacy or [random_secret()]
            self.settings.session_secrets = secrets
        if not self.settings.local_secret:
            self.settings.local_secret = self.config.local_secret or random_secret()
        await self.save_settings()
        remove_legacy = getattr(self.store, "remove_legacy_secrets", None)
        if remove_legacy is not None:
            await remove_legacy()

    async def load_users(self) -> None:
        """Load every user; the API answers 503 until this is done."""
        # The collector would walk the objects of thousands of users again and again while they
        # are made, all of which live on: off meanwhile (a third off the load of 1,000 users).
        collecting = gc.isenabled()
        gc.disable()
        try:
            await self._load_users()
        finally:
            if collecting:
                gc.enable()
        humans = [u for u in self._users.values() if "bot" not in u.roles]
        if humans and not any(u.is_admin for u in self._users.values()):
            first = humans[0]
            first.roles.append("admin")
            log.warning("No admin found; giving admin to %s.", first.email)
            await self.save_user(first)
        self.ready = True
        self.ready_event.set()
        if not self.readonly:
            self.saves.start()
        log.info("Core ready with %d users.", len(self._users))

    async def _load_users(self) -> None:
        # The protocol's modules are imported while the store reads (the default connection's
        # scheme: its class is what most connections need).
        scheme = urlsplit(self.settings.default_connection).scheme or "irc"
        records, _ = await asyncio.gather(self.store.load_users(), asyncio.to_thread(self.connection_class, scheme))
        users = []
        for record in records:
            user = User.from_dict(record.data)
            if not user.email:
                continue
            order = user.registered or datetime.fromtimestamp(record.ctime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            users.append((order, user.email, user, record.connections))
        users.sort(key=lambda item: (item[0], item[1]))
        self._users = {user.email: user for _, _, user, _ in users}
        for _, _, user, connections in users:
            await self._load_connections(user, connections)
        await self.ensure_default_profile()

    async def stop(self) -> None:
        """Disconnect everything, write what is pending, and stop background work."""
        self.ready = False
        # State changes asked for first: a connect finishing now would open a socket nobody closes.
        changes = list(self._state_changes.values())
        for task in changes:
            task.cancel()
        await asyncio.gather(*changes, return_exceptions=True)
        await self.stop_connections()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except BaseException:
                pass
        if not self.readonly:
            await self.saves.stop()
            # What is pending and whatever else changed (topics, the server's nick...): one batch,
            # and only the files that differ are written.
            await self.saves.flush([conn for user in self.users for conn in user.connections.values()])
            await self.store.close()

    async def _load_connections(self, user: User, records: list[dict[str, Any]] | None = None) -> None:
        if records is None:
            records = await self.store.load_connections(user.email)
        for data in records:
            conn = self.make_connection(user, data)
            if not conn.connection_id:
                continue
            user.connections[conn.connection_id] = conn
            await self.profile_for(conn.url, user.email)
            legacy = [c for c in conn.conversations.values() if c.last_read]
            for conv in legacy:
                # Old files kept `last_read`; count what came after it once, without a cap.
                conv.unread = await self.store.count_messages(
                    user.email, conn.connection_id, conv.conversation_id, conv.last_read
                )
                conv.last_read = ""
            if legacy:
                await self.save_connection(user, conn)

    async def save_connection(self, user: User, conn: Connection) -> None:
        # A removed connection (maybe still saying goodbye) never writes over a new one of the same id.
        if user.removed or self.readonly or user.connections.get(conn.connection_id) is not conn:
            return
        self.saves.saved(conn)  # this snapshot has what a deferred save would have written
        await self.store.save_connection(user.email, conn.connection_id, conn.to_dict())

    def _connection_data(self, conn: Connection) -> dict[str, Any] | None:
        """What a deferred save writes: None for a connection that is not its user's any more."""
        user = self.get_user(conn.email)
        if user is None or user.removed or user.connections.get(conn.connection_id) is not conn:
            return None
        return conn.to_dict()

    async def _write_connections(self, items: list[tuple[Connection, dict[str, Any]]]) -> None:
        await self.store.save_connections([(conn.email, conn.connection_id, data) for conn, data in items])

    # --- the connect queue (core/connectqueue.py) ----------------------------

    def queue_connect(self, conn: Connection) -> None:
        """Connect when the connect queue has room (at start-up and to reconnect)."""
        if self.connect_queue.add(conn):
            self.emit_state(conn, "connection", state="queued", message="Waiting for other connections to connect first.")

    def connect_done(self, conn: Connection) -> None:
        """The connection's attempt to connect is over (registered, failed, or waiting for its host's turn)."""
        self.connect_queue.done(conn)

    def unqueue_connect(self, conn: Connection) -> None:
        """The connection no longer waits in the connect queue (connected or disconnected on request)."""
        self.connect_queue.forget(conn)

    def _start_queued(self, conn: Connection) -> None:
        self.track(conn.start(), name=f"start-{conn.email}-{conn.connection_id}")

    async def mark_read(self, user: User, conn: Connection, conv: Conversation) -> None:
        conv.mark_read()
        # Other tabs and devices of the user clear their badges too.
        self.emit_state(conn, "read", conversation_id=conv.conversation_id)
        await self.save_connection(user, conn)

    async def mark_notifications_read(self, user: User) -> None:
        for conn in user.sorted_connections():
            changed = False
            for conv in conn.all_conversations():
                changed |= conv.notifications != 0
                conv.notifications = 0
            if changed:
                await self.save_connection(user, conn)
        self.events.publish(user.email, {"event": "state", "type": "notifications_read"})

    # --- settings ----------------------------------------------------------

    async def save_settings(self) -> None:
        if self.readonly:
            return
        await self.store.save_settings(self.settings.to_dict())

    async def disk_usage(self) -> DiskUsage | None:
        return await self.store.disk_usage()

    # --- users -------------------------------------------------------------

    @property
    def users(self) -> list[User]:
        return list(self._users.values())

    def get_user(self, email: str) -> User | None:
        return self._users.get(normalize_email(email))

    def user(self, email: str) -> User:
        user = self.get_user(email)
        if user is None:
            raise NotFound("No such user.")
        return user

    def email_taken(self, email: str) -> bool:
        email = normalize_email(email)
        return email in self._users or self.store.is_broken_user(email)

    async def save_user(self, user: User) -> None:
        if user.removed or self.readonly:
            return
        await self.store.save_user(user.email, user.to_dict())

    async def create_user(
        self, email: str, password: str | None, remote_address: str = "", roles: list[str] | None = None
    ) -> User:
        """A new account; `password` None makes one without a local password (signed in by a
        trusted header or an identity provider: a password login never matches it)."""
        email = normalize_email(email)
        async with self._users_lock:
            if self.email_taken(email):
                raise Unauthorized("Email is taken.")
            taken = {u.uid for u in self._users.values()}
            uid = len(self._users) + 1
            while str(uid) in taken:
                uid += 1
            user = User(
                email=email,
                registered=utc_now_z(),
                remote_address=remote_address,
                uid=str(uid),
                # The first human account is the admin; a bot account never is.
                roles=list(roles) if roles is not None else
                [] if any("bot" not in u.roles for u in self._users.values()) else ["admin"],
            )
            user.password = await hash_password_async(password) if password is not None else ""
            user.sessions.renew()
            self._users[email] = user
            try:
                await self.save_user(user)
            except BaseException:
                self._users.pop(email, None)
                raise
        log.info("Created user %s (uid %s).", email, user.uid)
        # For consumers that follow every account (the bot waits for the first human one).
        self.events.publish(email, {"event": USER_EVENT, "type": "created", "email": email, "roles": list(user.roles)})
        return user

    async def remove_user(self, user: User) -> None:
        """Forget the user and delete their files now; their connections quit in the background."""
        if len(self._users) <= 1 and user.email in self._users:
            raise InvalidInput("You are the only user left.")
        conns = list(user.connections.values())
        for conn in conns:
            conn.wanted_state = "disconnected"
        self.events.close_user(user.email)
        self.highlights.forget(user.email)
        user.removed = True
        self._users.pop(user.email, None)
        await self.store.delete_user(user.email)
        log.info("Deleted user %s.", user.email)
        for conn in conns:
            self.change_state(conn, "disconnected")

    async def set_password(self, user: User, password: str) -> None:
        """A new password ends every session of the user (the caller saves the user)."""
        user.password = await hash_password_async(password)
        user.sessions.renew()

    async def check_password(self, user: User, password: str) -> bool:
        """Whether `password` is the user's (an account without a password costs the same)."""
        ok, _rehash = await verify_password_async(user.password, password)
        return ok

    def set_highlight_keywords(self, user: User, words: list[str]) -> None:
        user.highlight_keywords = normalize_keywords(words)

    async def authenticate(self, email: str, password: str) -> User | None:
        """Check a login; a legacy bcrypt hash is re-hashed with Argon2id on success."""
        user = self.get_user(email)
        # An unknown email is checked against a dummy hash: it costs what a wrong password costs.
        ok, rehash = await verify_password_async(user.password if user else "", password)
        if user is None:
            log.info("Login FAIL for %s: Invalid email", normalize_email(email))
            return None
        if not ok:
            log.info("Login FAIL for %s: Invalid password", user.email)
            return None
        if rehash:  # the same password in a new hash: the sessions go on
            user.password = await hash_password_async(password)
            await self.save_user(user)
        log.info("Login SUCCESS for %s", user.email)
        return user

    # --- sessions (core/sessions.py) ---------------------------------------

    async def start_session(self, user: User) -> tuple[str, str]:
        """(generation, session id) for a new session cookie of the user."""
        changed = user.sessions.prune(time.time())
        if not user.sessions.generation:  # first login since 8.07 (or this key was added)
            user.sessions.renew()
            changed = True
        if changed:
            await self.save_user(user)
        return user.sessions.generation, new_session_id()

    async def end_session(self, user: User, session_id: str) -> None:
        """Logout: this session id is refused until every copy of its cookie has expired."""
        now = time.time()
        user.sessions.revoke(session_id, int(now + self.config.session_max_age) + 1, now)
        await self.save_user(user)

    async def end_all_sessions(self, user: User) -> None:
        user.sessions.renew()
        await self.save_user(user)

    # --- invites -----------------------------------------------------------

    def invite(self, email: str, hours: float | None = None) -> Invite:
        if hours is None:
            hours = self.config.invite_link_valid_for
        exp = int(time.time() + hours * 3600)
        existing = self.get_user(email)
        material = existing.password if existing else self.settings.local_secret
        token = invite.make_token(self.settings.session_secrets[0], email, exp, material)
        return Invite(email=email, existing=existing is not None, exp=exp, token=token)

    def check_invite(self, email: str, exp: str, token: str) -> bool:
        """A token is good when it was made for this email and expiry, and has not expired."""
        if not exp.isdigit() or int(exp) < time.time():
            return False
        existing = self.get_user(email)
        material = existing.password if existing else self.settings.local_secret
        return invite.token_matches(self.settings.session_secrets, email, exp, material, token)
