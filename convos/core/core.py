"""The Core: the registries of settings and users, the life cycle, and the services it composes.

The services do the work: `chat` (chat lines, events, unread, saves), `connections`,
`profiles` (hosts and the addresses they may reach) and `files` (uploads and pastes). Each is
given what it needs when the Core builds it; protocol connections reach the core through the
`hub` (core/hub.py), consumers through the services and the event bus (`events`).
"""

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
from .chat import ChatService
from .connection import Connection
from .connections import ConnectionClass, ConnectionsService, ProfilesService
from .connectqueue import ConnectQueue
from .events import EventBus, UserCreated
from .files import FilesService
from .focus import Focus
from .history import SCAN_QUEUE
from .hub import Hub
from .passwords import hash_password_async, verify_password_async
from .sessions import new_id as new_session_id
from .settings import Settings, random_secret
from .slots import UserSlots
from .tasks import Tasks
from .user import User, normalize_email, normalize_keywords
from .users import Users

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


class Core:
    def __init__(
        self, store: Store, config: Config, *, readonly: bool = False, connection_class: ConnectionClass = _no_protocols
    ) -> None:
        self.store = store
        self.config = config
        # Read-only cores (the `recover` command) never write: the daemon owns the files.
        self.readonly = readonly
        # One object for the life of the core (the services hold it): loading fills it in.
        self.settings = Settings()
        self.ready = False
        self.ready_event = asyncio.Event()
        self.events = EventBus()
        # Where each browser tab looks (websocket `focus`), for Web Push.
        self.focus = Focus()
        # Log scans of one user: a few at once, a few more waiting, then 429 (core/history.py).
        self.scan_slots = UserSlots(config.scans_per_user, SCAN_QUEUE)
        self.registry = Users()
        self._users_lock = asyncio.Lock()
        self.tasks = Tasks()
        # The services, each given what it needs.
        self.chat = ChatService(store, self.events, self.registry, self.tasks, save_interval=config.save_interval,
                                readonly=readonly)
        self.files = FilesService(store, self.settings, config, self.registry)
        self.profiles = ProfilesService(store, self.settings, config, self.registry, self.save_settings)
        # A few connections register at once; the rest wait (core/connectqueue.py).
        self.connect_queue = ConnectQueue(config.max_connecting, config.connect_timeout, self._start_queued)
        self.hub = Hub(config, store, self.registry, self.tasks, self.chat, self.profiles, self.files,
                       self.connect_queue)
        self.connections = ConnectionsService(store, self.settings, config, self.registry, self.tasks, self.chat,
                                              self.profiles, connection_class, self.hub)

    # --- start-up ----------------------------------------------------------

    async def start(self) -> None:
        await self.load_settings()
        await self.load_users()

    async def load_settings(self) -> None:
        """Read settings.json, fill in missing secrets and save it back, before serving anything."""
        data = await self.store.load_settings()
        self.settings.replace_with(Settings.from_dict(data or {}))
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
        await self.store.remove_legacy_secrets()

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
        humans = [u for u in self.registry.all() if "bot" not in u.roles]
        if humans and not any(u.is_admin for u in self.registry.all()):
            first = humans[0]
            first.roles.append("admin")
            log.warning("No admin found; giving admin to %s.", first.email)
            await self.save_user(first)
        self.ready = True
        self.ready_event.set()
        self.chat.start_saves()
        log.info("Core ready with %d users.", len(self.registry))

    async def _load_users(self) -> None:
        # The protocol's modules are imported while the store reads (the default connection's
        # scheme: its class is what most connections need).
        scheme = urlsplit(self.settings.default_connection).scheme or "irc"
        records, _ = await asyncio.gather(self.store.load_users(),
                                          asyncio.to_thread(self.connections.connection_class, scheme))
        users: list[tuple[str, str, User, list[dict[str, Any]] | None]] = []
        for record in records:
            user = User.from_dict(record.data)
            if not user.email:
                continue
            order = user.registered or datetime.fromtimestamp(record.ctime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            users.append((order, user.email, user, record.connections))
        users.sort(key=lambda item: (item[0], item[1]))
        self.registry.replace(user for _, _, user, _ in users)
        for _, _, user, connections in users:
            await self.connections.load_connections(user, connections)
        await self.profiles.ensure_default_profile()

    async def stop(self) -> None:
        """Disconnect everything, write what is pending, and stop background work."""
        self.ready = False
        # State changes asked for first: a connect finishing now would open a socket nobody closes.
        await self.connections.cancel_state_changes()
        await self.connections.stop_connections()
        await self.tasks.cancel_all()
        await self.chat.stop_saves()
        if not self.readonly:
            await self.store.close()

    def _start_queued(self, conn: Connection) -> None:
        """The connect queue's turn for `conn`: connect in a task the core owns."""
        self.tasks.track(conn.start(), name=f"start-{conn.email}-{conn.connection_id}")

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
        return self.registry.all()

    def get_user(self, email: str) -> User | None:
        return self.registry.get(email)

    def user(self, email: str) -> User:
        user = self.get_user(email)
        if user is None:
            raise NotFound("No such user.")
        return user

    def email_taken(self, email: str) -> bool:
        email = normalize_email(email)
        return email in self.registry or self.store.is_broken_user(email)

    async def save_user(self, user: User) -> None:
        if user.removed or self.readonly:
            return
        await self.store.save_user(user.email, user.to_dict())

    async def create_user(
        self, email: str, password: str, remote_address: str = "", roles: list[str] | None = None
    ) -> User:
        email = normalize_email(email)
        async with self._users_lock:
            if self.email_taken(email):
                raise Unauthorized("Email is taken.")
            taken = {u.uid for u in self.registry.all()}
            uid = len(self.registry) + 1
            while str(uid) in taken:
                uid += 1
            user = User(
                email=email,
                registered=utc_now_z(),
                remote_address=remote_address,
                uid=str(uid),
                # The first human account is the admin; a bot account never is.
                roles=list(roles) if roles is not None else
                [] if any("bot" not in u.roles for u in self.registry.all()) else ["admin"],
            )
            user.password = await hash_password_async(password)
            user.sessions.renew()
            self.registry.add(user)
            try:
                await self.save_user(user)
            except BaseException:
                self.registry.pop(email)
                raise
        log.info("Created user %s (uid %s).", email, user.uid)
        # For consumers that follow every account (the bot waits for the first human one).
        self.events.publish(UserCreated(email=email, roles=tuple(user.roles)))
        return user

    async def remove_user(self, user: User) -> None:
        """Forget the user and delete their files now; their connections quit in the background."""
        if len(self.registry) <= 1 and user.email in self.registry:
            raise InvalidInput("You are the only user left.")
        conns = list(user.connections.values())
        for conn in conns:
            conn.wanted_state = "disconnected"
        self.events.close_user(user.email)
        self.chat.highlights.forget(user.email)
        user.removed = True
        self.registry.pop(user.email)
        await self.store.delete_user(user.email)
        log.info("Deleted user %s.", user.email)
        for conn in conns:
            self.connections.change_state(conn, "disconnected")

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
