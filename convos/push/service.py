"""Web Push: a consumer of the core like the bot. cli.py builds it, starts it with the application
and stops it before the core; the routes of web/routes/push.py reach it through the PUSH key.

It listens to the bus of each user who has a device, turns highlights, private messages and
invites into notifications (policy.py), coalesces bursts per conversation, and hands them to
a few delivery workers (deliver.py) through a bounded queue: IRC ingest never waits for a push
service.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..config import Config
from ..core.addresses import any_address, is_public_address
from ..core.events import ConversationChanged, Event, Message
from ..core.tasks import Tasks
from ..errors import ConvosError, InvalidInput, NotFound, NotReady
from ..store.base import StoreError
from ..store.push import PushFiles
from .deliver import DeliveryThread, Outcome, Sender
from .devices import Device, PushState, browser_name, check_endpoint, check_keys
from .limits import COALESCE_SECONDS, MAX_CONCURRENT, MAX_QUEUED, REQUEST_TIMEOUT, RETRY_BASE, SAVE_DELAY, TTL
from .policy import Notice, notice_for, payload
from .vapid import VapidKey, subject

if TYPE_CHECKING:
    from ..core.core import Core

log = logging.getLogger(__name__)

# Events the listener may have waiting (chat lines of every user); it only filters them, so it never
# falls this far behind unless the loop is stuck. If it does, it listens again (a few notifications
# may be lost, never the chat).
LISTEN_QUEUE = 20_000
READY_TIMEOUT = 10.0


class BrokenPushFile(ConvosError):
    status = 500


@dataclass(slots=True)
class _Job:
    email: str
    device: Device
    body: bytes
    urgency: str
    topic: str


@dataclass(slots=True)
class _Window:
    """A conversation's notifications since the last one pushed: the newest, and how many."""

    handle: asyncio.TimerHandle
    notice: Notice | None = None
    count: int = 0


class Push:
    def __init__(self, core: Core, store: PushFiles, config: Config, *, ssl_context: ssl.SSLContext | None = None,
                 retry_base: float = RETRY_BASE, coalesce_seconds: float = COALESCE_SECONDS) -> None:
        self.core = core
        self.store = store
        self.config = config
        self.allowed = any_address if config.push_allow_private else is_public_address
        self.coalesce_seconds = coalesce_seconds
        self.key: VapidKey | None = None
        self.sender: DeliveryThread | None = None
        # Tests set these before the application starts: the TLS context of deliveries (None: the
        # system's CAs) and the seconds before the first retry.
        self.ssl_context = ssl_context
        self.retry_base = retry_base
        self.request_timeout = REQUEST_TIMEOUT
        self._states: dict[str, PushState] = {}
        # The account each state was loaded for: a new account of the same email never inherits it.
        self._owners: dict[str, object] = {}
        self._windows: dict[tuple[str, str], _Window] = {}
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(MAX_QUEUED)
        self._tasks = Tasks()
        self._listener: asyncio.Task[None] | None = None
        self._saves: dict[str, asyncio.TimerHandle] = {}
        self._load_lock = asyncio.Lock()
        self._key_lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self._error = ""
        self._started = False
        # Counters, for the log and the tests: notifications sent, failed, dropped (queue full).
        self.sent = 0
        self.failed = 0
        self.dropped = 0

    # --- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._spawn(self._run(), "push")

    async def stop(self) -> None:
        for window in self._windows.values():
            window.handle.cancel()
        self._windows.clear()
        await self._tasks.cancel_all()  # the listener too
        for email in list(self._saves):
            self._saves.pop(email).cancel()
            await self._save(email)
        if self.sender is not None:
            await self.sender.close()

    async def _run(self) -> None:
        # After the users are loaded: that walk also removes the temp files of earlier crashes,
        # and must not meet the one of a first vapid.pem being written.
        await self.core.ready_event.wait()
        try:
            key = await VapidKey.load(self.store)
        except (StoreError, ValueError, OSError) as err:
            self._error = f"Web Push is off: the VAPID key cannot be read ({err})."
            log.error("%s", self._error)
            self._ready.set()
            return
        if key is not None:
            self._use_key(key)
        for n in range(MAX_CONCURRENT):
            self._spawn(self._worker(), f"push-worker-{n}")
        for user in self.core.users:
            try:
                state = await self._state(user.email)
            except BrokenPushFile as err:
                log.error("%s", err)
                continue
            if state.devices:
                self._listen()
        self._ready.set()

    def _use_key(self, key: VapidKey) -> None:
        self.key = key
        sender = Sender(key, lambda: subject(self.core.settings.contact), allowed=self.allowed,
                        ssl_context=self.ssl_context, retry_base=self.retry_base,
                        request_timeout=self.request_timeout)
        self.sender = DeliveryThread(sender).start()

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        return self._tasks.track(coro, name=name)

    async def _started_ok(self) -> None:
        try:
            await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT)
        except TimeoutError:
            raise NotReady("Web Push is starting; try again.") from None
        if self._error:
            raise NotReady(self._error)

    async def _ready_key(self) -> VapidKey:
        """The VAPID key, made (and saved) when the first browser asks for it: a home whose users
        never use push gets no file."""
        await self._started_ok()
        async with self._key_lock:
            if self.key is None:
                self._use_key(await VapidKey.make(self.store))
        assert self.key is not None
        return self.key

    # --- state -------------------------------------------------------------------------------

    def _current(self, email: str) -> PushState | None:
        """The loaded state of the user's account as it is now, if any."""
        state = self._states.get(email)
        if state is not None and self._owners.get(email) is not self.core.get_user(email):
            self._states.pop(email, None)  # the account was deleted (and maybe made again)
            return None
        return state

    async def _state(self, email: str) -> PushState:
        state = self._current(email)
        if state is not None:
            return state
        async with self._load_lock:
            state = self._current(email)
            if state is None:
                owner = self.core.get_user(email)
                try:
                    data = await self.store.load_push(email)
                except StoreError as err:
                    raise BrokenPushFile(f"Push settings cannot be read: {err}") from None
                state = self._states[email] = PushState.from_dict(data)
                self._owners[email] = owner
        return state

    async def _save(self, email: str) -> None:
        state = self._current(email)
        if state is not None and self.core.get_user(email) is not None:
            try:
                await self.store.save_push(email, state.to_dict())
            except (StoreError, OSError) as err:
                log.error("Could not save the push settings of %s: %s", email, err)

    def _save_soon(self, email: str) -> None:
        if email in self._saves:
            return

        def fire() -> None:
            self._saves.pop(email, None)
            self._spawn(self._save(email), "push-save")

        self._saves[email] = asyncio.get_running_loop().call_later(SAVE_DELAY, fire)

    # --- events ------------------------------------------------------------------------------

    def _listen(self) -> None:
        """Follow the chat lines and conversation changes of every user, from the first device on."""
        if self._listener is None or self._listener.done():
            self._listener = self._spawn(self._follow(), "push-listen")

    async def _follow(self) -> None:
        while True:
            sub = self.core.events.subscribe(kinds={Message, ConversationChanged}, maxsize=LISTEN_QUEUE)
            try:
                while (event := await sub.get()) is not None:
                    self.on_event(event)
            finally:
                sub.close()
            log.warning("Push fell behind on the events; listening again.")

    def on_event(self, event: Event) -> None:
        """An event of the bus: a notification to push now, coalesce, or nothing."""
        email = event.email
        state = self._current(email)
        if state is None or not state.enabled or not state.devices or not isinstance(event, Message | ConversationChanged):
            return
        user = self.core.get_user(email)
        conn = user.connections.get(event.connection_id) if user is not None else None
        if conn is None:
            return
        notice = notice_for(event, state, str(conn.info.get("nick") or ""))
        if notice is None or self.core.focus.watching(email, notice.connection_id, notice.conversation_id):
            return
        key = (email, notice.key)
        window = self._windows.get(key)
        if window is None:
            self._push(email, state, notice, 1)
            self._windows[key] = self._window(key)
        else:
            window.notice = notice
            window.count += 1

    def _window(self, key: tuple[str, str]) -> _Window:
        return _Window(asyncio.get_running_loop().call_later(self.coalesce_seconds, self._window_ends, key))

    def _window_ends(self, key: tuple[str, str]) -> None:
        window = self._windows.pop(key, None)
        if window is None or window.notice is None:
            return
        email, notice = key[0], window.notice
        state = self._current(email)
        if state is None or not state.enabled or self.core.focus.watching(email, notice.connection_id,
                                                                          notice.conversation_id):
            return
        self._push(email, state, notice, window.count)
        self._windows[key] = self._window(key)

    def _push(self, email: str, state: PushState, notice: Notice, count: int) -> None:
        body = payload(notice, count, state.content)
        for device in state.devices:
            try:
                self._queue.put_nowait(_Job(email, device, body, notice.urgency, notice.key))
            except asyncio.QueueFull:
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.warning("Push deliveries are %d behind; dropped %d so far.", MAX_QUEUED, self.dropped)

    async def _worker(self) -> None:
        while True:
            job = await self._queue.get()
            if self.sender is None:  # devices but no key (vapid.pem was lost): they must subscribe again
                self.failed += 1
                continue
            try:
                outcome = await self.sender.send(job.device, job.body, ttl=TTL, urgency=job.urgency,
                                                 topic_key=job.topic)
            except Exception:
                log.exception("Push delivery to a device of %s failed", job.email)
                continue
            self._settle(job.email, job.device, outcome)

    def _settle(self, email: str, device: Device, outcome: Outcome) -> None:
        state = self._current(email)
        if outcome.ok:
            self.sent += 1
            device.last_used = time.time()
            if state is not None and device in state.devices:
                self._save_soon(email)
            return
        self.failed += 1
        if outcome.gone and state is not None and device in state.devices:
            log.info("Push: the service says %s's device %s is gone (%d); removed.", email, device.id, outcome.status)
            state.devices.remove(device)
            self._spawn(self._save(email), "push-save")
        else:
            log.info("Push to a device of %s failed: %s %s", email, outcome.status or "", outcome.message)

    # --- what the API does (web/routes/push.py) ----------------------------------------------

    async def public_key(self) -> str:
        return (await self._ready_key()).public_key

    async def devices(self, email: str) -> list[dict[str, Any]]:
        await self._started_ok()
        return [d.api_dict() for d in (await self._state(email)).devices]

    async def subscribe(self, email: str, subscription: dict[str, Any], name: str, user_agent: str
                        ) -> dict[str, Any]:
        await self._ready_key()
        endpoint = str(subscription["endpoint"])
        check_endpoint(endpoint, self.config.push_allow_private)
        keys = subscription["keys"]
        check_keys(keys["p256dh"], keys["auth"])
        state = await self._state(email)
        device = state.add(endpoint, keys["p256dh"], keys["auth"], name, browser_name(user_agent))
        await self._save(email)
        self._listen()
        return device.api_dict()

    async def unsubscribe(self, email: str, device_id: str) -> None:
        await self._started_ok()
        state = await self._state(email)
        device = state.device(device_id)
        if device is None:
            raise NotFound("Device not found.", "/id")
        state.devices.remove(device)
        await self._save(email)

    async def test(self, email: str) -> dict[str, Any]:
        """A test notification to each of the user's devices, now; what each service answered."""
        await self._ready_key()
        assert self.sender is not None
        state = await self._state(email)
        devices = list(state.devices)
        if not devices:
            raise InvalidInput("No device gets notifications yet.", "/")
        body = orjson.dumps({"title": "Convos", "body": "Notifications work on this device.", "count": 1,
                             "kind": "test", "tag": "test", "path": "/settings/account"})
        outcomes = await asyncio.gather(*(self.sender.send(d, body, ttl=60) for d in devices))
        results = []
        for device, outcome in zip(devices, outcomes, strict=True):
            self._settle(email, device, outcome)
            results.append({"id": device.id, "name": device.name, "ok": outcome.ok, "status": outcome.status,
                            "removed": outcome.gone, "message": "" if outcome.ok else outcome.message})
        return {"devices": results}

    async def settings(self, email: str) -> dict[str, Any]:
        await self._started_ok()
        return (await self._state(email)).settings_dict()

    async def update_settings(self, email: str, changes: dict[str, Any]) -> dict[str, Any]:
        await self._started_ok()
        state = await self._state(email)
        if "conversations" in changes:
            state.set_policies(changes["conversations"])
        for name in ("enabled", "content"):
            if name in changes:
                setattr(state, name, bool(changes[name]))
        await self._save(email)
        return state.settings_dict()
