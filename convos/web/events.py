"""The websocket /events (spec §5): a user's live events out; ping, load and send in."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp_session import get_session

from ..core import events as ev
from ..core.connection import Connection
from ..core.events import Event, Subscription
from ..core.user import User
from ..errors import ConvosError, Forbidden, InvalidInput
from .keys import CONFIG, CORE, EVENT_SOCKETS, EVENT_TEXTS
from .middlewares import error_response, origin_allowed
from .payloads import user_payload
from .session import current_user, session_ids

log = logging.getLogger(__name__)

# Events that may wait for one socket. A socket that falls further behind is closed with
# 1013 (try again later): the browser reconnects and reloads, memory stays bounded.
QUEUE_SIZE = 1000
# Seconds one frame may take to reach the peer's TCP buffer before the peer counts as dead.
SEND_TIMEOUT = 10.0
# Seconds for the closing handshake; after that the TCP connection is cut.
CLOSE_TIMEOUT = 2.0
# The largest frame a browser may send (aiohttp closes with 1009 above it).
MAX_FRAME_SIZE = 1 << 20
# `send` commands in flight per socket; each may wait up to 60 s for an IRC reply.
MAX_PENDING_SENDS = 100
# Seconds of one loop iteration that websocket writes of several sockets may take together;
# then they wait for the next iteration, so that everything else gets its turn (see _Turns).
FANOUT_BUDGET = 0.02

HANDSHAKE_ERROR = {"errors": [{"message": "Need to log in first."}], "event": "handshake"}


_last_second: list[Any] = [None, ""]


def rfc3339(ts: float) -> str:
    """Epoch seconds as RFC 3339 UTC with milliseconds: 2024-03-21T08:25:00.123Z."""
    secs, ms = divmod(round(ts * 1000), 1000)
    if _last_second[0] != secs:  # one strftime per second, not per event
        _last_second[:] = [secs, datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")]
    return f"{_last_second[1]}.{ms:03d}Z"


def _state(type_: str, event: ev.ConnectionEvent, **fields: Any) -> dict[str, Any]:
    return {"event": "state", "type": type_, **fields, "connection_id": event.connection_id, "ts": event.ts}


def _message(e: ev.Message) -> dict[str, Any]:
    frame = {"event": "message", "conversation_id": e.conversation_id, "name": e.name, "from": e.from_,
             "highlight": e.highlight, "message": e.message, "type": e.type, "ts": e.ts}
    if e.id is not None:
        frame["id"] = e.id
    frame["connection_id"] = e.connection_id
    return frame


def _conversation(e: ev.ConversationChanged) -> dict[str, Any]:
    frame = {"event": "state", "type": "frozen", "connection_id": e.connection_id,
             "conversation_id": e.conversation_id, "frozen": e.frozen, "info": e.info, "muted": e.muted, "name": e.name,
             "notifications": e.notifications, "topic": e.topic, "unread": e.unread,
             "first_unread_id": e.first_unread_id}
    if e.topic_by is not None:
        frame["topic_by"] = e.topic_by
    frame["ts"] = e.ts
    return frame


def _connection_state(e: ev.ConnectionState) -> dict[str, Any]:
    more = {} if e.reconnect_in is None else {"reconnect_in": e.reconnect_in}
    return _state("connection", e, state=e.state, message=e.message, **more)


def _parted(e: ev.Parted) -> dict[str, Any]:
    frame: dict[str, Any] = {"conversation_id": e.conversation_id}
    if e.kicker is not None:
        frame["kicker"] = e.kicker
    frame["nick"] = e.nick
    if e.message is not None:
        frame["message"] = e.message
    return _state("part", e, **frame)


# How each kind of event reads on the websocket (spec §5.3), `ts` still in epoch seconds.
_FRAMES: dict[type[Event], Callable[[Any], dict[str, Any]]] = {
    ev.Message: _message,
    ev.ConversationChanged: _conversation,
    ev.ConnectionState: _connection_state,
    ev.Parted: _parted,
    ev.ConnectionInfo: lambda e: _state("info", e, info=e.info),
    ev.Joined: lambda e: _state("join", e, conversation_id=e.conversation_id, nick=e.nick),
    ev.Quit: lambda e: _state("quit", e, nick=e.nick, message=e.message),
    ev.NickChanged: lambda e: _state("nick_change", e, old_nick=e.old_nick, new_nick=e.new_nick),
    ev.ModeChanged: lambda e: _state("mode", e, conversation_id=e.conversation_id, **{"from": e.from_},
                                     mode=e.mode, nick=e.nick),
    ev.Read: lambda e: _state("read", e, conversation_id=e.conversation_id),
    ev.ConnectionAdded: lambda e: _state("connection_added", e, connection=e.connection),
    ev.ConnectionChanged: lambda e: _state("connection_changed", e, connection=e.connection),
    ev.ConnectionRemoved: lambda e: _state("connection_removed", e),
    ev.NotificationsRead: lambda e: {"event": "state", "type": "notifications_read", "ts": e.ts},
    ev.UserCreated: lambda e: {"event": "user", "type": "created", "email": e.email, "roles": list(e.roles),
                               "ts": e.ts},
}


def browser_kinds() -> frozenset[type[Event]]:
    """The kinds a browser gets: those with a frame. The others (what the network says about
    people: away, account, host, realname, invites) are for native IRC clients only; the spec
    has no frame for them."""
    return frozenset(_FRAMES)


def event_dict(event: Event) -> dict[str, Any]:
    """The websocket frame of a core event, `ts` in epoch seconds (see event_frame)."""
    return _FRAMES[type(event)](event)


def event_frame(event: dict[str, Any]) -> dict[str, Any]:
    """A frame as the browser gets it: `ts` in RFC 3339; the frame itself is left as it is."""
    ts = event.get("ts")
    if isinstance(ts, str) and ts:
        return event
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        ts = time.time()
    return {**event, "ts": rfc3339(ts)}


def error_frame(event: str, message: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
    """Spec §5.2: only connection_id, message and id come back from the request, when truthy."""
    frame: dict[str, Any] = {"errors": [{"message": message}], "event": event}
    for key in ("connection_id", "message", "id"):
        if request and request.get(key):
            frame[key] = request[key]
    return frame


def _json_default(obj: Any) -> Any:
    for name in ("api_dict", "to_dict"):
        method = getattr(obj, name, None)
        if callable(method):
            return method()
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def dumps(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()


class EventTexts:
    """The JSON text of recent events by identity: an event published to one user's 200 open
    browsers is serialized once, not 200 times. Holds the events, so an id is never reused
    while it is here. One per application (the EVENT_TEXTS key)."""

    def __init__(self, size: int = 4 * QUEUE_SIZE) -> None:
        self.size = size
        self._items: dict[int, tuple[Event, str]] = {}

    def text(self, event: Event) -> str:
        hit = self._items.get(id(event))
        if hit is not None and hit[0] is event:
            return hit[1]
        text = dumps(event_frame(event_dict(event)))
        if len(self._items) >= self.size:
            del self._items[next(iter(self._items))]
        self._items[id(event)] = (event, text)
        return text


class _Turns:
    """The share of one loop iteration that event writes of all sockets have used.

    A burst of events for a user with 200 open browsers is 200 batches of frames, all ready at
    once: written in one go, they held the loop (and every other user's requests) for seconds.
    Instead, once several sockets have written for FANOUT_BUDGET in an iteration, each waits for
    the next one, and the loop polls for other I/O in between. A socket that writes alone is
    never held back: that is one browser's batch, as before, and a flood does not starve it."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start = 0.0
        self._first: object = None
        self._shared = False

    def spent(self, writer: object) -> bool:
        now = time.perf_counter()
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # the first write of this iteration: the clock starts
            self._loop, self._start, self._first, self._shared = loop, now, writer, False
            loop.call_soon(self._next)  # runs before the writers that wait for the next iteration
        elif writer is not self._first:
            self._shared = True
        return self._shared and now - self._start > FANOUT_BUDGET

    def _next(self) -> None:
        self._loop = self._first = None


_turns = _Turns()


def _flag(value: Any) -> bool:
    return value is True or value in (1, "1", "true")


class EventSocket:
    """One open /events websocket of a logged-in user, and every task it owns."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, user: User,
                 session: tuple[str, str] = ("", "")) -> None:
        self.request = request
        self.ws = ws
        self.user = user
        # The session it was opened with; session.close_sockets closes it when that one ends.
        self.session_generation, self.session_id = session
        self.core = request.app[CORE]
        self.inactive_timeout = request.app[CONFIG].inactive_timeout
        self.texts = request.app[EVENT_TEXTS]
        self.tasks: set[asyncio.Task[None]] = set()
        self.finished = asyncio.Event()
        self._sub: Subscription | None = None
        # Events taken from the subscription but not written yet; writes keep this order.
        self._held: deque[Event] = deque()
        self._write_lock = asyncio.Lock()
        self._pending_sends = 0
        self._stopping = asyncio.Event()
        self._close: tuple[int, str] = (WSCloseCode.OK, "")
        self._abort = False

    @property
    def sub(self) -> Subscription:
        assert self._sub is not None, "run() first"
        return self._sub

    def stop(self, code: int, reason: str, *, abort: bool = False) -> None:
        """Close the socket (the first reason wins); `abort` cuts a peer that takes no data."""
        if self._stopping.is_set():
            return
        self._close = (code, reason)
        self._abort = abort
        self._stopping.set()

    async def run(self) -> None:
        self._sub = self.core.events.subscribe(email=self.user.email, kinds=browser_kinds(), maxsize=QUEUE_SIZE)
        try:
            self._spawn(self._read_frames(), "read")
            self._spawn(self._forward_events(), "write")
            await self._stopping.wait()
        finally:
            try:
                self.core.focus.clear(self.user.email, self)
                self.sub.close()
                await self._cancel_tasks()
                await self._close_ws()
            finally:
                self.finished.set()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=f"events-{name}")
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Websocket task of %s failed.", self.user.email, exc_info=task.exception())
            self.stop(WSCloseCode.INTERNAL_ERROR, "Internal server error.")

    async def _cancel_tasks(self) -> None:
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _close_ws(self) -> None:
        code, reason = self._close
        transport = self.request.transport
        if self._abort and transport is not None:
            transport.abort()
        if self.ws.closed:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.ws.close(code=code, message=reason.encode())
        except (TimeoutError, ConnectionError):
            if transport is not None:
                transport.abort()

    # Browser -> server

    async def _read_frames(self) -> None:
        try:
            while True:
                try:
                    msg = await self.ws.receive(timeout=self.inactive_timeout or None)
                except TimeoutError:
                    log.info("Closing the websocket of %s: nothing received for %ss.",
                             self.user.email, self.inactive_timeout)
                    self.stop(WSCloseCode.GOING_AWAY, "Inactivity timeout.")
                    return
                if msg.type is WSMsgType.TEXT:
                    await self._handle(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await self._reply(error_frame("error", "Expected a JSON text frame."))
                else:  # close, closing, closed or a protocol error
                    return
        finally:
            self.stop(WSCloseCode.OK, "")

    async def _handle(self, text: str) -> None:
        if self.user.removed or not self.user.sessions.valid(self.session_generation, self.session_id):
            # Ended elsewhere (a password set by the bot config, ...) without closing this socket.
            self.stop(WSCloseCode.POLICY_VIOLATION, "Session ended.")
            return
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            await self._reply(error_frame("error", "Invalid JSON."))
            return
        if not isinstance(data, dict):
            await self._reply(error_frame("error", "Invalid input."))
            return
        if data.get("id") is None:
            data["id"] = time.monotonic()
        method = data.get("method") or "ping"
        if not isinstance(method, str):
            await self._reply(error_frame("error", "Invalid method.", data))
        elif method == "ping":
            await self._reply({"event": "pong", "id": data["id"], "ts": time.time()})
        elif method == "load":
            # Built once the events emitted before it are published and written, so none of them
            # is newer than it (an unread counter goes up before its message event goes out).
            await self.core.chat.events_settled()
            await self._reply(lambda: self._load(data))
        elif method == "send":
            await self._send(data)
        elif method == "focus":
            await self._reply(self._focus(data))
        else:
            await self._reply(error_frame(method, "Invalid method.", data))

    def _load(self, data: dict[str, Any]) -> dict[str, Any]:
        params = data.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return error_frame("load", "Invalid input.", data)
        user = user_payload(self.request, self.user, connections=_flag(params.get("connections")),
                            conversations=_flag(params.get("conversations")))
        return {"event": "load", "id": data["id"], "user": user}

    def _focus(self, data: dict[str, Any]) -> dict[str, Any]:
        """The tab is visible and focused on this conversation, or (no connection_id) on none."""
        cid, conversation_id = data.get("connection_id") or "", data.get("conversation_id") or ""
        if not (isinstance(cid, str) and isinstance(conversation_id, str)) or len(cid) + len(conversation_id) > 1024:
            return error_frame("focus", "Invalid input.", data)
        self.core.focus.set(self.user.email, self, cid, conversation_id)
        return {"event": "focus", "id": data["id"]}

    async def _send(self, data: dict[str, Any]) -> None:
        cid, message = data.get("connection_id"), data.get("message")
        conversation_id = data.get("conversation_id") or ""
        if not (cid and isinstance(cid, str) and message and isinstance(message, str)
                and isinstance(conversation_id, str)):
            await self._reply(error_frame("sent", "Invalid input.", data))
            return
        conn = self.user.get_connection(cid)
        if conn is None:
            await self._reply(error_frame("sent", "Connection not found.", data))
            return
        if self._pending_sends >= MAX_PENDING_SENDS:
            await self._reply(error_frame("sent", "Too many commands in progress.", data))
            return
        # IRC commands may wait a minute for their replies: answer pings meanwhile.
        self._pending_sends += 1
        self._spawn(self._run_send(conn, conversation_id, message, data), "send")

    async def _run_send(self, conn: Connection, conversation_id: str, message: str, data: dict[str, Any]) -> None:
        try:
            result = await conn.send(conversation_id, message)
        except ConvosError as err:
            reply = error_frame("sent", err.errors[0].message if err.errors else str(err), data)
        except Exception:
            log.exception("send %r to %s/%s failed", message[:80], conn.connection_id, conversation_id)
            reply = error_frame("sent", "Internal server error.", data)
        else:
            reply = sent_frame(result, data)
        finally:
            self._pending_sends -= 1
        await self._reply(reply)

    # Server -> browser

    async def _forward_events(self) -> None:
        while True:
            event = await self.sub.get()
            if event is None:
                self._subscription_ended()
                return
            self._held.append(event)
            async with self._write_lock:
                if not await self._flush():
                    return

    async def _reply(self, frame: dict[str, Any] | Callable[[], dict[str, Any]]) -> None:
        async with self._write_lock:
            # Events published before the reply was ready go first: a /kick's `part` event,
            # then its `sent` reply (spec §9 fact 86).
            if await self._flush():
                await self._write(frame() if callable(frame) else frame)

    async def _flush(self) -> bool:
        """Write the events received so far, in order. Call with the write lock held.

        The writes of all sockets share the loop's time (_Turns): when a writer waits for its
        next turn, events that came meanwhile join the ones it holds; more than twice
        QUEUE_SIZE of them (a full batch and a full queue, as before) close the socket."""
        while True:
            events, ended = self.sub.drain()
            self._held.extend(events)
            if ended:  # the bus closed the subscription
                self._subscription_ended()
                return False
            if len(self._held) > 2 * QUEUE_SIZE:
                log.info("Closing a websocket of %s: more than %d events waiting.", self.user.email, QUEUE_SIZE)
                self.stop(WSCloseCode.TRY_AGAIN_LATER, "Too many events waiting.")
                return False
            if not self._held:
                return True
            # One timer for the frames of one turn, not one per frame.
            try:
                async with asyncio.timeout(SEND_TIMEOUT):
                    if not await self._write_held():
                        return False
            except TimeoutError:
                log.info("Closing a websocket of %s: a frame took more than %ss.", self.user.email, SEND_TIMEOUT)
                self.stop(WSCloseCode.TRY_AGAIN_LATER, "Too slow.", abort=True)
                return False

    async def _write_held(self) -> bool:
        """Write held events until there are none or this loop iteration's share is spent."""
        while self._held:
            if _turns.spent(self):
                await asyncio.sleep(0)  # the next iteration: other sockets and requests go first
                return True
            event = self._held.popleft()
            try:
                text = self.texts.text(event)
            except TypeError:
                log.exception("Cannot send %s event to %s", type(event).__name__, self.user.email)
                continue
            if not await self._write(text, timeout=False):
                return False
        return True

    def _subscription_ended(self) -> None:
        if self.sub.dropped:
            log.info("Closing a websocket of %s: more than %d events waiting.", self.user.email, QUEUE_SIZE)
            self.stop(WSCloseCode.TRY_AGAIN_LATER, "Too many events waiting.")
        else:
            self.stop(WSCloseCode.GOING_AWAY, "Going away.")

    async def _write(self, frame: dict[str, Any] | str, timeout: bool = True) -> bool:
        if self.ws.closed:
            return False
        try:
            text = frame if isinstance(frame, str) else dumps(frame)
        except TypeError:
            kind = frame.get("event") if isinstance(frame, dict) else None
            log.exception("Cannot send %s event to %s", kind, self.user.email)
            return True
        try:
            if not timeout:
                await self.ws.send_str(text)
                return True
            async with asyncio.timeout(SEND_TIMEOUT):
                await self.ws.send_str(text)
        except TimeoutError:
            log.info("Closing a websocket of %s: a frame took more than %ss.", self.user.email, SEND_TIMEOUT)
            self.stop(WSCloseCode.TRY_AGAIN_LATER, "Too slow.", abort=True)
            return False
        except ConnectionError:
            self.stop(WSCloseCode.ABNORMAL_CLOSURE, "", abort=True)
            return False
        return True


def sent_frame(result: Any, request: dict[str, Any]) -> dict[str, Any]:
    """The `sent` reply: the result, event "sent", and each request key the result has no truthy value for."""
    if not isinstance(result, dict):
        result = _json_default(result) if result is not None else {}
    reply = dict(result)
    reply["event"] = "sent"
    for key, value in request.items():
        if not reply.get(key):
            reply[key] = value
    return reply


async def _refuse(ws: web.WebSocketResponse, request: web.Request) -> None:
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await ws.send_str(dumps(HANDSHAKE_ERROR))
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"Need to log in first.")
    except (TimeoutError, ConnectionError):
        if request.transport is not None:
            request.transport.abort()


async def events(request: web.Request) -> web.StreamResponse:
    """GET /events: the websocket of spec §5."""
    if not origin_allowed(request):
        log.info("Refused a websocket from %s with Origin %s (serving %s).",
                 request.remote, request.headers.get("Origin"), request.get("base_url"))
        return error_response(Forbidden("Invalid Origin.", "/Origin"))
    ws = web.WebSocketResponse(timeout=CLOSE_TIMEOUT, max_msg_size=MAX_FRAME_SIZE, autoping=True)
    if not ws.can_prepare(request).ok:
        return error_response(InvalidInput("Expected a websocket upgrade."))
    user = await current_user(request)
    await ws.prepare(request)
    if user is None:
        await _refuse(ws, request)
        return ws
    sock = EventSocket(request, ws, user, session_ids(await get_session(request)))
    sockets = request.app[EVENT_SOCKETS]
    sockets.add(sock)
    try:
        await sock.run()
    finally:
        sockets.discard(sock)
    return ws


async def _close_sockets(app: web.Application) -> None:
    """On shutdown: close every socket (1001) so the server need not wait for them."""
    open_sockets = app[EVENT_SOCKETS]
    sockets = list(open_sockets)
    for sock in sockets:
        sock.stop(WSCloseCode.GOING_AWAY, "Server shutdown.")
    if not sockets:
        return
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT + 1):
            await asyncio.gather(*(sock.finished.wait() for sock in sockets))
    except TimeoutError:
        log.warning("%d websockets did not close in time.", sum(not s.finished.is_set() for s in sockets))


def setup_events(app: web.Application) -> None:
    """Add GET /events and close its sockets on shutdown."""
    app[EVENT_SOCKETS] = set()
    app[EVENT_TEXTS] = EventTexts()
    app.router.add_get("/events", events, allow_head=False)
    app.on_shutdown.append(_close_sockets)
