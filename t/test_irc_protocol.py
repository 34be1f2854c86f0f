"""IRC protocol edge cases against the scripted peer: what a real ngircd cannot produce (spec §6, §9 69-83)."""

from __future__ import annotations

import asyncio
import base64
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from conftest import core_of
from events_helper import Events, Pred, is_message, is_state
from irc_peer import PeerConnection, ScriptedIrcPeer

from convos.core import passwords
from convos.errors import InvalidInput
from convos.irc.connection import IrcConnection
from convos.store.jsonfile import atomic_write, encode

CID = "irc-localhost"  # what a connection to 127.0.0.1 is called
SERVER = "irc.example.com"  # the scripted peer's name
T = 5  # seconds to wait for anything that should happen at once

ALL_CAPS = ["server-time", "message-tags", "echo-message", "away-notify", "account-notify", "extended-join",
            "multi-prefix", "cap-notify", "chghost", "setname", "invite-notify", "batch", "userhost-in-names"]


@dataclass
class Session:
    """A Convos app whose user's default connection points at the scripted peer."""

    client: TestClient
    events: Events
    peer: PeerConnection
    email: str
    server: ScriptedIrcPeer

    @property
    def core(self) -> Any:
        return core_of(self.client)

    @property
    def conn(self) -> IrcConnection:
        conn = self.core.get_user(self.email).get_connection(CID)
        assert isinstance(conn, IrcConnection)
        return conn

    async def send(self, message: str, target: str = "#convos") -> Any:
        """What `send` resolves with, as the websocket's `sent` reply would carry it."""
        return await asyncio.wait_for(self.conn.send(target, message), T)

    async def fails(self, message: str, target: str = "#convos") -> str:
        with pytest.raises(InvalidInput) as err:
            await self.send(message, target)
        return str(err.value.errors[0].message)

    async def wait(self, pred: Pred, timeout: float = T) -> dict[str, Any]:
        return await self.events.wait(pred, timeout)

    async def synced(self, token: str = "sync") -> None:
        """Every line the peer sent before this one has been handled: the client answers PINGs in order."""
        await self.peer.send(f"PING :{token}")
        await self.peer.expect(f"^PONG :?{re.escape(token)}$")

    async def barrier(self, token: str) -> dict[str, Any]:
        """A server notice after everything sent so far; its event comes after theirs."""
        await self.peer.send(f":{SERVER} NOTICE {self.conn.nick} :{token}")
        return await self.wait(is_message(conversation_id="", message=token))

    def seen(self, pred: Pred) -> list[dict[str, Any]]:
        return [f for f in self.events.seen if pred(f)]

    async def logged(self, conversation_id: str, query: str = "") -> list[dict[str, Any]]:
        await self.core.store.flush_logs()
        path = f"/api/connection/{CID}/conversation/{quote(conversation_id, safe='')}/messages"
        if not conversation_id:
            path = f"/api/connection/{CID}/messages"
        res = await self.client.get(path + (f"?{query}" if query else ""))
        assert res.status == 200, await res.text()
        return list((await res.json())["messages"])

    async def conversations(self) -> dict[str, dict[str, Any]]:
        res = await self.client.get("/api/conversations")
        assert res.status == 200
        return {c["conversation_id"]: c for c in (await res.json())["conversations"]}

    async def welcome_and_join(self) -> None:
        """After registration: answer the rejoin of #convos the way a server does."""
        await self.peer.expect("JOIN #convos")
        await self.peer.transcript("join-convos")
        await self.wait(is_state("frozen", conversation_id="#convos", frozen=""))
        await self.peer.expect("^TOPIC #convos$")  # asked after the JOIN echo; the 332 came already


Start = Callable[..., Awaitable[Session]]


@pytest.fixture
async def start(make_client: Any, home: Any, irc_peer: ScriptedIrcPeer,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Start]:
    """`await start(...)`: an app, a registered user whose connection has reached the peer (not registered yet)."""
    # Real Argon2id, but with cheap parameters: the password is not what these tests are about,
    # and 64 MiB x 3 passes would cost half a second per test.
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    sockets: list[Any] = []

    async def start(*, userinfo: str = "", path: str = "/%23convos", query: str = "tls=0",
                    email: str = "superman@example.com", env: dict[str, str] | None = None) -> Session:
        url = f"irc://{userinfo}{irc_peer.host}:{irc_peer.port}{path}?{query}"
        atomic_write(home / "settings.json", encode({"default_connection": url}))
        client = await make_client({"CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1", **(env or {})})
        res = await client.post("/api/user/register", json={"email": email, "password": "longenough"})
        assert res.status == 200, await res.text()
        ws = await client.ws_connect("/events")
        sockets.append(ws)
        events = Events(ws)
        await events.ready()  # the peer has not answered yet: every event from here on is seen
        peer = await irc_peer.accept(T)
        return Session(client, events, peer, email, irc_peer)

    yield start
    for ws in sockets:
        await ws.close()


async def registered(start: Start, *, caps: list[str] | None = None, join: bool = True, **kwargs: Any) -> Session:
    """A session past 001 (as superman), in #convos unless join=False (then without any conversation)."""
    s = await start(**({"query": "tls=0&nick=superman"} | ({} if join else {"path": ""}) | kwargs))
    await s.peer.register("superman", caps=caps or [])
    if join:
        await s.welcome_and_join()
    else:
        await s.wait(is_message(type="private", **{"from": SERVER}))
    return s


# --- registration ----------------------------------------------------------------------------


async def test_registration_lines_in_order(start: Start) -> None:
    s = await start(email="test.user@example.com", path="")
    reg = await s.peer.register(caps=[])
    assert [line.raw for line in reg.lines] == [
        "CAP LS 302",
        "NICK test_user",
        "USER test_user 0 * :https://convos.chat",
        "CAP END",
    ]
    assert reg.password is None
    assert "nick=test_user" in s.conn.url  # written into the URL at the first connect
    welcome = await s.wait(is_message(type="private", **{"from": SERVER}))
    assert welcome["message"] == "Welcome to the TestNet Internet Relay Chat Network test_user"
    assert welcome["conversation_id"] == ""


async def test_registration_username_from_the_nick_and_realname(start: Start) -> None:
    s = await start(path="", query="tls=0&nick=_superman&realname=Clark%20Kent")
    reg = await s.peer.register("_superman", caps=[])
    assert reg.user is not None
    assert reg.user.raw == "USER xsuperman 0 * :Clark Kent via https://convos.chat"
    assert reg.password is None


async def test_registration_pass_before_nick(start: Start) -> None:
    s = await start(userinfo="clark:s3cret@", path="", query="tls=0&nick=Superman&mode=8")
    reg = await s.peer.register("Superman", caps=[])
    raw = [line.raw for line in reg.lines]
    # CAP END may come before USER: the client reads the CAP LS answer while it registers.
    assert "CAP END" in raw
    assert [x for x in raw if x != "CAP END"] == [
        "CAP LS 302", "PASS s3cret", "NICK Superman", "USER clark 8 * :https://convos.chat"]


async def test_no_pass_when_sasl_is_configured(start: Start) -> None:
    s = await start(userinfo="superwoman:superduper@", path="", query="tls=0&nick=superwoman&sasl=plain")
    reg = await s.peer.register("superwoman", sasl="PLAIN")
    assert reg.password is None
    assert "PASS" not in [line.command for line in reg.lines]


# --- CAP -------------------------------------------------------------------------------------


async def test_cap_multiline_ls_requests_wanted_caps_after_the_last_line(start: Start) -> None:
    s = await start(path="", query="tls=0&nick=superman")
    offered = ["server-time", "foo-bar", "echo-message", "sasl=PLAIN,EXTERNAL", "multi-prefix",
               "draft/chathistory", "userhost-in-names", "account-notify"]
    reg = await s.peer.register("superman", caps=offered, ls_line_size=3)
    sent = [line.raw for line in reg.lines]
    # Three LS lines went out for the first CAP LS; the REQ came only after the last one.
    ls_lines = [x for x in s.peer.sent_lines if b" CAP * LS " in x]
    assert len(ls_lines) == 3 and b"LS * :" in ls_lines[0] and b"LS * :" not in ls_lines[-1]
    reqs = [x for x in reg.lines if x.command == "CAP" and x.params[0] == "REQ"]
    assert len(reqs) == 1
    # Only wanted caps that were offered; no sasl without a `sasl` URL parameter.
    assert sorted(reg.caps_requested) == sorted(["server-time", "echo-message", "multi-prefix",
                                                 "userhost-in-names", "account-notify"])
    assert sent.count("CAP END") == 1
    assert sent.index("CAP END") > sent.index(reqs[0].raw)
    await s.wait(is_message(type="private", **{"from": SERVER}))
    caps = s.conn.info["capabilities"]
    assert caps == {name.split("=")[0]: True for name in offered}
    assert s.conn.info["authenticated"] is False
    assert "sasl" in caps and "AUTHENTICATE" not in [line.command for line in s.peer.received]


async def test_cap_requests_every_wanted_cap_that_is_offered(start: Start) -> None:
    s = await start(path="", query="tls=0&nick=superman")
    reg = await s.peer.register("superman", caps=ALL_CAPS, ls_line_size=5)
    assert sorted(reg.caps_requested) == sorted(ALL_CAPS)
    assert sorted(reg.caps_acked) == sorted(ALL_CAPS)
    assert [line.raw for line in reg.lines].count("CAP END") == 1


async def test_cap_nak_still_ends_negotiation(start: Start) -> None:
    s = await start(path="", query="tls=0&nick=superman")
    await s.peer.expect("CAP LS 302")
    await s.peer.send(f":{SERVER} CAP * LS :server-time echo-message")
    req = await s.peer.expect("CAP REQ")
    assert sorted(req.text.split()) == ["echo-message", "server-time"]
    await s.peer.send(f":{SERVER} CAP * NAK :{req.text}")
    await s.peer.expect("^CAP END$")
    await s.peer.expect("^USER ")
    await s.peer.welcome("superman")
    await s.wait(is_message(type="private", **{"from": SERVER}))
    assert s.conn.client is not None and s.conn.client.caps_enabled == set()
    assert [line.raw for line in s.peer.received].count("CAP END") == 1
    assert s.conn.info["capabilities"] == {"server-time": True, "echo-message": True}


async def test_cap_new_and_del_after_registration(start: Start) -> None:
    s = await registered(start, caps=["cap-notify"], join=False)
    client = s.conn.client
    assert client is not None and client.caps_enabled == {"cap-notify"}
    await s.peer.send(f":{SERVER} CAP superman NEW :server-time draft/foo")
    req = await s.peer.expect("CAP REQ")
    assert req.text.split() == ["server-time"]
    await s.peer.send(f":{SERVER} CAP superman ACK :server-time")
    await s.synced("after-new")
    assert client.caps_enabled == {"cap-notify", "server-time"}
    assert s.conn.info["capabilities"] == {"cap-notify": True, "server-time": True, "draft/foo": True}
    await s.peer.send(f":{SERVER} CAP superman DEL :server-time")
    await s.synced("after-del")
    assert client.caps_enabled == {"cap-notify"}
    assert "server-time" not in s.conn.info["capabilities"]
    assert [x.raw for x in s.peer.received].count("CAP END") == 1  # not again after registration


async def test_cap_without_caps_ends_at_once(start: Start) -> None:
    s = await start(path="", query="tls=0&nick=superman")
    reg = await s.peer.register("superman", caps=[])
    assert reg.caps_requested == []
    assert [line.raw for line in reg.lines].count("CAP END") == 1
    await s.wait(is_message(type="private", **{"from": SERVER}))
    assert s.conn.info["capabilities"] == {}


# --- SASL ------------------------------------------------------------------------------------


async def test_sasl_plain(start: Start) -> None:
    s = await start(userinfo="superwoman:superduper@", path="", query="tls=0&nick=superwoman&sasl=plain")
    reg = await s.peer.register("superwoman", caps=["server-time", "away-notify"], sasl="PLAIN", ls_line_size=2)
    assert "sasl" in reg.caps_requested
    assert reg.sasl_mechanism == "PLAIN"
    auth = [line.raw for line in reg.lines if line.command == "AUTHENTICATE"]
    assert auth == ["AUTHENTICATE PLAIN", "AUTHENTICATE c3VwZXJ3b21hbgBzdXBlcndvbWFuAHN1cGVyZHVwZXI="]
    assert reg.sasl_plain == ("superwoman", "superwoman", "superduper")
    sent = [line.raw for line in reg.lines]
    assert sent.count("CAP END") == 1
    assert sent.index("CAP END") > sent.index(auth[-1])
    await s.wait(is_message(type="private", **{"from": SERVER}))
    info = await s.wait(lambda f: is_state("info")(f) and f["info"]["authenticated"] is True)
    assert s.conn.info["authenticated"] is True
    assert s.conn.info["capabilities"] == {"server-time": True, "away-notify": True, "sasl": True}
    assert info["info"]["capabilities"]["sasl"] is True


async def test_sasl_plain_with_authname(start: Start) -> None:
    s = await start(userinfo="superwoman:superduper@", path="",
                    query="tls=0&nick=superwoman&sasl=PLAIN&authname=wonder")
    reg = await s.peer.register("superwoman", sasl="PLAIN")
    assert reg.sasl_plain == ("wonder", "superwoman", "superduper")


async def test_sasl_external(start: Start) -> None:
    s = await start(userinfo="superwoman@", path="", query="tls=0&nick=superwoman&sasl=external")
    reg = await s.peer.register("superwoman", sasl="EXTERNAL")
    auth = [line.raw for line in reg.lines if line.command == "AUTHENTICATE"]
    assert auth == ["AUTHENTICATE EXTERNAL", "AUTHENTICATE c3VwZXJ3b21hbg=="]
    assert base64.b64decode(auth[1].split()[1]) == b"superwoman"
    await s.wait(is_message(type="private", **{"from": SERVER}))
    assert s.conn.info["authenticated"] is True


async def test_sasl_failure_is_an_error_and_registration_completes(start: Start) -> None:
    s = await start(userinfo="superwoman:wrong@", path="", query="tls=0&nick=superwoman&sasl=plain")
    reg = await s.peer.register("superwoman", sasl="PLAIN", sasl_ok=False)
    assert [line.raw for line in reg.lines].count("CAP END") == 1
    err = await s.wait(is_message(type="error", conversation_id=""))
    assert err["message"] == "SASL authentication failed"
    await s.wait(is_message(type="private", **{"from": SERVER}))
    assert s.conn.info["authenticated"] is False
    assert s.conn.state == "connected"


async def test_sasl_param_but_server_without_sasl(start: Start) -> None:
    s = await start(userinfo="superwoman:superduper@", path="", query="tls=0&nick=superwoman&sasl=plain")
    reg = await s.peer.register("superwoman", caps=["server-time"])
    assert reg.caps_requested == ["server-time"]
    assert "AUTHENTICATE" not in [line.command for line in reg.lines]
    await s.wait(is_message(type="private", **{"from": SERVER}))
    assert s.conn.info["authenticated"] is False


# --- incoming traffic ----------------------------------------------------------------------


async def test_server_time_is_the_message_time(start: Start) -> None:
    s = await registered(start, caps=["server-time", "message-tags"])
    await s.peer.send("@time=2024-03-21T08:25:00.123Z;msgid=abc :batman!b@gotham PRIVMSG #convos :from the past")
    msg = await s.wait(is_message(conversation_id="#convos", message="from the past"))
    assert msg["ts"] == "2024-03-21T08:25:00.123Z"
    await s.peer.send("@time=not-a-time :batman!b@gotham PRIVMSG #convos :bad time tag")
    msg = await s.wait(is_message(conversation_id="#convos", message="bad time tag"))
    assert not msg["ts"].startswith("2024-03-21")  # now, not a crash
    logged = await s.logged("#convos", "around=2024-03-21T08:25:00")
    assert [(m["ts"], m["from"], m["message"]) for m in logged if m["message"] == "from the past"] == [
        ("2024-03-21T08:25:00", "batman", "from the past")]


async def test_echo_message_replaces_the_local_echo(start: Start) -> None:
    s = await registered(start, caps=["echo-message"])
    assert await s.send("hello with echo") == {}
    line = await s.peer.expect("PRIVMSG #convos")
    assert line.params == ("#convos", "hello with echo")
    await s.barrier("before-echo")
    assert s.seen(is_message(message="hello with echo")) == []  # nothing until the server echoes it
    await s.peer.send(":superman!superman@127.0.0.1 PRIVMSG #convos :hello with echo")
    echo = await s.wait(is_message(conversation_id="#convos", message="hello with echo"))
    assert echo["from"] == "superman" and echo["highlight"] is False
    await s.barrier("after-echo")
    assert len(s.seen(is_message(message="hello with echo"))) == 1
    assert await s.send("/me waves") == {}
    assert (await s.peer.expect("PRIVMSG #convos")).text == "\x01ACTION waves\x01"
    await s.peer.send(":superman!superman@127.0.0.1 PRIVMSG #convos :\x01ACTION waves\x01")
    await s.wait(is_message(conversation_id="#convos", type="action", message="waves"))
    await s.barrier("after-action-echo")
    assert len(s.seen(is_message(message="waves"))) == 1
    logged = await s.logged("#convos")
    assert [m["message"] for m in logged].count("hello with echo") == 1
    assert [(m["type"], m["message"]) for m in logged].count(("action", "waves")) == 1
    assert (await s.conversations())["#convos"]["unread"] == 0


async def test_local_echo_without_echo_message(start: Start) -> None:
    s = await registered(start, caps=["server-time"])
    assert await s.send("hello without echo") == {}
    await s.peer.expect("PRIVMSG #convos :hello without echo")
    echo = await s.wait(is_message(conversation_id="#convos", message="hello without echo"))
    assert echo["from"] == "superman" and echo["type"] == "private"
    await s.barrier("after-local-echo")
    assert len(s.seen(is_message(message="hello without echo"))) == 1
    logged = await s.logged("#convos")
    assert [m["message"] for m in logged].count("hello without echo") == 1
    assert (await s.conversations())["#convos"]["unread"] == 0


HOSTILE: list[tuple[str, bytes]] = [
    ("invalid utf-8", b":bob!b@h PRIVMSG #convos :caf\xe9 \xff\xfe na\xefve\r\n"),
    ("10 KB line", b":bob!b@h PRIVMSG #convos :" + b"x" * 10_000 + b"\r\n"),
    ("only tags", b"@time=2024-03-21T08:25:00.123Z;msgid=x\r\n"),
    ("tags and prefix only", b"@a=b :irc.example.com\r\n"),
    ("only a prefix", b":bob!b@h\r\n"),
    ("empty lines", b"\r\n\n\r\n   \r\n"),
    ("unknown numeric", b":irc.example.com 999 superman foo :bar baz\r\n"),
    ("privmsg without text", b":bob!b@h PRIVMSG #convos\r\n"),
    ("privmsg without params", b":bob!b@h PRIVMSG\r\n"),
    ("numerics without params", b":irc.example.com 433\r\n:irc.example.com 404\r\n:irc.example.com 332\r\n"),
    ("commands without params", b":bob!b@h JOIN\r\n:bob!b@h KICK\r\n:bob!b@h MODE\r\n:bob!b@h NICK\r\n"
                                b":bob!b@h TOPIC\r\n:bob!b@h INVITE\r\n:bob!b@h QUIT\r\n:bob!b@h PART\r\n"),
    ("nul and cr inside", b":bob!b@h PRIVMSG #convos :a\x00b\rc\r\n"),
    ("cap without params", b":irc.example.com CAP\r\n:irc.example.com CAP * ACK\r\n"),
    ("lone ctcp", b":bob!b@h PRIVMSG #convos :\x01\r\n:bob!b@h PRIVMSG superman :\x01\x01\r\n"),
    ("garbage", b"\x00\x01\x02\xff\r\n:\r\n@\r\n@ \r\n: \r\n"),
]


@pytest.mark.parametrize("name,data", HOSTILE, ids=[name for name, _ in HOSTILE])
async def test_hostile_lines_never_break_the_connection(start: Start, name: str, data: bytes) -> None:
    s = await registered(start)
    await s.peer.send(data)
    await s.peer.send(":bob!b@h PRIVMSG #convos :still here")
    msg = await s.wait(is_message(conversation_id="#convos", message="still here"))
    assert msg["from"] == "bob"
    assert s.conn.state == "connected"
    assert s.seen(is_state("connection", state="disconnected")) == []
    assert (await s.logged("#convos"))[-1]["message"] == "still here"  # and the log still reads back


async def test_hostile_line_contents(start: Start) -> None:
    s = await registered(start)
    await s.peer.send(b":bob!b@h PRIVMSG #convos :caf\xe9 na\xefve\r\n")
    latin1 = await s.wait(is_message(conversation_id="#convos", **{"from": "bob"}))
    assert latin1["message"] == "café naïve"  # invalid UTF-8: the line is read as latin-1
    await s.peer.send(":bob!b@h PRIVMSG #convos :" + "y" * 10_000)
    long = await s.wait(is_message(conversation_id="#convos", **{"from": "bob"}))
    assert long["message"] == "y" * 10_000
    await s.peer.send(b":bob!b@h PRIVMSG #convos :in ", b"two pieces\r\n")
    assert (await s.wait(is_message(conversation_id="#convos", **{"from": "bob"})))["message"] == "in two pieces"
    # Numerics without a handler: server messages, my nick dropped; `error` for the err_ range.
    await s.peer.send(f":{SERVER} 999 superman foo :bar baz")
    unknown = await s.wait(is_message(conversation_id="", message="foo bar baz"))
    assert unknown["type"] == "notice" and unknown["from"] == CID
    await s.peer.send(f":{SERVER} 482 superman #convos :You're not channel operator")
    error = await s.wait(is_message(conversation_id="", message="#convos You're not channel operator"))
    assert error["type"] == "error"
    logged = await s.logged("#convos")
    assert [m["message"] for m in logged][-3:] == ["café naïve", "y" * 10_000, "in two pieces"]


async def test_ctcp_requests_are_answered_not_shown(start: Start) -> None:
    s = await registered(start)
    await s.peer.send(":bob!b@h PRIVMSG superman :\x01VERSION\x01",
                      ":bob!b@h PRIVMSG superman :\x01PING 1711009500 123\x01",
                      ":bob!b@h PRIVMSG #convos :\x01TIME\x01")
    version = await s.peer.expect("NOTICE bob")
    assert re.fullmatch(r"\x01VERSION Convos\b.*\x01", version.text)
    ping = await s.peer.expect("NOTICE bob")
    assert ping.text == "\x01PING 1711009500 123\x01"
    now = await s.peer.expect("NOTICE bob")
    assert re.fullmatch(r"\x01TIME \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\x01", now.text)
    await s.peer.send(":bob!b@h PRIVMSG #convos :\x01ACTION waves\x01")
    action = await s.wait(is_message(conversation_id="#convos", type="action"))
    assert action["message"] == "waves" and action["from"] == "bob"
    await s.barrier("after-ctcp")
    assert [f["message"] for f in s.seen(is_message(**{"from": "bob"}))] == ["waves"]
    assert s.seen(lambda f: f.get("event") == "state" and f.get("conversation_id") == "bob") == []
    assert "bob" not in await s.conversations()


async def test_numerics_become_error_messages(start: Start) -> None:
    s = await registered(start)
    await s.peer.send(f":{SERVER} 404 superman #nopechan :Cannot send to channel",
                      f":{SERVER} 421 superman cool_cmd :Unknown command",
                      f":{SERVER} 432 superman nopeman :Erroneous nickname")
    for text in ("Cannot send to channel #nopechan.", "Unknown command: cool_cmd", "Invalid nickname nopeman."):
        msg = await s.wait(is_message(message=text))
        assert (msg["type"], msg["from"], msg["conversation_id"]) == ("error", SERVER, "")
    await s.peer.send(":superwoman!sw@h QUIT :Gone to lunch")
    quit_ = await s.wait(is_state("quit"))
    assert (quit_["nick"], quit_["message"]) == ("superwoman", "Gone to lunch")
    assert "conversation_id" not in quit_


async def test_nick_in_use_during_registration(start: Start) -> None:
    s = await start(path="", query="tls=0&nick=nopeman")
    await s.peer.expect("^NICK nopeman$")
    await s.peer.expect("^USER ")
    await s.peer.send(f":{SERVER} 433 * nopeman :Nickname is already in use")
    err = await s.wait(is_message(type="error", conversation_id=""))
    assert err["message"] == "Nickname nopeman is already in use."
    info = await s.wait(lambda f: is_state("info")(f) and f["info"].get("nick") == "nopeman_")
    assert info["info"]["nick"] == "nopeman_"
    await s.peer.expect("^NICK nopeman_$")
    await s.peer.send(f":{SERVER} 433 * nopeman_ :Nickname is already in use")
    await s.peer.expect("^NICK nopeman__$")
    await s.peer.welcome("nopeman__")
    await s.wait(is_message(type="private", **{"from": SERVER}))
    assert s.conn.info["nick"] == "nopeman__"
    assert "nick=nopeman&" in s.conn.url + "&"  # the URL keeps the wanted nick
    assert [f["message"] for f in s.seen(is_message(type="error"))] == [
        "Nickname nopeman is already in use.", "Nickname nopeman_ is already in use."]
    # Once registered, a 433 for the wanted nick (the periodic reclaim) is shown once, and nothing changes.
    await s.peer.send(f":{SERVER} 433 nopeman__ nopeman :Nickname is already in use")
    await s.barrier("after-433")
    assert s.conn.info["nick"] == "nopeman__"
    assert len(s.seen(is_message(type="error"))) == 2


async def test_service_accounts_never_create_conversations(start: Start) -> None:
    s = await registered(start)
    await s.peer.send(":NickServ!NickServ@services. NOTICE superman :This nickname is registered.",
                      ":ChanServ!ChanServ@services. PRIVMSG superman :hello from chanserv",
                      ":superman!s@h PRIVMSG nickserv :identify secret")
    for text in ("This nickname is registered.", "hello from chanserv", "identify secret"):
        msg = await s.wait(is_message(message=text))
        assert msg["conversation_id"] == ""
    assert set(await s.conversations()) == {"#convos"}
    # An existing conversation of that name gets them.
    await s.send("/query NickServ")
    await s.peer.send(":NickServ!NickServ@services. NOTICE superman :Now you see me.")
    msg = await s.wait(is_message(message="Now you see me."))
    assert msg["conversation_id"] == "nickserv" and msg["from"] == "NickServ"
    assert [m["message"] for m in await s.logged("nickserv")] == ["Now you see me."]
    server_log = [m["message"] for m in await s.logged("")]
    assert "This nickname is registered." in server_log and "hello from chanserv" in server_log


async def test_private_conversation_unread_counts_only_the_other_party(start: Start) -> None:
    s = await registered(start)
    await s.peer.send(":superwoman!sw@h PRIVMSG superman :are you there?")
    created = await s.wait(is_state("frozen", conversation_id="superwoman"))
    assert created["name"] == "superwoman" and created["frozen"] == ""
    msg = await s.wait(is_message(conversation_id="superwoman"))
    assert msg["highlight"] is False
    assert await s.send("yes I am", target="superwoman") == {}
    await s.peer.expect("PRIVMSG superwoman :yes I am")
    await s.wait(is_message(conversation_id="superwoman", message="yes I am"))
    convs = await s.conversations()
    assert convs["superwoman"]["unread"] == 1
    assert [(m["from"], m["message"]) for m in await s.logged("superwoman")] == [
        ("superwoman", "are you there?"), ("superman", "yes I am")]


async def test_the_first_unread_message_is_known_by_id(start: Start) -> None:
    """The conversation names its first unread message (the browser's "New messages" line),
    exact however many came; marking it read forgets it, and it survives a restart."""
    s = await registered(start)
    assert (await s.conversations())["#convos"]["first_unread_id"] == ""
    await s.send("mine, never unread")
    await s.peer.send(*(f":alice!a@h PRIVMSG #convos :line {i}" for i in range(300)))
    first = await s.wait(is_message(message="line 0"))
    await s.wait(is_message(message="line 299"))
    conv = (await s.conversations())["#convos"]
    assert (conv["unread"], conv["first_unread_id"]) == (300, first["id"])
    page = await s.logged("#convos", f"limit=2&around_id={first['id']}")
    assert [m["message"] for m in page] == ["mine, never unread", "line 0", "line 1"]  # the log knows that id
    res = await s.client.post(f"/api/connection/{CID}/conversation/%23convos/read")
    assert res.status == 200
    assert (await s.conversations())["#convos"]["first_unread_id"] == ""
    await s.peer.send(":alice!a@h PRIVMSG #convos :after reading")
    msg = await s.wait(is_message(message="after reading"))
    assert (await s.conversations())["#convos"]["first_unread_id"] == msg["id"]
    # Saved with the conversation (connection.json), so a restart keeps it.
    await s.core.chat.save_connection(s.core.get_user(s.email), s.conn)
    saved = await s.core.store.load_connections(s.email)
    (saved_conv,) = [c for c in saved[0]["conversations"] if c["conversation_id"] == "#convos"]
    assert saved_conv["first_unread_id"] == msg["id"]


async def test_highlights_and_notifications(start: Start) -> None:
    s = await registered(start)
    res = await s.client.post(f"/api/user/{s.email}", json={"highlight_keywords": ["normal", "Yikes", " "]})
    assert res.status == 200, await res.text()
    lines = [
        ("Supergirl", "#convos", "But... SUPERMAN, what about in a channel?", True),
        ("Supergirl", "#convos", "not a superdupersuperman?", False),
        ("Supergirl", "#convos", "Yikes! yikes:/", True),
        ("Supergirl", "#convos", "Or what about a NORMAL message in a channel?", True),
        ("Supergirl", "#convos", "Or what about a message with space in a channel?", False),
        ("Supergirl", "superman", "superman in private", True),
        ("superman", "#convos", "What if I mention myself as superman?", False),
    ]
    for nick, target, text, _ in lines:
        await s.peer.send(f":{nick}!{nick.lower()}@h PRIVMSG {target} :{text}")
    for _, _, text, highlight in lines:
        msg = await s.wait(is_message(message=text))
        assert msg["highlight"] is highlight, text
    await s.send("/me mentions superman")
    await s.wait(is_message(message="mentions superman", highlight=False))
    await s.core.store.flush_logs()
    res = await s.client.get("/api/notifications")
    notes = (await res.json())["messages"]
    assert [(n["conversation_id"], n["from"], n["message"], n["type"]) for n in notes] == [
        ("#convos", "Supergirl", "But... SUPERMAN, what about in a channel?", "private"),
        ("#convos", "Supergirl", "Yikes! yikes:/", "private"),
        ("#convos", "Supergirl", "Or what about a NORMAL message in a channel?", "private"),
    ]
    convs = await s.conversations()
    assert convs["#convos"]["notifications"] == 3
    assert convs["#convos"]["unread"] == 5
    assert convs["supergirl"]["notifications"] == 0 and convs["supergirl"]["unread"] == 1
    logged = {m["message"]: m["highlight"] for m in await s.logged("#convos")}
    assert logged["But... SUPERMAN, what about in a channel?"] is True
    assert logged["not a superdupersuperman?"] is False


# --- commands with canned replies --------------------------------------------------------------


async def replied(s: Session, message: str, expect: str, *replies: str, target: str = "#convos") -> Any:
    """Send a command, wait for the line it writes, answer with `replies`, return the result."""
    task = asyncio.create_task(s.send(message, target))
    try:
        line = await s.peer.expect(expect)
        await s.peer.send(*(r.format(server=SERVER, line=line) for r in replies))
        return await task
    finally:
        if not task.done():
            task.cancel()


async def rejected(s: Session, message: str, expect: str, *replies: str, target: str = "#convos") -> str:
    with pytest.raises(InvalidInput) as err:
        await replied(s, message, expect, *replies, target=target)
    return str(err.value.errors[0].message)


async def test_mode_command(start: Start) -> None:
    s = await registered(start)
    assert await replied(s, "/mode", "^MODE #convos$", ":{server} 324 superman #convos +intu") == {
        "target": "#convos", "mode": "+intu"}
    assert await replied(s, "/mode +k secret", "^MODE #convos \\+k secret$",
                         ":localhost MODE #convos +k :secret") == {
        "from": "localhost", "mode": "+k", "mode_changed": 1, "target": "#convos"}
    assert await replied(s, "/mode +o batman", "^MODE #convos \\+o batman$",
                         ":superman!s@h MODE #convos +o batman") == {
        "from": "superman", "mode": "+o", "mode_changed": 1, "target": "#convos", "nick": "batman"}
    assert await replied(
        s, "/mode b", "^MODE #convos b$",
        ":{server} 367 superman #convos x!*@* superman!~superman@125-12-219-233.rev.home.ne.jp 1577498687",
        ":{server} 368 superman #convos :End of Channel Ban List") == {
        "banlist": [{"by": "superman!~superman@125-12-219-233.rev.home.ne.jp", "mask": "x!*@*", "ts": 1577498687}]}
    assert await replied(s, "/mode +I", "^MODE #convos \\+I$", ":{server} 347 superman #convos :End of list") == {
        "invitelist": []}
    assert await rejected(s, "/mode superwoman", "^MODE #nope superwoman$",
                          ":{server} 461 superman #nope :Not enough parameters", target="#nope") == "Not enough parameters"
    # The channel mode reply also shows up as a server notice; the mode echo for +o as a state event.
    await s.wait(is_message(conversation_id="", message="#convos has mode +intu."))
    mode = await s.wait(is_state("mode", conversation_id="#convos"))
    assert (mode["from"], mode["mode"], mode["nick"]) == ("superman", "+o", "batman")
    # A key is never shown.
    await s.peer.send(":batman!b@h MODE #convos +lk 10 hunter2")
    changed = [(await s.wait(lambda f: is_message(conversation_id="")(f) and "changed mode" in f["message"]))["message"]
               for _ in range(2)]
    assert changed == ["#convos changed mode +k ******", "#convos changed mode +lk ** *******"]


async def test_names_command(start: Start) -> None:
    s = await registered(start, caps=["multi-prefix", "userhost-in-names"])
    names = await replied(s, "/names", "^NAMES #convos$",
                          ":{server} 353 superman = #convos :superwoman ~superman &robin",
                          ":{server} 353 superman = #convos :%batboy @superboy +robyn",
                          ":{server} 353 superman = #convos :@+both!b@h.example +plain!p@h",
                          ":{server} 366 superman #convos :End of /NAMES list.")
    assert names == {"conversation_id": "#convos", "participants": [
        {"nick": "superwoman", "mode": ""}, {"nick": "superman", "mode": "q"}, {"nick": "robin", "mode": "a"},
        {"nick": "batboy", "mode": "h"}, {"nick": "superboy", "mode": "o"}, {"nick": "robyn", "mode": "v"},
        {"nick": "both", "mode": "ov"}, {"nick": "plain", "mode": "v"},
    ]}
    # The reply was for /names: it is not shown as server messages too.
    await s.barrier("after-names")
    assert s.seen(lambda f: f.get("event") == "message" and "superwoman" in f.get("message", "")) == []


async def test_join_forward(start: Start) -> None:
    s = await registered(start)
    task = asyncio.create_task(s.send("/join #redirected", ""))
    await s.peer.expect("^JOIN #redirected$")
    await s.peer.send(f":{SERVER} 470 superman #redirected ##redirected :Forwarding to another channel")
    await s.peer.expect("^JOIN ##redirected$")
    await s.peer.send(":superman!s@h JOIN ##redirected",
                      f":{SERVER} 332 superman ##redirected :Used to be #redirected",
                      f":{SERVER} 353 superman @ ##redirected :superwoman @superman",
                      f":{SERVER} 366 superman ##redirected :End of /NAMES list.")
    result = await asyncio.wait_for(task, T)
    assert result["conversation_id"] == "##redirected"
    assert result["topic_by"] == "" and result["users"] == {}
    await s.wait(is_message(conversation_id="", message="Forwarding #redirected to ##redirected."))
    convs = await s.conversations()
    assert "##redirected" in convs and "#redirected" not in convs
    assert convs["##redirected"]["frozen"] == ""


async def test_join_errors_freeze_the_conversation(start: Start) -> None:
    s = await registered(start)
    text = await rejected(s, "/join #invite_only", "^JOIN #invite_only$",
                          ":{server} 473 superman #invite_only :Cannot join channel (+i)", target="")
    assert text == "Cannot join channel (+i)"
    frozen = await s.wait(is_state("frozen", conversation_id="#invite_only",
                                   frozen="This channel requires an invitation."))
    assert frozen["name"] == "#invite_only"
    text = await rejected(s, "/join #keyed wrong", "^JOIN #keyed wrong$",
                          ":{server} 475 superman #keyed :Cannot join channel (+k)", target="")
    assert text == "Cannot join channel (+k)"
    await s.wait(is_state("frozen", conversation_id="#keyed", frozen="Invalid password."))
    text = await rejected(s, "/join #banned", "^JOIN #banned$",
                          ":{server} 474 superman #banned :Cannot join channel (+b)", target="")
    assert text == "Cannot join channel (+b)"
    convs = await s.conversations()
    assert convs["#invite_only"]["frozen"] == "This channel requires an invitation."
    assert convs["#keyed"]["frozen"] == "Invalid password."
    # An invitation for it: frozen with a pending invitation.
    await s.peer.send(":devman!d@h INVITE superman :#invite_only")
    await s.wait(is_state("frozen", conversation_id="#invite_only", frozen="You have a pending invitation."))


async def test_invite_command(start: Start) -> None:
    s = await registered(start)
    result = await replied(s, "/invite devman #invite_only", "^INVITE devman #invite_only$",
                           ":{server} 341 superman devman #invite_only")
    assert result == {"conversation_id": "#invite_only", "invited": "devman"}
    await s.wait(is_message(message="Invitation sent to devman."))
    result = await replied(s, "/invite devman", "^INVITE devman #convos$", ":{server} 341 superman devman #convos")
    assert result == {"conversation_id": "#convos", "invited": "devman"}
    assert await rejected(s, "/invite nobody", "^INVITE nobody #convos$",
                          ":{server} 401 superman nobody :No such nick/channel") == "No such nick/channel"


async def test_concurrent_ison_answered_by_one_reply(start: Start) -> None:
    s = await registered(start)
    tasks = [asyncio.create_task(s.send(f"/ison {nick}", "")) for nick in ("SuperBoy", "superwoman", "SUPERBAD")]
    lines = await s.peer.expect_many("^ISON ", 3)
    assert sorted(line.params[0] for line in lines) == ["SUPERBAD", "SuperBoy", "superwoman"]
    await s.peer.send(f":{SERVER} 303 superman :other SuperBoy superbad")
    results = await asyncio.wait_for(asyncio.gather(*tasks), T)
    assert results == [{"nick": "SuperBoy", "online": True}, {"nick": "superwoman", "online": False},
                       {"nick": "SUPERBAD", "online": True}]


async def test_whois_command(start: Start) -> None:
    s = await registered(start)
    await s.send("/query superwoman", "")
    whois = await replied(s, "/whois superwoman", "^WHOIS superwoman$",
                          ":{server} 311 superman superwoman SuperWoman irc.example.com * :Convos v10.01",
                          ":{server} 319 superman superwoman :#test123 @#convos",
                          ":{server} 312 superman superwoman localhost :ircd-hybrid 8.1-debian",
                          ":{server} 338 superman superwoman 255.255.255.255 :actually using host",
                          ":{server} 317 superman superwoman 17454 1432930742 :seconds idle, signon time",
                          ":{server} 301 superman superwoman :Away from keyboard",
                          ":{server} 276 superman superwoman :has client certificate fingerprint abc123",
                          ":{server} 671 superman superwoman :is using a secure connection",
                          ":{server} 318 superman superwoman :End of /WHOIS list.", target="")
    ts = whois.pop("ts")
    assert isinstance(ts, float)
    assert whois == {
        "away": "Away from keyboard", "channels": {"#test123": {"mode": ""}, "#convos": {"mode": "o"}},
        "fingerprint": "abc123", "host": "irc.example.com", "idle_for": 17454, "name": "Convos v10.01",
        "nick": "superwoman", "server": "localhost", "server_info": "ircd-hybrid 8.1-debian", "user": "SuperWoman",
    }
    convs = await s.conversations()
    assert convs["superwoman"]["frozen"] == ""
    assert convs["superwoman"]["info"]["idle_for"] == 17454
    # The WHOIS lines were the command's: not also shown as server messages.
    await s.barrier("after-whois")
    assert s.seen(is_message(conversation_id="", message="superwoman 255.255.255.255 actually using host")) == []
    # 401: rejected, and the private conversation is frozen with the text.
    await s.send("/query nobody", "")
    text = await rejected(s, "/whois nobody", "^WHOIS nobody$", ":{server} 401 superman nobody :No such nick/channel",
                          target="")
    assert text == "No such nick/channel"
    await s.wait(is_state("frozen", conversation_id="nobody", frozen="No such nick/channel"))
    # The 318 that most servers send after the 401 ends that WHOIS too: no noise in the server tab.
    await s.peer.send(f":{SERVER} 318 superman nobody :End of /WHOIS list.")
    await s.barrier("after-whois-401")
    assert s.seen(is_message(conversation_id="", message="nobody End of /WHOIS list.")) == []
    # Only once: a later stray 318 is shown as before.
    await s.peer.send(f":{SERVER} 318 superman nobody :End of /WHOIS list.")
    await s.wait(is_message(conversation_id="", message="nobody End of /WHOIS list."))


async def test_away_command(start: Start) -> None:
    s = await registered(start)
    assert await replied(s, "/away gone fishing", "^AWAY :gone fishing$",
                         ":{server} 306 superman :You have been marked as being away") == {
        "away": True, "reason": "You have been marked as being away"}
    assert await replied(s, "/away", "^AWAY$", ":{server} 305 superman :You are no longer marked as being away") == {
        "away": False, "reason": "You are no longer marked as being away"}


async def test_close_and_part(start: Start) -> None:
    s = await registered(start)
    # An active channel we are not on, as far as the server knows.
    await s.peer.send(":superman!s@h JOIN #foo")
    await s.wait(is_state("frozen", conversation_id="#foo", frozen=""))
    text = await rejected(s, "/close #foo", "^PART #foo$", ":{server} 442 superman #foo :You are not on that channel")
    assert text == "You are not on that channel"
    await s.wait(is_state("part", conversation_id="#foo", nick="superman"))
    assert await replied(s, "/part", "^PART #convos$", ":superman!s@h PART #convos") == {}
    await s.wait(is_state("part", conversation_id="#convos", nick="superman"))
    assert await s.conversations() == {}
    # A private conversation is closed without asking the server.
    await s.send("/query superwoman", "")
    assert await s.send("/close superwoman", "") == {}
    await s.wait(is_state("part", conversation_id="superwoman", nick="superman"))
    assert "PART superwoman" not in [line.raw for line in s.peer.received]


async def test_oper_command(start: Start) -> None:
    s = await registered(start)
    info = await replied(s, "/oper clark secret", "^OPER clark secret$",
                         ":{server} 381 superman :You are now an IRC operator", target="")
    assert info["server_op"] is True
    await s.wait(lambda f: is_state("info")(f) and f["info"].get("server_op") is True)
    assert await rejected(s, "/oper clark wrong", "^OPER clark wrong$",
                          ":{server} 464 superman :Password incorrect", target="") == "Password incorrect"


async def test_nick_command(start: Start) -> None:
    s = await registered(start)
    text = await rejected(s, "/nick foo!", "^NICK foo!$", ":{server} 432 superman foo! :Erroneous nickname", target="")
    assert text == "Erroneous nickname: foo!"
    text = await rejected(s, "/nick batman", "^NICK batman$", ":{server} 433 superman batman :Nickname is already in use",
                          target="")
    assert text == "Nickname is already in use: batman"
    # Consumed by /nick: no "already in use" server message, no fallback nick.
    await s.barrier("after-nick-errors")
    assert s.seen(is_message(type="error")) == []
    assert s.conn.info["nick"] == "superman"
    assert await replied(s, "/nick superduper", "^NICK superduper$", ":superman!s@h NICK :superduper",
                         target="") == {"nick": "superduper"}
    assert s.conn.info["nick"] == "superduper"
    assert "nick=superduper" in s.conn.url
    await s.wait(lambda f: is_state("info")(f) and f["info"].get("nick") == "superduper")
    # A nick change the server makes for us (services, a collision) is the nick we want from now on.
    await s.peer.send(":superduper!s@h NICK :Guest42")
    await s.wait(lambda f: is_state("info")(f) and f["info"].get("nick") == "Guest42")
    assert "nick=Guest42" in s.conn.url
    # Someone else changing nick is a nick_change; our own change is one too (after `info`).
    own = await s.wait(is_state("nick_change", old_nick="superduper"))
    assert own["new_nick"] == "Guest42"
    await s.peer.send(":batman!b@h NICK :robin")
    change = await s.wait(is_state("nick_change", old_nick="batman"))
    assert (change["old_nick"], change["new_nick"]) == ("batman", "robin")


async def test_list_command(start: Start) -> None:
    s = await registered(start)
    # The answer waits for the list (323), so the first /list is not "0 channels, send again".
    asked = asyncio.create_task(s.send("/list", ""))
    await s.peer.expect("^LIST$")
    await s.synced("list-asked")  # a slow server: the answer has to wait for it
    await s.peer.send(f":{SERVER} 321 superman Channel :Users  Name",
                      f":{SERVER} 322 superman #Test123 1 :[+nt]",
                      f":{SERVER} 322 superman #convos 42 :[+nt] some cool topic",
                      f":{SERVER} 322 superman #perl 7 :all about convos",
                      f":{SERVER} 323 superman :End of /LIST")
    assert await asked == {"n_conversations": 3, "done": True, "conversations": [
        {"conversation_id": "#convos", "name": "#convos", "n_users": 42, "topic": "some cool topic"},
        {"conversation_id": "#perl", "name": "#perl", "n_users": 7, "topic": "all about convos"},
        {"conversation_id": "#test123", "name": "#Test123", "n_users": 1, "topic": ""},
    ]}
    filtered = await s.send("/list /convos/", "")
    assert filtered["done"] is True
    assert [c["name"] for c in filtered["conversations"]] == ["#convos", "#perl"]  # names first, then topics
    assert [c["name"] for c in (await s.send("/list /CONVOS/n", ""))["conversations"]] == ["#convos"]
    assert [c["name"] for c in (await s.send("/list /convos/t", ""))["conversations"]] == ["#perl"]
    # From the cache: no second LIST until asked to refresh.
    assert [line.raw for line in s.peer.received].count("LIST") == 1
    # A list that takes longer than LIST_WAIT: the answer has what came so far, `done` false.
    refreshed = asyncio.create_task(s.send("/list refresh", ""))
    await s.peer.expect("^LIST$")
    await s.peer.send(f":{SERVER} 321 superman Channel :Users  Name", f":{SERVER} 322 superman #a 1 :")
    assert await refreshed == {"n_conversations": 1, "done": False, "conversations": [
        {"conversation_id": "#a", "name": "#a", "n_users": 1, "topic": ""}]}
    again = asyncio.create_task(s.send("/list", ""))  # waits for the rest, without a new LIST
    await s.peer.send(f":{SERVER} 322 superman #b 2 :", f":{SERVER} 323 superman :End of /LIST")
    assert [c["name"] for c in (await again)["conversations"]] == ["#b", "#a"]
    assert [line.raw for line in s.peer.received].count("LIST") == 2


async def test_topic_and_kick_commands(start: Start) -> None:
    s = await registered(start)
    assert await replied(s, "/topic", "^TOPIC #convos$", ":{server} 331 superman #convos :No topic is set") == {
        "conversation_id": "#convos", "topic": ""}
    assert await replied(s, "/topic", "^TOPIC #convos$", ":{server} 332 superman #convos :cool topic") == {
        "conversation_id": "#convos", "topic": "cool topic"}
    assert await replied(s, "/topic Some cool stuff", "^TOPIC #convos :Some cool stuff$",
                         ":superman!s@h TOPIC #convos :Some cool") == {"conversation_id": "#convos", "topic": "Some cool"}
    assert await replied(s, "/kick superwoman", "^KICK #convos superwoman$",
                         ":superman!s@h KICK #convos superwoman :superman") == {}
    kicked = await s.wait(is_state("part", conversation_id="#convos", nick="superwoman"))
    assert kicked["kicker"] == "superman"
    assert await rejected(s, "/kick superwoman", "^KICK #nope superwoman$",
                          ":{server} 403 superman #nope :No such channel", target="#nope") == "No such channel"


async def test_message_splitting(start: Start) -> None:
    s = await registered(start, env={"CONVOS_MAX_BULK_MESSAGE_SIZE": "5"})
    words = ["cool", "beans", "xyz" * 171, "a", "b", "c", ""]
    assert await s.send(" ".join(words)) == {}
    got = [line.text for line in await s.peer.expect_many("^PRIVMSG #convos ", 3)]
    assert got == ["cool beans", "xyz" * 170 + "x", "yz a b c"]
    assert len(got[1]) == 511
    line = "a" * 300 + " " + "b" * 213  # 514 characters
    assert await s.send(line + "\n" + line) == {}
    parts = [x.text for x in await s.peer.expect_many("^PRIVMSG #convos ", 4)]
    assert len(parts) == 4 and all(len(p) <= 512 for p in parts)
    assert " ".join(parts[:2]) == line and " ".join(parts[2:]) == line
    # Each line sent is also shown and logged as ours.
    await s.wait(is_message(conversation_id="#convos", message=parts[3]))
    assert [m["message"] for m in await s.logged("#convos")][-4:] == parts


async def test_long_messages_become_one_paste_link(start: Start) -> None:
    s = await registered(start)
    assert await s.send("one\ntwo") == {}
    assert [x.text for x in await s.peer.expect_many("^PRIVMSG #convos ", 2)] == ["one", "two"]
    assert await s.fails("\n\n") == "Cannot send empty message."
    for message in ("one\ntwo\nthree", "x" * 1500):
        # Pastes (spec §7.1) are being built alongside this: until they are, a clear error instead.
        try:
            result = await s.send(message)
        except InvalidInput as err:
            assert "paste" in err.errors[0].message.lower()
            continue
        assert result == {}
        link = await s.peer.expect("^PRIVMSG #convos ")
        assert re.fullmatch(r"https?://\S+/file/\d+/\w+", link.text), link.raw
    await s.synced("after-paste")
    sent = [x.text for x in s.peer.received if x.command == "PRIVMSG"]
    assert sent[:2] == ["one", "two"] and len(sent) <= 4  # never the lines themselves
    assert not any(text in ("three", "x" * 1500) or text.startswith("xxx") for text in sent)


async def test_own_join_asks_for_the_topic(start: Start) -> None:
    s = await registered(start)  # which saw `TOPIC #convos` after the JOIN echo of the rejoin
    await s.peer.send(":superman!s@h JOIN #foo")
    await s.peer.expect("^TOPIC #foo$")
    await s.peer.send(f":{SERVER} 332 superman #foo :the foo topic")
    conv = await s.wait(is_state("frozen", conversation_id="#foo", topic="the foo topic"))
    assert conv["frozen"] == ""
    # Someone else joining is a join event, not a TOPIC request.
    await s.peer.send(":batman!b@h JOIN #foo")
    await s.wait(is_state("join", conversation_id="#foo", nick="batman"))
    await s.synced("after-join")
    assert [x.raw for x in s.peer.received if x.command == "TOPIC"] == ["TOPIC #convos", "TOPIC #foo"]


# --- the connection itself ---------------------------------------------------------------------


def is_down(message: str) -> Pred:
    return is_state("connection", state="disconnected", message=message)


async def test_reconnect_backoff(start: Start) -> None:
    s = await registered(start)
    await s.peer.send("ERROR :Closing Link: 127.0.0.1 (Killed (batman (go away)))")
    await s.peer.close()
    error = await s.wait(is_message(type="error", conversation_id=""))
    assert error["message"] == "Closing Link: 127.0.0.1 (Killed (batman (go away)))"
    await s.wait(is_down("Connection closed. Reconnecting in 0.1s..."))
    await s.wait(is_state("frozen", conversation_id="#convos", frozen="Not connected."))
    assert s.conn.info["capabilities"] == {} and s.conn.info["authenticated"] is False

    # Failing again before 001: the delay doubles.
    second = await s.server.accept(T)
    await second.expect("^USER ")
    await second.close()
    await s.wait(is_down("Connection closed. Reconnecting in 0.2s..."))
    s.server.stop_listening()
    refused = await s.wait(lambda f: is_state("connection", state="disconnected")(f)
                           and f["message"].endswith("Reconnecting in 0.4s..."))
    assert refused["message"] != "Connection closed. Reconnecting in 0.4s..."  # the connect error says why
    await s.server.listen()

    # 001 resets the delay; the channel is joined again, and there is still one #convos.
    third = await s.server.accept(T)
    await third.register("superman")
    await third.expect("^JOIN #convos$")
    await third.transcript("join-convos")
    await s.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    await third.close()
    await s.wait(is_down("Connection closed. Reconnecting in 0.1s..."))
    await s.server.accept(T)
    downs = [f["message"] for f in s.seen(is_state("connection", state="disconnected"))]
    assert [m.rsplit(" ", 1)[-1] for m in downs] == ["0.1s...", "0.2s...", "0.4s...", "0.1s..."]
    assert list(await s.conversations()) == ["#convos"]


async def test_keep_alive_and_nick_reclaim(start: Start) -> None:
    s = await start(path="", query="tls=0&nick=nopeman", env={"CONVOS_IRC_PERIDOC_INTERVAL": "0.2"})
    await s.peer.expect("^NICK nopeman$")
    await s.peer.send(f":{SERVER} 433 * nopeman :Nickname is already in use")
    await s.peer.expect("^NICK nopeman_$")
    await s.peer.expect("^USER ")
    await s.peer.welcome("nopeman_")
    await s.wait(is_message(type="private", **{"from": SERVER}))
    # The periodic tick: a keep-alive PING to the server, and another try for the wanted nick.
    await s.peer.expect(f"^PING :?{SERVER}$")
    await s.peer.expect("^NICK nopeman$")
    assert "nick=nopeman&" in s.conn.url + "&"
    await s.peer.send(":nopeman_!n@h NICK :nopeman")
    await s.wait(lambda f: is_state("info")(f) and f["info"].get("nick") == "nopeman")
    await s.synced("got-nick")
    s.peer.inbox.pending.clear()
    await s.peer.expect_many(f"^PING :?{SERVER}$", 2)
    assert [x.raw for x in s.peer.inbox.pending if x.command == "NICK"] == []  # got it: no more tries
    assert s.seen(is_state("nick_change")) == []  # our own nick change is an info event


async def test_webirc_from_the_environment(start: Start) -> None:
    s = await start(path="", query="tls=0&nick=superman",
                    env={"CONVOS_WEBIRC_PASSWORD_LOCALHOST": "secret_passphrase"})
    reg = await s.peer.register("superman")
    hostname = socket.getnameinfo(("127.0.0.1", 0), 0)[0]  # reverse DNS of the user's address
    assert [x.raw for x in reg.lines[:2]] == [f"WEBIRC secret_passphrase convos {hostname} 127.0.0.1", "CAP LS 302"]
    assert [x.command for x in s.peer.received].count("WEBIRC") == 1


async def test_webirc_from_a_connection_profile(start: Start) -> None:
    s = await registered(start)
    assert "WEBIRC" not in [x.command for x in s.peer.received]
    res = await s.client.post("/api/connection-profiles", json={
        "url": f"irc://127.0.0.1:{s.server.port}", "webirc_password": "secret_passphrase"})
    assert res.status == 200, await res.text()
    assert await s.send("/reconnect", "") == {}
    await s.peer.expect("^QUIT ")
    again = await s.server.accept(T)
    reg = await again.register("superman")
    assert reg.lines[0].raw.startswith("WEBIRC secret_passphrase convos ")
    assert reg.lines[0].params[-1] == "127.0.0.1"
    assert reg.lines[1].raw == "CAP LS 302"
    assert [x.command for x in again.received].count("WEBIRC") == 1
