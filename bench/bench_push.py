#!/usr/bin/env python3
"""Web Push and IRC ingest: does pushing to 1,000 subscriptions delay the lines of IRC?

    python bench/bench_push.py [--users 100] [--devices 10] [--rate 50] [--others-rate 1] [--seconds 30] [--rounds 3]

Writes a CONVOS_HOME of `--users` users (user.json, one connection to a local IRC peer with
#chan, and a push.json with `--devices` devices each, with #chan set to push `all` messages):
100 x 10 = 1,000 subscriptions. Their endpoints are a local push service (a sink: an aiohttp
server over TLS with a CA made here, in its own process, that answers 201 to everything and
counts) on 127.0.0.1; the daemon trusts the CA through SSL_CERT_FILE and may reach 127.0.0.1
with CONVOS_PUSH_ALLOW_PRIVATE=1.

The peer (bench_ingest's FloodPeer) writes `--others-rate` lines/s to #chan of every other user
at the same moments, and `--rate` stamped lines/s to the first user's; every user's #chan
pushes to all its devices (coalesced: the first line at once, then one notification per 5 s
window with a count, so each window ends in a burst of 1,000 deliveries at once, encrypted per
device). The first user's websocket records each line's latency (IRC peer write to `message`
event), as bench_ingest does.

In one run, phases alternate: push off for every user (updatePushSettings enabled=false), then
on, `--rounds` times. Reported per phase: latency p50/p99/max, the pushes the sink received,
and the daemon's CPU per line.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "t"))

from bench_ingest import CHANNEL, Daemon, Expect, FloodPeer, Receiver, cpu_split, paced, pct
from bench_scale import write_json, write_profile
from push_stub import TestCA  # the test CA of the Web Push tests (t/push_stub.py)

PASSWORD = "benchmark-password"


def email_of(i: int) -> str:
    return f"p{i:04d}@example.com"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def device(i: int, n: int, sink_port: int) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {"id": f"d{i}x{n}", "endpoint": f"https://127.0.0.1:{sink_port}/push/{i}/{n}",
            "keys": {"p256dh": b64url(key), "auth": b64url(os.urandom(16))}, "name": f"device {n}",
            "browser": "Bench", "created": time.time(), "last_used": 0}


def write_home(home: Path, users: int, devices: int, irc_port: int, sink_port: int) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_json(home / "settings.json", {"default_connection": f"irc://127.0.0.1:{irc_port}/%23chan?tls=0"})
    password_hash = PasswordHasher().hash(PASSWORD)
    for i in range(users):
        email = email_of(i)
        user_dir = home / email
        (user_dir / "irc-localhost").mkdir(mode=0o700, parents=True)
        write_json(user_dir / "user.json", {
            "email": email, "highlight_keywords": [], "password": password_hash,
            "registered": "2026-01-01T00:00:00Z", "remote_address": "127.0.0.1",
            "roles": ["admin"] if i == 0 else [], "uid": str(i + 1), "unread": 0})
        write_json(user_dir / "irc-localhost" / "connection.json", {
            "connection_id": "irc-localhost",
            "conversations": [{"connection_id": "irc-localhost", "conversation_id": CHANNEL, "frozen": "", "info": {},
                               "name": CHANNEL, "notifications": 0, "password": "", "topic": "", "unread": 0}],
            "info": {}, "name": "localhost", "on_connect_commands": [],
            "service_accounts": ["chanserv", "nickserv"],
            "url": f"irc://127.0.0.1:{irc_port}?nick=p{i}&tls=0", "wanted_state": "connected"})
        write_json(user_dir / "push.json", {
            "devices": [device(i, n, sink_port) for n in range(devices)], "enabled": True, "content": True,
            "conversations": {f"irc-localhost/{CHANNEL}": "all"}})
    write_profile(home, irc_port, skip_queue=True)


# --- the push service: a sink in its own process --------------------------------------------------

SINK = r"""
import asyncio, ssl, sys
from aiohttp import web
count = 0
async def push(request):
    global count
    await request.read()
    count += 1
    return web.Response(status=201)
async def stats(request):
    return web.json_response({"count": count})
async def main(cert, key):
    app = web.Application()
    app.router.add_post("/push/{user}/{device}", push)
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context, backlog=1024)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


class Sink:
    def __init__(self, ca: TestCA, tmp: Path) -> None:
        self.ca = ca
        self.tmp = tmp
        self.port = 0
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Sink:
        cert, key = self.tmp / "sink-cert.pem", self.tmp / "sink-key.pem"
        cert.write_bytes(self.ca.cert_pem)
        key.write_bytes(self.ca.key_pem)
        self.proc = await asyncio.create_subprocess_exec(sys.executable, "-c", SINK, str(cert), str(key),
                                                         stdout=asyncio.subprocess.PIPE)
        assert self.proc.stdout is not None
        self.port = int((await asyncio.wait_for(self.proc.stdout.readline(), 20)).decode())
        return self

    async def count(self, http: aiohttp.ClientSession) -> int:
        async with http.get(f"https://127.0.0.1:{self.port}/stats", ssl=self.ca.client_context()) as res:
            return int((await res.json())["count"])

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await self.proc.wait()


# --- the run --------------------------------------------------------------------------------------


async def wait_joined(peer: FloodPeer, users: int, timeout: float = 120) -> None:
    async def wait() -> None:
        while sum(CHANNEL in c.channels for c in peer.clients if not c.closed.is_set()) < users:
            peer.changed.clear()
            await peer.changed.wait()

    await asyncio.wait_for(wait(), timeout)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--devices", type=int, default=10, help="per user (at most 10, the limit)")
    parser.add_argument("--rate", type=float, default=50.0, help="lines/s to #chan of the first user (measured)")
    parser.add_argument("--others-rate", type=float, default=1.0, help="lines/s to #chan of every other user")
    parser.add_argument("--seconds", type=float, default=30.0, help="per phase")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="convos-bench-push-")
    home = Path(tmp.name) / "home"
    ca = TestCA.make()
    (Path(tmp.name) / "ca.pem").write_bytes(ca.ca_pem)
    sink = await Sink(ca, Path(tmp.name)).start()
    peer = await FloodPeer().start()
    write_home(home, args.users, args.devices, peer.port, sink.port)
    daemon = await Daemon(home, env={"CONVOS_PUSH_ALLOW_PRIVATE": "1", "SSL_CERT_FILE": str(Path(tmp.name) / "ca.pem"),
                                     "CONVOS_CONNECT_DELAY": "1"}).start(timeout=120)
    sessions: list[aiohttp.ClientSession] = []
    http = aiohttp.ClientSession()
    try:
        await wait_joined(peer, args.users)
        for i in range(args.users):
            s = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            sessions.append(s)
            res = await s.post(f"{daemon.url}/api/user/login", json={"email": email_of(i), "password": PASSWORD})
            assert res.status == 200, await res.text()
        devices = (await (await sessions[0].get(f"{daemon.url}/api/push/subscriptions")).json())["devices"]
        assert len(devices) == args.devices, devices
        ws = await sessions[0].ws_connect(f"{daemon.url}/events", max_msg_size=0)
        rx = Receiver(ws)
        clients = [c for c in peer.clients if not c.closed.is_set() and CHANNEL in c.channels]
        me = [c for c in clients if c.nick == "p0"]
        others = [c for c in clients if c.nick != "p0"]
        print(f"{len(clients)} users in {CHANNEL}, {args.users * args.devices} subscriptions; "
              f"{args.rate:g} lines/s to the first user, {args.others_rate:g} to each other, "
              f"{args.seconds:g} s per phase", flush=True)

        seq = 0
        rows = []
        for round_ in range(args.rounds):
            for on in (False, True):
                await asyncio.gather(*(s.post(f"{daemon.url}/api/push/settings", json={"enabled": on})
                                       for s in sessions))
                n = int(args.rate * args.seconds)
                exp = Expect(seq, seq + n - 1)
                rx.on_line = exp
                pushed0 = await sink.count(http)
                cpu0 = sum(cpu_split(daemon.pid).values())
                n_others = int(args.others_rate * args.seconds)
                await asyncio.gather(paced(me, seq, n, args.rate),
                                     paced(others, 50_000_000 + seq, n_others, args.others_rate))
                await rx.until(exp.done, 60)
                cpu = sum(cpu_split(daemon.pid).values()) - cpu0
                await asyncio.sleep(1)  # the deliveries of the last window settle
                pushed = await sink.count(http) - pushed0
                seq += n
                lat = exp.latencies_ms
                lines = n + n_others * len(others)
                rows.append((round_ + 1, "on" if on else "off", pct(lat, 50), pct(lat, 99), max(lat), pushed,
                             cpu / lines * 1e6, exp.count == n and not exp.out_of_order))
                print(f"round {round_ + 1} push {'on ' if on else 'off'}: p50 {pct(lat, 50):.2f} ms, "
                      f"p99 {pct(lat, 99):.2f} ms, max {max(lat):.1f} ms; {pushed} pushes "
                      f"({pushed / args.seconds:.0f}/s); daemon CPU {rows[-1][6]:.0f} µs per line; "
                      f"{'all lines in order' if rows[-1][7] else '!! lines lost or reordered'}", flush=True)
        rx.keepalive.cancel()
        await ws.close()
        print("\n| round | push | p50 | p99 | max | pushes delivered | daemon CPU per line |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for r, mode, p50, p99, mx, pushed, cpu_us, _ok in rows:
            print(f"| {r} | {mode} | {p50:.2f} ms | {p99:.2f} ms | {mx:.1f} ms | {pushed} | {cpu_us:.0f} µs |")
        problems = daemon.problems()
        if problems:
            print("daemon warnings:", *problems[:10], sep="\n  ")
    finally:
        for s in sessions:
            await s.close()
        await http.close()
        await daemon.stop()
        await peer.stop()
        await sink.stop()
        tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
