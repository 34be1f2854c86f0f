#!/usr/bin/env python3
"""The IRC listener: many native clients attached to one connection while lines arrive.

    python bench/bench_listen.py [--clients 100] [--rate 1000] [--seconds 5]

Starts `bin/convos daemon` with CONVOS_IRC_LISTEN on a free loopback port, its default
connection on bench_ingest's local IRC peer; registers users (25 clients each: an account may
have 32); measures the daemon's RSS, attaches --clients native clients (PASS, NICK, USER; each
reads every line), measures the RSS again (the
cost of one client is the difference over --clients); then the peer writes stamped PRIVMSG lines
at --rate a second for --seconds. Each client notes how long each line took from the peer's
write to its own read. The same run's baseline is the browser's websocket (/events) of the same
user, which gets the same lines through the same event bus.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import CHANNEL, Daemon, FloodPeer, paced

EMAIL = "bench@example.com"
PASSWORD = "benchmark-password"
STAMP = re.compile(rb" t(\d+) ")
PER_USER = 25


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentiles(values: list[float]) -> str:
    v = sorted(values)
    if not v:
        return "no samples"
    return (f"p50 {statistics.median(v) * 1000:.1f} ms, p99 {v[int(len(v) * 0.99)] * 1000:.1f} ms, "
            f"max {v[-1] * 1000:.1f} ms ({len(v)} lines)")


class Finish:
    """Set once every client read the last line."""

    def __init__(self, clients: int, last: bytes) -> None:
        self.left = clients
        self.last = last
        self.event = asyncio.Event()

    def saw(self, line: bytes) -> None:
        if self.last in line:
            self.left -= 1
            if self.left <= 0:
                self.event.set()


async def native_client(port: int, email: str, latencies: list[float], attached: asyncio.Event, n: int,
                        finish: Finish) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(f"PASS {email}:{PASSWORD}\r\nNICK c{n}\r\nUSER c{n} 0 * :bench\r\n".encode())

    async def read() -> None:
        async for line in reader:
            if b" 366 " in line:
                attached.set()
            m = STAMP.search(line)
            if m:
                latencies.append((time.perf_counter_ns() - int(m.group(1))) / 1e9)
                finish.saw(line)

    asyncio.get_running_loop().create_task(read())
    return writer


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--seconds", type=float, default=5)
    args = ap.parse_args()

    peer = await FloodPeer().start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "settings.json").write_bytes(orjson.dumps({
            "default_connection": f"irc://127.0.0.1:{peer.port}/{CHANNEL.replace('#', '%23')}?tls=0",
            "open_to_public": True}))
        daemon = await Daemon(home, {"CONVOS_IRC_LISTEN": f"irc://127.0.0.1:{port}"}).start()
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
                res = await browser.post(f"{daemon.url}/api/user/register", json={"email": EMAIL, "password": PASSWORD})
                assert res.status == 200, await res.text()
                ircs = [await peer.accept()]
                await ircs[0].wait_joined({CHANNEL})
                # CLIENTS_PER_USER clients per account at most: more accounts, each on the peer.
                emails = [EMAIL]
                for i in range(1, -(-args.clients // PER_USER)):
                    async with aiohttp.ClientSession() as other:
                        email = f"bench{i}@example.com"
                        res = await other.post(f"{daemon.url}/api/user/register", json={"email": email, "password": PASSWORD})
                        assert res.status == 200, await res.text()
                    ircs.append(await peer.accept())
                    await ircs[-1].wait_joined({CHANNEL})
                    emails.append(email)
                ws = await browser.ws_connect(f"{daemon.url}/events")
                await ws.send_json({"method": "ping", "id": "ready"})  # subscribed once it answers
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT and '"pong"' in msg.data:
                        break
                before = rss_kib(daemon.pid)
                latencies: list[list[float]] = [[] for _ in range(args.clients)]
                count = int(args.rate * args.seconds)
                last = f"b{count - 1:08d}"
                finish = Finish(args.clients, last.encode())
                writers = []
                for n in range(args.clients):
                    attached = asyncio.Event()
                    writers.append(await native_client(port, emails[n // PER_USER], latencies[n], attached, n, finish))
                    await asyncio.wait_for(attached.wait(), 30)
                after = rss_kib(daemon.pid)

                ws_latencies: list[float] = []

                async def websocket() -> None:
                    async for msg in ws:
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            return
                        m = STAMP.search(msg.data.encode())
                        if m:
                            ws_latencies.append((time.perf_counter_ns() - int(m.group(1))) / 1e9)
                        if last in msg.data:
                            return

                reader = asyncio.create_task(websocket())
                await paced(ircs, 0, count, args.rate)
                await asyncio.wait_for(reader, 120)
                try:
                    await asyncio.wait_for(finish.event.wait(), 60)
                except TimeoutError:
                    print(f"{finish.left} clients did not get the last line in time")
                for w in writers:
                    w.close()
                await ws.close()
            every = [x for xs in latencies for x in xs]
            print(f"{args.clients} native clients attached: daemon RSS {before} KiB -> {after} KiB, "
                  f"{(after - before) / max(args.clients, 1):.0f} KiB a client")
            print(f"{count} lines at {args.rate:.0f}/s, to every client ({len(every)} of "
                  f"{count * args.clients} read): {percentiles(every)}")
            print(f"baseline, the browser's websocket in the same run: {percentiles(ws_latencies)}")
        finally:
            await daemon.stop()
            await peer.stop()


if __name__ == "__main__":
    asyncio.run(main())
