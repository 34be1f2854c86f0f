"""The bot: a Convos account run by its bot.yaml that answers chat lines and webhooks.

A consumer of the core like the web layer: the composition root (cli.py) builds it, starts it
with the application and stops it before the core. It reads its files through the store's
BotFiles methods and learns what happens from the core's event bus: its own account's events,
and the creation of accounts (to wait for the first human one).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..core.connection import Connection, is_channel_name
from ..core.events import ConnectionInfo, ConnectionState, Event, Message, Subscription, UserCreated
from ..core.passwords import verify_password_async
from ..core.settings import random_secret
from ..core.tasks import Tasks
from ..core.user import User
from ..errors import ConvosError, Forbidden, NotFound
from ..store.base import BotFiles, StoreError
from . import files
from .action import Action, BotMessage, CoreAction
from .calc import CalcAction
from .config import ActionConfig, BotConfig, action_key
from .connections import ensure_connection, quietly
from .github import GithubAction
from .spool import SpoolAction
from .webhook import EVENT_HEADERS, Webhook, address_in, parse_networks

if TYPE_CHECKING:
    from ..core.core import Core

log = logging.getLogger(__name__)

ACTION_CLASSES: dict[str, type[Action]] = {
    cls.name.lower(): cls for cls in (CoreAction, CalcAction, GithubAction, SpoolAction)
}
DEFAULT_LOAD_INTERVAL = 10.0
# Chat line types the bot answers. Never a notice: answering notices is how bots loop forever.
ANSWERED_TYPES = ("private", "action")


class Bot:
    def __init__(self, core: Core, store: BotFiles, config: Config) -> None:
        self.core = core
        self.store = store
        self.config = config
        self.email = config.bot_email
        self.user: User | None = None
        self.settings = BotConfig()
        self.networks = parse_networks(config.webhook_networks)
        self.loads = 0  # configs applied
        self.checks = 0  # times the config file was looked at
        self._actions: dict[str, Action] = {}
        self._order: list[str] = []
        self._tasks = Tasks()
        self._started = False
        self._humans = asyncio.Event()
        self._accounts: Subscription | None = None  # `user` events, until there is a human account
        self._changed = asyncio.Condition()
        self._apply_lock = asyncio.Lock()
        self._signature: files.Signature | None = None
        self._password = ""
        self.urls: dict[str, str] = {}  # connection_id -> URL last applied from bot.yaml
        self._bot_mode: dict[str, str] = {}  # connection_id -> nick that got MODE +B

    @property
    def config_file(self) -> str:
        """Where bot.yaml is, for the log."""
        return self.store.bot_file_location(self.email)

    @property
    def load_interval(self) -> float:
        interval = self.config.bot_load_interval
        return interval if interval > 0 else DEFAULT_LOAD_INTERVAL

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Called when the application starts; the work happens in owned tasks, once the core is ready."""
        if self._started:
            return
        self._started = True
        # Subscribed now, before the users are loaded, so no account made later is missed.
        self._accounts = self.core.events.subscribe(kinds={UserCreated})
        self.spawn(self._run(self._accounts), name="bot")

    async def stop(self) -> None:
        for action in list(self._actions.values()):
            await action.stop()
        await self._tasks.cancel_all()
        if self._accounts is not None:
            self._accounts.close()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """A background task the bot owns: cancelled by stop(), failures logged."""
        return self._tasks.track(coro, name=name)

    def is_human(self, user: User) -> bool:
        return user.email != self.email and "bot" not in user.roles

    def _has_humans(self) -> bool:
        return any(self.is_human(u) for u in self.core.users)

    async def _watch_accounts(self, sub: Subscription) -> None:
        """Until there is a human account: each `user` event of the bus (of every user) says to look."""
        while not self._has_humans():
            if await sub.get() is None:  # fell behind (thousands of sign-ups at once): listen again
                sub = self._accounts = self.core.events.subscribe(kinds={UserCreated})
        sub.close()
        self._humans.set()

    async def _run(self, accounts: Subscription) -> None:
        await self.core.ready_event.wait()
        if self.config.bot_allow_standalone or self._has_humans():
            accounts.close()
        else:
            self.spawn(self._watch_accounts(accounts), name="bot-accounts")
            log.info("Bot %s waits for the first user to register.", self.email)
            await self._humans.wait()
        config = await self._load_if_changed() or BotConfig()
        user = await self._register(config)
        if user is None:
            return
        self.user = user
        # Subscribe before creating connections, so no event of theirs is missed.
        self.spawn(self._listen(self._subscribe(user.email)), name="bot-events")
        await self._apply(config)
        await self._checked()
        while True:
            await asyncio.sleep(self.load_interval)
            try:
                await self.check_config()
            except Exception:  # a bad config or a full disk must not end the reloads
                log.exception("Bot config %s could not be applied", self.config_file)

    async def _register(self, config: BotConfig) -> User | None:
        core = self.core
        user = core.get_user(self.email)
        if user is not None:
            changed = "bot" not in user.roles
            if changed:
                user.roles.append("bot")
            if config.password and not (await verify_password_async(user.password, config.password))[0]:
                await core.set_password(user, config.password)
                changed = True
            if changed:
                await core.save_user(user)
            self._password = config.password
            log.info("Bot account %s is ready.", self.email)
            return user
        password = config.password or random_secret()
        try:
            user = await core.create_user(self.email, password, roles=["bot"])
        except ConvosError as err:
            log.error("Couldn't create bot account %s: %s", self.email, err)
            return None
        self._password = config.password
        if config.password:
            log.info("Created bot account %s.", self.email)
        else:
            log.info('Created bot account %s with password "%s".', self.email, password)
        return user

    # --- config ------------------------------------------------------------------------------

    async def check_config(self) -> bool:
        """Reload bot.yaml when its mtime or size changed; returns whether a new config was applied."""
        config = await self._load_if_changed()
        if config is not None:
            await self._apply(config)
        await self._checked()
        return config is not None

    async def _checked(self) -> None:
        async with self._changed:
            self.checks += 1
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[Bot], bool], timeout: float = 10) -> None:
        """Wait until `predicate(bot)` holds; it is tested after every config check and load."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def _load_if_changed(self) -> BotConfig | None:
        signature = await self.store.bot_config_stamp(self.email)
        if signature is None or signature == self._signature:
            return None
        self._signature = signature
        name = self.config_file
        log.info("Reloading %s", name)
        try:
            raw = await self.store.load_bot_config(self.email, files.MAX_FILE_SIZE)
            data = await asyncio.to_thread(files.parse_yaml, raw, name)
        except (StoreError, files.BadFile) as err:
            log.error("Bot config not loaded, the old one stays: %s", err)
            return None
        config = BotConfig.from_data(data)
        for warning in config.warnings:
            log.warning("%s: %s", name, warning)
        return config

    async def _apply(self, config: BotConfig) -> None:
        async with self._apply_lock:
            self.settings = config
            user = self.user
            if user is not None and config.password and config.password != self._password:
                await self.core.set_password(user, config.password)
                await self.core.save_user(user)
                log.info("Bot account %s got the password from %s.", self.email, self.config_file)
            if config.password:
                self._password = config.password
            await self._apply_actions(config)
            for conn_config in config.connections:
                try:
                    await ensure_connection(self, conn_config)
                except (ConvosError, OSError) as err:
                    log.error("Bot connection %s: %s", conn_config.url, err)
            async with self._changed:
                self.loads += 1
                self._changed.notify_all()

    async def _apply_actions(self, config: BotConfig) -> None:
        wanted = config.actions if config.actions is not None else [ActionConfig("Core", "core")]
        order: list[str] = []
        for item in wanted:
            cls = ACTION_CLASSES.get(item.key)
            if cls is None:
                log.error('Unknown bot action "%s".', item.cls)
                continue
            if item.key in order:
                log.warning('Bot action "%s" is listed twice; the first one counts.', item.cls)
                continue
            action = self._actions.get(item.key)
            before = action.enabled if action is not None else None
            if action is None:
                action = self._actions[item.key] = cls(self)
            action.configure(item)
            if before != action.enabled:
                log.info("Bot action %s is %s.", cls.name, "enabled" if action.enabled else "disabled")
            order.append(item.key)
        for key in [k for k in self._actions if k not in order]:
            log.info("Bot action %s is removed.", self._actions[key].name)
            await self._actions.pop(key).stop()
        self._order = order
        for key in order:
            action = self._actions[key]
            if action.enabled:
                action.start()
            else:
                await action.stop()

    def enabled_actions(self) -> list[Action]:
        return [self._actions[k] for k in self._order if self._actions[k].enabled]

    def action(self, name: str) -> Action | None:
        """A configured action by class name or moniker: `Convos::Plugin::Bot::Action::Calc`, `Calc`, `calc`."""
        key = action_key(name)
        return self._actions.get(key) if key in self._order else None

    # --- chat ---------------------------------------------------------------------------------

    def _subscribe(self, email: str) -> Subscription:
        """Its own account's events that it acts on."""
        return self.core.events.subscribe(email=email, kinds={Message, ConnectionState, ConnectionInfo})

    async def _listen(self, sub: Subscription) -> None:
        while True:
            async for event in sub:
                try:
                    self._on_event(event)
                except Exception:
                    log.exception("Bot failed to handle %s", type(event).__name__)
            user = self.user
            if user is None or user.removed or self.core.get_user(self.email) is not user:
                log.warning("Bot account %s was removed; the bot is idle until Convos restarts.", self.email)
                return
            if not sub.dropped:
                return
            log.warning("Bot fell behind on its events; listening again.")
            sub = self._subscribe(self.email)

    def _on_event(self, event: Event) -> None:
        user = self.user
        if user is None or not isinstance(event, Message | ConnectionState | ConnectionInfo):
            return
        conn = user.get_connection(event.connection_id)
        if conn is None:
            return
        if isinstance(event, Message):
            self._on_message(conn, event)
        elif isinstance(event, ConnectionState):
            if event.state != "connected":
                self._bot_mode.pop(conn.connection_id, None)
        else:
            self._mark_as_bot(conn)

    def _mark_as_bot(self, conn: Connection) -> None:
        """Once registered on IRC, the bot sets user mode +B (bot) on its nick, as the original does."""
        nick = str(conn.info.get("nick") or "")
        if not nick or conn.state != "connected" or not conn.info.get("real_host"):
            return
        if self._bot_mode.get(conn.connection_id) == nick:
            return
        self._bot_mode[conn.connection_id] = nick
        self.spawn(quietly(conn.send("", f"/quote MODE {nick} +B"), "set mode +B"),
                   name=f"bot-mode-{conn.connection_id}")

    def _on_message(self, conn: Connection, event: Message) -> None:
        conversation_id, from_ = event.conversation_id, event.from_
        if not conversation_id or not from_ or event.type not in ANSWERED_TYPES:
            return
        my_nick = str(conn.info.get("nick") or "")
        if from_.lower() == my_nick.lower():
            return
        msg = BotMessage(
            connection_id=conn.connection_id, conversation_id=conversation_id, from_=from_,
            message=event.message, type=event.type,
            highlight=event.highlight, is_private=not is_channel_name(conversation_id),
            my_nick=my_nick,
        )
        reply = self.reply_for(msg)
        if reply:
            self.spawn(self._reply_later(conn, conversation_id, reply), name=f"bot-reply-{conn.connection_id}")

    def reply_for(self, msg: BotMessage) -> str | None:
        """The first reply an enabled action has for a chat line, in config order."""
        for action in self.enabled_actions():
            try:
                reply = action.reply(msg)
            except Exception:
                log.exception("Bot action %s failed on a message", action.name)
                continue
            if reply:
                return reply
        return None

    async def _reply_later(self, conn: Connection, conversation_id: str, reply: str) -> None:
        # A human-like pause; the task is owned, so shutdown cancels it.
        await asyncio.sleep(self.settings.reply_delay)
        user = self.user
        if user is None or user.get_connection(conn.connection_id) is not conn:
            return
        await quietly(conn.send(conversation_id, reply), f"reply in {conversation_id}")

    # --- webhooks ----------------------------------------------------------------------------

    async def handle_webhook(self, provider: str, headers: Mapping[str, str], body: bytes,
                             payload: dict[str, Any], remote_address: str) -> dict[str, Any]:
        """Check who sent it, then let the enabled actions handle it (spec §4.12)."""
        provider = provider.lower()
        if provider not in EVENT_HEADERS:
            raise NotFound(f'Unknown webhook provider "{provider}".', "/provider_name")
        hook = Webhook.make(provider, headers, body, payload, remote_address)
        if not address_in(remote_address, self.networks):
            secrets = [s for action in self.enabled_actions() for s in action.webhook_secrets(hook)]
            if not hook.signed_with(secrets):
                signed = "x-hub-signature-256" in hook.headers or "x-gitea-signature" in hook.headers
                log.warning("Webhook %s from %s refused: %s.", provider, remote_address,
                            "invalid signature" if signed else "not in CONVOS_WEBHOOK_NETWORKS and not signed")
                raise Forbidden(f"Invalid source IP {remote_address}.")
        for action in self.enabled_actions():
            result = await action.handle_webhook(hook)
            if result:
                return result
        return {"errors": [{"message": "Unable to deliver the message.", "path": "/"}]}
