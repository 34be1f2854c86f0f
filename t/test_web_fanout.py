"""One user's many browsers do not hold up everyone else (issue 10, Low): while IRC lines fan out
to 200 websockets of one user, another user's GET /api/user still answers."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from pathlib import Path
from typing import Any

import aiohttp
from irc_peer import ScriptedIrcPeer

from convos.store.jsonfile import atomic_write, encode

T = 30
SOCKETS = 200
LINES = 2000
TEXT = "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor"


async def raw_websocket(port: int, cookie: str, got: list[int]) -> tuple[asyncio.StreamWriter, asyncio.Task[None]]:
    """/events, read and dropped without parsing frames: 200 browsers that keep up, for little CPU here."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Cookie: {cookie}\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head

    async def drain() -> None:
        while chunk := await reader.read(1 << 16):
            got[0] += len(chunk)

    return writer, asyncio.create_task(drain())


async def test_fan_out_to_many_websockets_leaves_time_for_others(
        daemon: Any, tmp_path: Path, irc_peer: ScriptedIrcPeer) -> None:
    home = tmp_path / "home"
    home.mkdir()
    url = f"irc://127.0.0.1:{irc_peer.port}/%23convos?tls=0&nick=alice"
    atomic_write(home / "settings.json", encode({"default_connection": url, "open_to_public": True}))
    d = await daemon(home, {"CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1"})
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(d.url, cookie_jar=jar) as alice, \
            aiohttp.ClientSession(d.url, cookie_jar=aiohttp.CookieJar(unsafe=True)) as bob:
        res = await alice.post("/api/user/register", json={"email": "alice@example.com", "password": "longenough"})
        assert res.status == 200, await res.text()
        peer = await irc_peer.accept(T)
        await peer.register("alice")
        await peer.expect("JOIN #convos", T)
        await peer.transcript("join-convos")
        res = await bob.post("/api/user/register", json={"email": "bob@example.com", "password": "longenough"})
        assert res.status == 200, await res.text()

        cookie = "; ".join(f"{c.key}={c.value}" for c in jar)
        got = [0]
        raw = [await raw_websocket(d.port, cookie, got) for _ in range(SOCKETS - 1)]
        ws = await alice.ws_connect("/events")
        await ws.send_json({"method": "ping", "id": "ready"})
        async for msg in ws:  # subscribed: no event from here on is missed
            if msg.type == aiohttp.WSMsgType.TEXT and '"pong"' in msg.data:
                break

        latencies: list[float] = []
        done = asyncio.Event()

        async def ask() -> None:
            while not done.is_set():
                started = time.perf_counter()
                async with bob.get("/api/user") as res:
                    assert res.status == 200
                    await res.read()
                latencies.append(time.perf_counter() - started)

        last = f"line {LINES - 1} "

        async def until_last() -> None:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT and last in msg.data:
                    return
            raise AssertionError("the websocket closed before the last line")

        asker = asyncio.create_task(ask())
        try:
            for i in range(0, LINES, 100):
                await peer.send(*(f":batman!b@h PRIVMSG #convos :line {n} {TEXT}" for n in range(i, i + 100)))
            await asyncio.wait_for(until_last(), T)
        finally:
            done.set()
            await asker
            await ws.close()
            for writer, task in raw:
                writer.close()
                task.cancel()
    lat = sorted(latencies)
    # Issue 10 measured up to 5 s with 200 websockets (4.7 to 11 s here): each socket's batch
    # went out in one go. Now the sockets take turns (1 s and less here, on a loaded machine).
    assert lat[-1] < 2.0, lat[-5:]
    assert got[0] > 0
