"""The websocket /events (spec §5, §9 facts 84–87): origin, login, ping/load/send, events, backpressure."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import WSMsgType
from conftest import core_of, register

from convos.core.connection import Connection, Conversation
from convos.core.events import Event, Parted
from convos.errors import InvalidInput
from convos.web import events
from convos.web.keys import EVENT_SOCKETS

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe(Event):
    """A test's own kind of event: its websocket frame is `frame` and the `ts`."""

    frame: dict[str, Any]


@pytest.fixture(autouse=True)
def probe_frames(monkeypatch):
    """The web layer writes Probe events as they say (every real kind has its frame in events.py)."""
    monkeypatch.setitem(events._FRAMES, Probe, lambda e: {**e.frame, "ts": e.ts})


async def recv(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    assert msg.type is WSMsgType.TEXT, msg
    data = orjson.loads(msg.data)
    assert isinstance(data, dict)
    return data


async def recv_close(ws: Any, timeout: float = 5.0) -> int | None:
    """Read until the server closes; the close code (None when the connection was cut)."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.CLOSE:
                return int(msg.data)
            if msg.type in (WSMsgType.CLOSED, WSMsgType.ERROR):
                return None


async def connect(on: Any, path: str = "/events", **kwargs: Any) -> Any:
    """Open /events and wait for a pong, so the socket is subscribed before anything is published."""
    ws = await on.ws_connect(path, **kwargs)
    await ws.send_json({"method": "ping", "id": "hello"})
    assert await recv(ws) == {"event": "pong", "id": "hello", "ts": pytest.approx(time.time(), abs=60)}
    return ws


async def login_lois(client: Any) -> None:
    res = await client.post("/api/user/login", json={"email": "lois@example.com", "password": "loissecret1"})
    assert res.status == 200, await res.text()


class ScriptedConnection(Connection):
    """A stand-in protocol that answers `send` the way a connected IRC connection does."""

    def __init__(self, core: Any, email: str) -> None:
        super().__init__(connection_id="irc-scripted", url="irc://127.0.0.1:1/%23convos", email=email)
        self.core = core
        self.gate = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def send(self, conversation_id: str, message: str) -> dict[str, Any]:
        if message == "/slow":
            try:
                await self.gate.wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            return {"waited": True}
        if message.startswith("/kick "):
            self.core.events.publish(Parted(
                email=self.email, connection_id=self.connection_id, conversation_id=conversation_id,
                nick=message.split()[1], kicker="superman", message="So long..."))
            return {}
        if message == "/fail":
            raise InvalidInput("Cannot send without target.")
        return {"conversation_id": "#other", "message": "", "result": 1, "server": self.server}


def add_scripted(client: Any, email: str) -> ScriptedConnection:
    core = core_of(client)
    conn = ScriptedConnection(core, email)
    core.get_user(email).connections[conn.connection_id] = conn
    return conn


# Origin and login


async def test_foreign_origin_is_refused_before_the_upgrade(client):
    await register(client, "superman@example.com")
    base = str(client.make_url("")).rstrip("/")
    for origin in ("http://evil.example.com", "null", base.replace("http:", "https:"),
                   base.rsplit(":", 1)[0] + ":1", base + "/path"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await client.ws_connect("/events", headers={"Origin": origin})
        assert err.value.status == 403, origin
    res = await client.get("/events", headers={"Origin": "http://evil.example.com", "Connection": "Upgrade",
                                               "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                                               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert res.status == 403
    assert (await res.json())["errors"][0]["message"] == "Invalid Origin."
    # The same origin, spelled with its default port or in capitals, and no Origin at all.
    for headers in ({"Origin": base}, {"Origin": base.upper()}, {}):
        ws = await connect(client, headers=headers)
        await ws.close()
    ws = await connect(client, headers={"Origin": "http://chat.example.com", "Host": "chat.example.com:80"})
    await ws.close()


async def test_origin_of_the_public_base_url(make_client):
    # The session cookie is Secure with an https base, so these sockets are anonymous: an
    # accepted Origin gets the upgrade and the handshake error, a refused one a 403.
    client = await make_client({"CONVOS_REQUEST_BASE": "https://convos.example.com"})
    host = str(client.make_url("")).rstrip("/")
    for origin in ("https://convos.example.com", "https://convos.example.com:443", host):
        ws = await client.ws_connect("/events", headers={"Origin": origin})
        assert (await recv(ws))["event"] == "handshake"
        await ws.close()
    for origin in ("http://convos.example.com", "https://convos.example.com:8443", "https://example.com"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await client.ws_connect("/events", headers={"Origin": origin})
        assert err.value.status == 403, origin


async def test_behind_a_proxy_plain_http_is_not_the_same_origin(make_client):
    client = await make_client({"CONVOS_REVERSE_PROXY": "1"})
    await register(client, "superman@example.com")
    hostport = client.make_url("").authority
    proxied = {"X-Request-Base": "https://chat.example.com/convos", "X-Forwarded-Proto": "https"}
    ws = await connect(client, headers={**proxied, "Origin": "https://chat.example.com"})
    await ws.close()
    ws = await connect(client, headers={**proxied, "Origin": f"https://{hostport}"})
    await ws.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await client.ws_connect("/events", headers={**proxied, "Origin": f"http://{hostport}"})
    assert err.value.status == 403


async def test_login_required(client):
    ws = await client.ws_connect("/events")
    assert await recv(ws) == {"errors": [{"message": "Need to log in first."}], "event": "handshake"}
    assert await recv_close(ws) == 1008
    assert ws.close_code == 1008


async def test_plain_get_is_not_an_upgrade(client):
    res = await client.get("/events")
    assert res.status == 400
    assert "errors" in await res.json()


# Client -> server


async def test_ping_with_and_without_id(client):
    await register(client, "superman@example.com")
    ws = await connect(client)
    await ws.send_json({"method": "ping", "id": 42})
    pong = await recv(ws)
    assert pong["event"] == "pong" and pong["id"] == 42
    assert isinstance(pong["ts"], float) and abs(pong["ts"] - time.time()) < 60
    # The browser's keep-alive `{}` is a ping; the server makes up a numeric id.
    for _ in range(2):
        await ws.send_str("{}")
        pong = await recv(ws)
        assert pong["event"] == "pong"
        assert isinstance(pong["id"], float) and isinstance(pong["ts"], float)


async def test_load_user(client):
    await register(client, "superman@example.com")
    ws = await connect(client)
    await ws.send_json({"method": "load", "object": "user", "id": "1"})
    reply = await recv(ws)
    assert reply["event"] == "load" and reply["id"] == "1"
    user = reply["user"]
    assert user["email"] == "superman@example.com"
    assert user["default_connection"] == "irc://irc.libera.chat:6697/%23convos"
    assert user["forced_connection"] is False
    assert "connections" not in user and "conversations" not in user
    res = await client.get("/api/user")
    assert user == await res.json()


async def test_load_with_connections_and_conversations(make_client, perl_home):
    client = await make_client(home_dir=perl_home)
    await login_lois(client)
    ws = await connect(client)
    await ws.send_json({"method": "load", "id": 7, "params": {"connections": True, "conversations": True}})
    reply = await recv(ws)
    assert reply["event"] == "load" and reply["id"] == 7
    user = reply["user"]
    assert user["email"] == "lois@example.com"
    assert [c["connection_id"] for c in user["connections"]] == ["irc-localhost"]
    assert [(c["connection_id"], c["conversation_id"]) for c in user["conversations"]] == [("irc-localhost", "#convos")]
    res = await client.get("/api/user?connections=true&conversations=true")
    assert user == await res.json()
    await ws.send_json({"method": "load", "id": 8, "params": {"connections": True}})
    user = (await recv(ws))["user"]
    assert "connections" in user and "conversations" not in user


async def test_send_errors(make_client, perl_home):
    client = await make_client(home_dir=perl_home)
    await login_lois(client)
    ws = await connect(client)
    await ws.send_json({"method": "send", "id": 1, "message": "hi", "conversation_id": "#convos"})
    assert await recv(ws) == {"errors": [{"message": "Invalid input."}], "event": "sent", "id": 1, "message": "hi"}
    await ws.send_json({"method": "send", "id": 2, "connection_id": "irc-localhost", "message": ""})
    assert await recv(ws) == {"errors": [{"message": "Invalid input."}], "event": "sent", "id": 2,
                              "connection_id": "irc-localhost"}
    await ws.send_json({"method": "send", "id": 3, "connection_id": "irc-nope", "conversation_id": "#convos",
                        "message": "hi"})
    assert await recv(ws) == {"errors": [{"message": "Connection not found."}], "event": "sent", "id": 3,
                              "connection_id": "irc-nope", "message": "hi"}
    # A known connection that is not connected (CONVOS_SKIP_CONNECT=1).
    await ws.send_json({"method": "send", "id": "4", "connection_id": "irc-localhost", "conversation_id": "#convos",
                        "message": "hello"})
    assert await recv(ws) == {"errors": [{"message": "Not connected."}], "event": "sent", "id": "4",
                              "connection_id": "irc-localhost", "message": "hello"}
    # Without an id the error still carries a numeric one (fact 85).
    await ws.send_json({"method": "send", "connection_id": "irc-nope", "message": "hi"})
    reply = await recv(ws)
    assert reply["errors"] == [{"message": "Connection not found."}] and isinstance(reply["id"], float)


async def test_unknown_method(client):
    await register(client, "superman@example.com")
    ws = await connect(client)
    await ws.send_json({"method": "debug", "id": 5})
    assert await recv(ws) == {"errors": [{"message": "Invalid method."}], "event": "debug", "id": 5}


async def test_bad_frames_get_error_frames_and_the_socket_stays(client):
    await register(client, "superman@example.com")
    ws = await connect(client)
    cases: list[tuple[str | bytes, dict[str, Any]]] = [
        ("not json", {"event": "error", "errors": [{"message": "Invalid JSON."}]}),
        ("[1, 2]", {"event": "error", "errors": [{"message": "Invalid input."}]}),
        ('"ping"', {"event": "error", "errors": [{"message": "Invalid input."}]}),
        ("null", {"event": "error", "errors": [{"message": "Invalid input."}]}),
        ('{"method": 5, "id": 1}', {"event": "error", "errors": [{"message": "Invalid method."}], "id": 1}),
        ('{"method": "send", "id": 2, "connection_id": ["x"], "message": "hi"}',
         {"event": "sent", "errors": [{"message": "Invalid input."}], "id": 2, "connection_id": ["x"],
          "message": "hi"}),
        ('{"method": "send", "id": 3, "connection_id": "irc-x", "message": {"a": 1}}',
         {"event": "sent", "errors": [{"message": "Invalid input."}], "id": 3, "connection_id": "irc-x",
          "message": {"a": 1}}),
        ('{"method": "send", "id": 4, "connection_id": "irc-x", "conversation_id": 9, "message": "hi"}',
         {"event": "sent", "errors": [{"message": "Invalid input."}], "id": 4, "connection_id": "irc-x",
          "message": "hi"}),
        ('{"method": "load", "id": 5, "params": "yes"}',
         {"event": "load", "errors": [{"message": "Invalid input."}], "id": 5}),
        (b"\x00\x01", {"event": "error", "errors": [{"message": "Expected a JSON text frame."}]}),
    ]
    for frame, expected in cases:
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
        assert await recv(ws) == expected, frame
    await ws.send_json({"method": "ping", "id": "still here"})
    assert (await recv(ws))["id"] == "still here"
    assert not ws.closed


async def test_send_reply_merges_the_request(client):
    await register(client, "superman@example.com")
    add_scripted(client, "superman@example.com")
    ws = await connect(client)
    await ws.send_json({"method": "send", "id": "9", "connection_id": "irc-scripted", "conversation_id": "#convos",
                        "message": "hello"})
    reply = await recv(ws)
    server = reply.pop("server")
    assert reply == {"event": "sent", "id": "9", "method": "send", "connection_id": "irc-scripted",
                     "conversation_id": "#other", "message": "hello", "result": 1}
    assert server["conversation_id"] == "" and server["connection_id"] == "irc-scripted"
    await ws.send_json({"method": "send", "id": "10", "connection_id": "irc-scripted", "message": "/fail"})
    assert await recv(ws) == {"errors": [{"message": "Cannot send without target."}], "event": "sent",
                              "id": "10", "connection_id": "irc-scripted", "message": "/fail"}


async def test_events_of_a_send_come_before_its_reply(client):
    """Fact 86: the kick's `part` state event, then the `sent` reply echoing the request."""
    await register(client, "superman@example.com")
    add_scripted(client, "superman@example.com")
    ws = await connect(client)
    await ws.send_json({"method": "send", "id": "42", "connection_id": "irc-scripted", "conversation_id": "#convos",
                        "message": "/kick superduper"})
    event = await recv(ws)
    assert event["event"] == "state" and event["type"] == "part"
    assert event["kicker"] == "superman" and event["nick"] == "superduper" and event["message"] == "So long..."
    assert RFC3339_MS.match(event["ts"])
    assert await recv(ws) == {"connection_id": "irc-scripted", "conversation_id": "#convos", "event": "sent",
                              "id": "42", "message": "/kick superduper", "method": "send"}


async def test_a_load_reply_is_never_older_than_the_events_before_it(client):
    """The browser replaces its model with a `load` reply, so no event written before the reply
    may be newer than it. A load asked while the socket's writer is stuck (the browser reads
    slowly) used to be built at once and written after the events that came meanwhile."""
    email = "superman@example.com"
    await register(client, email)
    core = core_of(client)
    user = core.get_user(email)
    ws = await connect(client)
    (sock,) = client.server.app[EVENT_SOCKETS]
    # Nobody reads: big events fill the TCP buffers until the writer waits for them to drain.
    payload = "x" * 256 * 1024
    for n in range(60):
        core.events.publish(Probe(email=email, frame={"event": "message", "message": payload, "n": n}))
    for _ in range(1000):
        if sock.request.transport.get_write_buffer_size() > 0:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the socket's writer never waited for the peer")

    async def change_the_user() -> None:
        # Each change is published as an event, as a real change would be.
        for n in range(1, 41):
            user.highlight_keywords = [f"k{n}"]
            core.events.publish(Probe(email=email, frame={"event": "state", "type": "test", "n": n}))
            await asyncio.sleep(0.01)  # over 0.4 s, while the load waits for the writer

    changing = asyncio.create_task(change_the_user())
    await ws.send_json({"method": "load", "id": "L"})
    await changing
    last_before = 0
    async with asyncio.timeout(20):
        while True:
            frame = await recv(ws)
            if frame.get("type") == "test":
                last_before = frame["n"]
            elif frame.get("event") == "load":
                break
    assert last_before > 0  # the test did race the load
    assert int(frame["user"]["highlight_keywords"][0][1:]) >= last_before


async def test_a_load_reply_never_counts_a_message_whose_event_is_still_to_come(client):
    """A message raises the unread counter at once, but its event waits for its log line. A load
    answered in that gap would already count it, and the browser would count it again when the
    event came: the load waits for the events emitted before it."""
    email = "superman@example.com"
    await register(client, email)
    core = core_of(client)
    conn = add_scripted(client, email)
    conv = Conversation(conn.connection_id, "#convos", "#convos")
    conn.conversations[conv.conversation_id] = conv
    ws = await connect(client)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # the log thread is busy (a slow disk)
        held.set()
        release.wait(10)

    core.store._log_thread.submit(hold)
    await asyncio.to_thread(held.wait, 10)
    await core.chat.ingest(conn, conv, type="private", from_="jimmy", message="are you there?")
    assert conv.unread == 1
    await ws.send_json({"method": "load", "id": "L", "object": "user",
                        "params": {"connections": True, "conversations": True}})
    await asyncio.sleep(0)  # one turn of the loop: the server reads the request while the log is held
    release.set()
    frames = []
    async with asyncio.timeout(10):
        while not frames or frames[-1].get("event") != "load":
            frames.append(await recv(ws))
    kinds = [f.get("event") for f in frames]
    assert kinds.index("message") < kinds.index("load"), kinds
    convs = {c["conversation_id"]: c for c in frames[-1]["user"]["conversations"]}
    assert convs["#convos"]["unread"] == 1


async def test_a_long_send_does_not_hold_up_pings_and_is_cancelled_on_close(client):
    await register(client, "superman@example.com")
    conn = add_scripted(client, "superman@example.com")
    ws = await connect(client)
    await ws.send_json({"method": "send", "id": 1, "connection_id": "irc-scripted", "message": "/slow"})
    await ws.send_json({"method": "ping", "id": 2})
    assert (await recv(ws))["id"] == 2
    conn.gate.set()
    reply = await recv(ws)
    assert reply["id"] == 1 and reply["waited"] is True and reply["event"] == "sent"
    # A command still running when the socket closes is cancelled with it.
    conn.gate.clear()
    await ws.send_json({"method": "send", "id": 3, "connection_id": "irc-scripted", "message": "/slow"})
    await ws.send_json({"method": "ping", "id": 4})
    assert (await recv(ws))["id"] == 4
    await ws.close()
    await asyncio.wait_for(conn.cancelled.wait(), 5)


# Server -> client


async def test_events_reach_every_socket_of_the_user_and_no_one_else(client, anon):
    await register(client, "superman@example.com")
    core_of(client).settings.open_to_public = True
    other = await anon(client)
    await register(other, "lois@example.com")
    core = core_of(client)
    mine = [await connect(client), await connect(client)]
    theirs = await connect(other)
    assert core.events.subscribers("superman@example.com") == 2
    core.events.publish(Probe(email="superman@example.com", frame={"event": "message", "message": "for superman"},
                        ts=1711009500.123))
    for ws in mine:
        event = await recv(ws)
        assert event == {"event": "message", "message": "for superman", "ts": "2024-03-21T08:25:00.123Z"}
    core.events.publish(Probe(email="lois@example.com", frame={"event": "message", "message": "for lois"}))
    event = await recv(theirs)
    assert event["message"] == "for lois"
    assert RFC3339_MS.match(event["ts"])
    # Closing a socket unsubscribes it.
    await mine[0].close()
    await mine[1].send_json({"method": "ping"})
    await recv(mine[1])
    assert core.events.subscribers("superman@example.com") == 1


def test_timestamps():
    assert events.rfc3339(0) == "1970-01-01T00:00:00.000Z"
    assert events.rfc3339(1711009500.123) == "2024-03-21T08:25:00.123Z"
    assert events.rfc3339(1711009500.9996) == "2024-03-21T08:25:01.000Z"
    shared = {"event": "message", "ts": 1711009500.5}
    assert events.event_frame(shared)["ts"] == "2024-03-21T08:25:00.500Z"
    assert shared["ts"] == 1711009500.5, "the bus event is shared by every socket and must not change"
    assert RFC3339_MS.match(events.event_frame({"event": "x"})["ts"])


# Backpressure, timeouts, shutdown


async def test_a_burst_beyond_the_queue_closes_with_1013(client, monkeypatch):
    monkeypatch.setattr(events, "QUEUE_SIZE", 4)
    await register(client, "superman@example.com")
    ws = await connect(client)
    core = core_of(client)
    for n in range(10):  # published without yielding: the socket's writer cannot keep up
        core.events.publish(Probe(email="superman@example.com", frame={"event": "message", "n": n}))
    seen = []
    async with asyncio.timeout(5):
        while True:
            msg = await ws.receive()
            if msg.type is not WSMsgType.TEXT:
                break
            seen.append(orjson.loads(msg.data)["n"])
    assert msg.type is WSMsgType.CLOSE and msg.data == 1013
    assert seen == list(range(len(seen))) and len(seen) < 10
    assert core.events.subscribers("superman@example.com") == 0


async def _flood_until_dropped(core: Any, fast: Any, email: str) -> int:
    """Publish big events, each read by `fast`, until the other socket's subscription overflows."""
    payload = "x" * 512 * 1024
    for n in range(400):
        core.events.publish(Probe(email=email, frame={"event": "message", "message": payload, "n": n}))
        assert (await recv(fast))["n"] == n
        if core.events.subscribers(email) == 1:
            return n + 1
    raise AssertionError("the socket that does not read was never dropped")


async def test_a_slow_reader_is_dropped_and_the_others_keep_receiving(client, monkeypatch):
    monkeypatch.setattr(events, "QUEUE_SIZE", 4)
    await register(client, "superman@example.com")
    core = core_of(client)
    slow = await connect(client)
    fast = await connect(client)
    sent = await _flood_until_dropped(core, fast, "superman@example.com")
    core.events.publish(Probe(email="superman@example.com", frame={"event": "message", "message": "after", "n": sent}))
    assert (await recv(fast))["message"] == "after"
    # The slow one reads at last: what was on the way, then 1013 (try again later).
    seen = []
    async with asyncio.timeout(20):
        while True:
            msg = await slow.receive()
            if msg.type is not WSMsgType.TEXT:
                break
            seen.append(orjson.loads(msg.data)["n"])
    assert msg.type is WSMsgType.CLOSE and msg.data == 1013
    assert seen == list(range(len(seen))) and len(seen) < sent
    await fast.send_json({"method": "ping", "id": "alive"})
    assert (await recv(fast))["id"] == "alive"


async def test_a_dead_peer_is_cut_off_after_the_send_timeout(client, monkeypatch):
    monkeypatch.setattr(events, "QUEUE_SIZE", 4)
    monkeypatch.setattr(events, "SEND_TIMEOUT", 0.5)
    await register(client, "superman@example.com")
    core = core_of(client)
    sockets = client.server.app[EVENT_SOCKETS]
    dead = await connect(client)
    (dead_sock,) = sockets
    fast = await connect(client)
    await _flood_until_dropped(core, fast, "superman@example.com")
    # Its writer is stuck on a full TCP buffer; the send timeout ends it without any read.
    await asyncio.wait_for(dead_sock.finished.wait(), 10)
    assert dead_sock not in sockets and len(sockets) == 1
    await fast.send_json({"method": "ping", "id": "alive"})
    assert (await recv(fast))["id"] == "alive"
    assert await recv_close(dead, 20) in (None, 1013)


async def test_inactivity_timeout(make_client):
    client = await make_client({"CONVOS_INACTIVE_TIMEOUT": "1.5"})
    await register(client, "superman@example.com")
    ws = await connect(client)
    # The browser's keep-alive every 0.5 s keeps it open past the timeout...
    for _ in range(5):
        await asyncio.sleep(0.5)  # the client's cadence, not a synchronisation
        await ws.send_str("{}")
        assert (await recv(ws))["event"] == "pong"
    # ...and silence closes it.
    started = time.monotonic()
    assert await recv_close(ws, 10) == 1001
    assert time.monotonic() - started < 8


async def test_app_shutdown_closes_sockets_and_cancels_commands(client):
    await register(client, "superman@example.com")
    conn = add_scripted(client, "superman@example.com")
    ws = await connect(client)
    await ws.send_json({"method": "send", "id": 1, "connection_id": "irc-scripted", "message": "/slow"})
    await ws.send_json({"method": "ping", "id": 2})
    assert (await recv(ws))["id"] == 2
    app = client.server.app
    closing = asyncio.create_task(recv_close(ws))
    started = time.monotonic()
    await asyncio.wait_for(app.shutdown(), 10)
    assert time.monotonic() - started < 2
    assert await closing == 1001
    await asyncio.wait_for(conn.cancelled.wait(), 5)
    assert not app[EVENT_SOCKETS]


async def test_daemon_stops_promptly_with_a_socket_open(daemon, tmp_path):
    d = await daemon(tmp_path / "home")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        res = await http.post(d.url + "/api/user/register",
                              json={"email": "superman@example.com", "password": "longenough"})
        assert res.status == 200, await res.text()
        ws = await http.ws_connect(d.url + "/events", headers={"Origin": d.url})
        await ws.send_json({"method": "load", "id": 1})
        assert (await recv(ws))["user"]["email"] == "superman@example.com"
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(d.url + "/events", headers={"Origin": "http://evil.example.com"})
        closing = asyncio.create_task(recv_close(ws, 10))
        started = time.monotonic()
        assert await d.stop(15, timeout=10) == 0
        assert time.monotonic() - started < 5
        assert await closing == 1001


async def test_read_and_connection_events_reach_other_tabs(make_client, perl_home):
    """Marking read, and adding or removing a connection, tell every open socket (not in 8.07)."""
    client = await make_client(home_dir=perl_home)
    res = await client.post("/api/user/login", json={"email": "superman@example.com", "password": "supersecret1"})
    assert res.status == 200
    from events_helper import Events, is_state

    other_tab = Events(await client.ws_connect("/events"))
    await other_tab.ready()
    assert (await client.post("/api/connection/irc-localhost/conversation/jimmy/read")).status == 200
    read = await other_tab.wait(is_state("read", conversation_id="jimmy"))
    assert read["connection_id"] == "irc-localhost"
    assert (await client.post("/api/notifications/read")).status == 200
    await other_tab.wait(is_state("notifications_read"))
    res = await client.post("/api/connections", json={"url": "irc://irc.example.com", "wanted_state": "disconnected"})
    assert res.status == 200
    added = await other_tab.wait(is_state("connection_added"))
    assert added["connection"]["connection_id"] == "irc-example"
    assert (await client.delete("/api/connection/irc-example")).status == 200
    removed = await other_tab.wait(is_state("connection_removed"))
    assert removed["connection_id"] == "irc-example"
    await other_tab.ws.close()
