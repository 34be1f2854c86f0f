#!/usr/bin/env python3
"""Fan-out: one user with many open websockets while IRC lines arrive; another user's GET /api/user.

    python bench/bench_fanout.py [--sockets 200] [--lines 3000] [--deflate]

Starts `bin/convos daemon` on a free port whose default connection is bench_ingest's local IRC
peer, registers `bench@example.com` (the first user), opens --sockets websockets as that user
(raw sockets after the upgrade, which read and drop what arrives, plus one aiohttp client that
waits for the last line), registers a second user and asks GET /api/user as them in a loop,
one request after the other, while the peer writes --lines PRIVMSG lines to #chan.

Prints the latency of the second user's requests (max, p99, p50) and how long the lines took
to reach the websocket. Issue 10 measured up to 5 s with 200 websockets.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import CHANNEL, Daemon, FloodPeer, chat_lines

EMAIL = "bench@example.com"
OTHER = "other@example.com"
PASSWORD = "benchmark-password"


async def raw_socket(host: str, port: int, cookie: str, deflate: bool, got: list[int]) -> asyncio.StreamWriter:
    """A websocket on /events whose frames are read and dropped without parsing them."""
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    extra = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if deflate else ""
    writer.write((f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}Cookie: {cookie}\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head

    async def drain() -> None:
        while chunk := await reader.read(1 << 16):
            got[0] += len(chunk)

    asyncio.get_running_loop().create_task(drain())
    return writer


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sockets", type=int, default=200)
    ap.add_argument("--lines", type=int, default=3000)
    ap.add_argument("--deflate", action="store_true", help="offer permessage-deflate, as browsers do")
    args = ap.parse_args()

    peer = await FloodPeer().start()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "settings.json").write_bytes(orjson.dumps({
            "default_connection": f"irc://127.0.0.1:{peer.port}/{CHANNEL.replace('#', '%23')}?tls=0",
            "open_to_public": True}))
        daemon = await Daemon(home).start()
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as alice, \
                    aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
                res = await alice.post(f"{daemon.url}/api/user/register", json={"email": EMAIL, "password": PASSWORD})
                assert res.status == 200, await res.text()
                client = await peer.accept()
                await client.wait_joined({CHANNEL})
                res = await other.post(f"{daemon.url}/api/user/register", json={"email": OTHER, "password": PASSWORD})
                assert res.status == 200, await res.text()
                cookie = "; ".join(f"{c.key}={c.value}" for c in alice.cookie_jar)
                got = [0]
                writers = [await raw_socket("127.0.0.1", daemon.port, cookie, args.deflate, got)
                           for _ in range(args.sockets - 1)]
                ws = await alice.ws_connect(f"{daemon.url}/events", compress=15 if args.deflate else 0)
                last = f"b{args.lines - 1:08d}"

                async def until_last() -> None:
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT and last in msg.data:
                            return

                latencies: list[float] = []
                done = asyncio.Event()

                async def ask() -> None:
                    while not done.is_set():
                        t0 = time.perf_counter()
                        async with other.get(f"{daemon.url}/api/user") as res:
                            await res.read()
                        latencies.append(time.perf_counter() - t0)

                asker = asyncio.create_task(ask())
                started = time.perf_counter()
                await client.flood(chat_lines(0, args.lines), chunk=100)
                await asyncio.wait_for(until_last(), 300)
                took = time.perf_counter() - started
                done.set()
                await asker
                await ws.close()
                for w in writers:
                    w.close()
            lat = sorted(latencies)
            cut = sum("Closing a websocket" in line for line in daemon.lines)
            print(f"{args.sockets} websockets ({'deflate' if args.deflate else 'plain'}), {args.lines} lines: "
                  f"last line after {took:.2f} s; {got[0] / 1e6:.1f} MB read by the raw sockets; "
                  f"{cut} sockets closed by the daemon (slow or too many events waiting)")
            print(f"GET /api/user of another user, {len(lat)} requests: max {lat[-1] * 1000:.0f} ms, "
                  f"p99 {lat[int(len(lat) * 0.99)] * 1000:.0f} ms, p50 {statistics.median(lat) * 1000:.1f} ms")
        finally:
            await daemon.stop()
            await peer.stop()


if __name__ == "__main__":
    asyncio.run(main())
