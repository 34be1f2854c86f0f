"""State changes answer at once: connecting, disconnecting and IRC replies happen after the answer.

The servers here answer only when a test tells them to, so an answer that waited for the
network could not arrive before they do: each answer is checked while they are still silent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import core_of, register
from events_helper import Events, is_message, is_state
from irc_peer import ScriptedIrcPeer

from convos.store.jsonfile import atomic_write, decode, encode

# Far below every network timeout in play (CONVOS_CONNECT_TIMEOUT and the TLS handshake's 60 s,
# 60 s for a NICK reply): an answer that waited for the network would come after this.
ANSWER_WITHIN = 10
T = 5  # for what happens at once
SERVER = "irc.example.com"  # the scripted peer's name


class SilentServer:
    """Accepts TCP connections and never says a word (a TLS handshake to it hangs) until released."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.port = 0
        self.accepted = 0
        self.closed_by_client = 0
        self._changed = asyncio.Event()
        self._release = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    async def start(self) -> SilentServer:
        self._server = await asyncio.start_server(self._client, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.accepted += 1
        self._changed.set()
        try:
            eof = asyncio.ensure_future(reader.read())  # a ClientHello, then nothing: wait for EOF
            release = asyncio.ensure_future(self._release.wait())
            await asyncio.wait({eof, release}, return_when=asyncio.FIRST_COMPLETED)
            if eof.done():
                self.closed_by_client += 1
                self._changed.set()
            eof.cancel()
            release.cancel()
        except ConnectionError:
            pass
        finally:
            writer.close()
            self._handlers.discard(task)

    async def until(self, check: Any, timeout: float = T) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                self._changed.clear()
                await self._changed.wait()

    def release(self) -> None:
        """Close every connection: a pending TLS handshake fails at once."""
        self._release.set()

    async def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.close()
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=T)


@pytest.fixture
async def silent() -> AsyncIterator[SilentServer]:
    # Another loopback address, so the connection gets its own id (irc-127-0-0-2) next to irc-localhost.
    server = await SilentServer("127.0.0.2").start()
    try:
        yield server
    finally:
        await server.stop()


def conn_of(client: TestClient, email: str, connection_id: str) -> Any:
    user = core_of(client).get_user(email)
    return user.get_connection(connection_id) if user else None


async def answers(*requests: Any) -> list[tuple[int, Any]]:
    """Send requests at the same time; each answers well before any network timeout."""

    async def one(request: Any) -> tuple[int, Any]:
        res = await request
        return res.status, await res.json()

    async with asyncio.timeout(ANSWER_WITHIN):
        return list(await asyncio.gather(*(one(r) for r in requests)))


async def test_concurrent_state_changes_answer_before_the_network(
        make_client: Any, home: Any, anon: Any, irc_peer: ScriptedIrcPeer, silent: SilentServer) -> None:
    peer_url = f"irc://127.0.0.1:{irc_peer.port}?tls=0&nick=superman"
    atomic_write(home / "settings.json", encode({"default_connection": peer_url}))
    client = await make_client({"CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1",
                                "CONVOS_CONNECT_TIMEOUT": "120", "CONVOS_GENERATE_CERT": "0"})
    await register(client, "superman@example.com")  # connects irc-localhost to the scripted peer
    events = Events(await client.ws_connect("/events"))
    await events.ready()
    peer = await irc_peer.accept(T)
    await peer.register("superman")
    await events.wait(is_message(type="private", **{"from": SERVER}))  # the welcome
    core = core_of(client)
    core.settings.default_connection = ""
    core.settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")

    silent_url = f"irc://127.0.0.2:{silent.port}?tls=1&tls_verify=0"
    for http in (client, lois):
        res = await http.post("/api/connections", json={"url": silent_url, "wanted_state": "disconnected"})
        assert (res.status, (await res.json())["connection_id"]) == (200, "irc-127-0-0-2")

    # A new nick waits for the server's NICK; a connect waits for a TLS handshake nobody answers.
    got = await answers(
        client.post("/api/connection/irc-localhost",
                    json={"wanted_state": "connected", "url": peer_url.replace("superman", "supergirl")}),
        client.post("/api/connection/irc-127-0-0-2", json={"wanted_state": "connected"}),
        lois.post("/api/connection/irc-127-0-0-2", json={"wanted_state": "connected"}),
    )
    assert [status for status, _ in got] == [200, 200, 200]
    assert [body["wanted_state"] for _, body in got] == ["connected"] * 3
    assert got[0][1]["info"]["nick"] == "superman"  # not before the server says so
    # The network steps started after the answers and are still waiting for the servers.
    await peer.expect("^NICK supergirl$")
    await silent.until(lambda: silent.accepted == 2)
    assert conn_of(client, "superman@example.com", "irc-localhost").info["nick"] == "superman"
    assert conn_of(client, "superman@example.com", "irc-127-0-0-2").state == "connecting"
    assert conn_of(client, "lois@example.com", "irc-127-0-0-2").state == "connecting"
    assert silent.closed_by_client == 0

    # Stopping those connects and deleting a user answer at once too.
    got = await answers(
        client.post("/api/connection/irc-127-0-0-2", json={"wanted_state": "disconnected"}),
        lois.delete("/api/user/lois@example.com"),
    )
    assert got == [(200, got[0][1]), (200, {"message": "Deleted."})]
    assert got[0][1]["wanted_state"] == "disconnected"
    assert core.get_user("lois@example.com") is None
    # In the background both sockets are closed, and the websocket reports the outcome.
    await silent.until(lambda: silent.closed_by_client == 2)
    await events.wait(is_state("connection", connection_id="irc-127-0-0-2", state="disconnected",
                               message="Disconnected."))
    assert conn_of(client, "superman@example.com", "irc-127-0-0-2").state == "disconnected"

    # The server finally accepts the nick: the websocket says so.
    await peer.send(":superman!superman@127.0.0.1 NICK :supergirl")
    await events.wait(lambda f: is_state("info")(f) and f["connection_id"] == "irc-localhost"
                      and f["info"].get("nick") == "supergirl")
    assert silent.accepted == 2  # nothing connected again after the disconnect
    await events.ws.close()


async def test_a_removed_connection_says_goodbye_without_touching_a_new_one(
        make_client: Any, home: Any, irc_peer: ScriptedIrcPeer) -> None:
    """The QUIT goes out in the background: meanwhile a connection of the same id may be made again."""
    peer_url = f"irc://127.0.0.1:{irc_peer.port}?tls=0&nick=superman"
    atomic_write(home / "settings.json", encode({"default_connection": peer_url}))
    client = await make_client({"CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1"})
    await register(client, "superman@example.com")
    events = Events(await client.ws_connect("/events"))
    await events.ready()
    peer = await irc_peer.accept(T)
    await peer.register("superman")
    await events.wait(is_message(type="private", **{"from": SERVER}))
    core = core_of(client)
    old = conn_of(client, "superman@example.com", "irc-localhost")

    res = await client.delete("/api/connection/irc-localhost")
    assert (res.status, await res.json()) == (200, {})
    await events.wait(is_state("connection_removed", connection_id="irc-localhost"))
    res = await client.post("/api/connections", json={"url": peer_url, "wanted_state": "disconnected"})
    assert res.status == 200
    new = conn_of(client, "superman@example.com", "irc-localhost")
    assert new is not old
    await peer.expect("^QUIT ")
    await peer.expect_closed()
    await core.connections.state_settled(old)
    assert (old.state, new.state) == ("disconnected", "disconnected")

    # The old connection's goodbye reached neither the browser nor the new connection's files.
    await events.send(method="ping", id="after-quit")
    await events.wait(lambda f: f.get("event") == "pong" and f.get("id") == "after-quit")
    assert [f for f in events.seen if is_state("connection")(f) and f["state"] != "connected"
            and f["state"] != "connecting"] == []
    await core.store.flush_logs()
    res = await client.get("/api/connection/irc-localhost/messages")
    assert (res.status, (await res.json())["messages"]) == (200, [])
    stored = decode((home / "superman@example.com" / "irc-localhost" / "connection.json").read_bytes())
    assert stored["wanted_state"] == "disconnected"
    await events.ws.close()


async def test_webhook_lines_go_out_after_the_answer_in_order(make_client: Any, home: Any,
                                                              irc_peer: ScriptedIrcPeer) -> None:
    """A webhook queues its IRC line: the answer says it is on its way, the lines follow in order."""
    bot = "bot@example.com"
    (home / bot).mkdir(parents=True)
    (home / bot / "bot.yaml").write_text(f"""\
actions:
- class: Convos::Plugin::Bot::Action::Github
  repositories:
    'convos-chat/convos':
    - events: [star]
      to: 'irc-localhost/#convos'
connections:
- url: 'irc://127.0.0.1:{irc_peer.port}?tls=0&nick=bot'
""")
    client = await make_client({"CONVOS_BOT_EMAIL": bot, "CONVOS_BOT_ALLOW_STANDALONE": "1",
                                "CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1",
                                "CONVOS_WEBHOOK_NETWORKS": "127.0.0.0/8"})
    peer = await irc_peer.accept(T)
    await peer.register("bot")
    conn = conn_of(client, bot, "irc-localhost")
    async with asyncio.timeout(T):
        while not (conn.client and conn.client.registered):
            await peer.send("PING :registered")
            await peer.expect("^PONG :?registered$")

    def star(login: str) -> dict[str, Any]:
        return {"action": "created", "repository": {"full_name": "convos-chat/convos", "name": "convos"},
                "sender": {"login": login, "html_url": f"https://github.com/{login}"}}

    headers = {"X-GitHub-Event": "star"}
    for i in range(5):
        got = await answers(client.post("/api/webhook/github", json=star(f"fan{i}"), headers=headers))
        assert got == [(200, {"status": [{"connection_id": "irc-localhost", "conversation_id": "#convos",
                                          "error": ""}]})]
    lines = await peer.expect_many("^PRIVMSG #convos ", 5)
    assert [line.text.split()[0] for line in lines] == [f"fan{i}" for i in range(5)]
