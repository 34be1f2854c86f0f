"""A small native IRC client for the listener's tests (asyncio streams, CAP, SASL PLAIN, PASS), and
the fixtures `convos` (the app with the listener, superman in #convos on ngircd) and `native`."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import free_port
from events_helper import Events, is_state
from irc_peer import IrcLine, LineInbox, Matcher, decode_line, parse_line

from convos.store.jsonfile import atomic_write, encode

EMAIL, PASSWORD = "superman@example.com", "longenough"


class Native:
    """What a client such as WeeChat does on the wire, scripted: `expect` takes the first match."""

    def __init__(self, port: int, *, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None,
                 name: str = "native") -> None:
        self.host, self.port, self.tls = host, port, tls
        self.inbox = LineInbox(name)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def connect(self) -> Native:
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, ssl=self.tls), 5)
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.reader is not None
        try:
            async for data in self.reader:
                line = parse_line(decode_line(data))
                if line.raw:
                    self.inbox.put(line)
        except (ConnectionError, ValueError):
            pass
        finally:
            self.inbox.close()

    async def send(self, *lines: str) -> None:
        assert self.writer is not None
        for line in lines:
            self.writer.write(line.encode() + b"\r\n")
        await self.writer.drain()

    async def expect(self, matcher: Matcher, timeout: float = 10) -> IrcLine:
        return await self.inbox.expect(matcher, timeout)

    async def closed(self, timeout: float = 10) -> None:
        assert self._task is not None
        await asyncio.wait_for(asyncio.shield(self._task), timeout)

    async def register(self, nick: str = "me", *, password: str | None = None, sasl: tuple[str, str] | None = None,
                       caps: tuple[str, ...] = (), user: str = "u", before_end: tuple[str, ...] = ()) -> IrcLine:
        """Sign in and register; returns 001 (or the line that refused it: 464, 904, ERROR).
        `before_end`: lines sent after SASL, before CAP END (BOUNCER BIND)."""
        if self.writer is None:
            await self.connect()
        wanted = list(caps) + (["sasl"] if sasl else [])
        if wanted:
            await self.send("CAP LS 302")
            await self.expect(lambda m: m.command == "CAP" and m.params[1] == "LS")
            await self.send(f"CAP REQ :{' '.join(wanted)}")
            await self.expect(lambda m: m.command == "CAP" and m.params[1] in ("ACK", "NAK"))
        if password is not None:
            await self.send(f"PASS {password}")
        await self.send(f"NICK {nick}", f"USER {user} 0 * :native client")
        if sasl:
            await self.send("AUTHENTICATE PLAIN")
            await self.expect("AUTHENTICATE +")
            payload = base64.b64encode(f"\0{sasl[0]}\0{sasl[1]}".encode()).decode()
            await self.send(f"AUTHENTICATE {payload}")
            result = await self.expect(lambda m: m.command in ("903", "904", "ERROR"))
            if result.command != "903":
                return result
        await self.send(*before_end)
        if wanted:
            await self.send("CAP END")
        return await self.expect(lambda m: m.command in ("001", "464", "ERROR"))

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


@pytest.fixture
async def convos(make_client: Any, home: Any, ircd: Any) -> AsyncIterator[Any]:
    """The app with the listener on a free loopback port; superman is in #convos on ngircd."""
    atomic_write(home / "settings.json", encode({"default_connection": f"irc://127.0.0.1:{ircd.port}/%23convos?tls=0"}))
    port = free_port()
    client = await make_client({"CONVOS_CONNECT_DELAY": "0.1", "CONVOS_IRC_LISTEN": f"irc://127.0.0.1:{port}"})
    client.listen_port = port
    res = await client.post("/api/user/register", json={"email": EMAIL, "password": PASSWORD})
    assert res.status == 200
    events = Events(await client.ws_connect("/events"))
    await events.ready()
    res = await client.post("/api/connection/irc-localhost", json={"wanted_state": "connected"})
    assert res.status == 200, await res.text()
    await events.wait(is_state("frozen", conversation_id="#convos", frozen=""))
    client.events = events
    yield client
    await events.ws.close()


@pytest.fixture
async def native(convos: Any) -> AsyncIterator[Any]:
    made: list[Native] = []

    def make(name: str = "native") -> Native:
        n = Native(convos.listen_port, name=name)
        made.append(n)
        return n

    yield make
    for n in made:
        await n.close()
