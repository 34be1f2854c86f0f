#!/usr/bin/env python3
"""Log scans of one user against another user's login and notifications, and the daemon's memory.

    python bench/bench_scans.py [--conversations 15500] [--searches 40]

Writes a CONVOS_HOME whose user bench@example.com has one connection with --conversations
conversations, each with a month of log lines, starts `bin/convos daemon` on it (no IRC),
registers a second user, then fires --searches concurrent searches as the first user while the
second logs in and reads their notifications. Prints how long those took, what the searches
answered (200 or 429), and the daemon's RSS before, at its peak and after.

Issue 10 measured, with 15,500 conversations: 40 searches made another user's login take 78 s,
60 made /api/notifications take 123 s, and RSS went from 75 to 302 MiB and stayed there.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
import orjson
from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import Daemon, rss_mb

EMAIL = "bench@example.com"
OTHER = "other@example.com"
PASSWORD = "benchmark-password"
CONNECTION = "irc-bench"


def write_home(home: Path, conversations: int, months: int) -> None:
    conn_dir = home / EMAIL / CONNECTION
    convs = []
    for m in range(months):
        year, month = divmod(2026 * 12 + 10 - m, 12)
        month += 1
        (conn_dir / f"{year}" / f"{month:02d}").mkdir(parents=True, exist_ok=True)
    for i in range(conversations):
        cid = f"#chan{i:05d}"
        convs.append({"conversation_id": cid, "name": cid})
        for m in range(months):
            year, month = divmod(2026 * 12 + 10 - m, 12)
            month += 1
            lines = "".join(f"{year}-{month:02d}-{1 + n % 28:02d}T12:{n % 60:02d}:00 0 <nick{n % 7}> message {n} in "
                            f"{cid} about the build and the release\n" for n in range(10))
            (conn_dir / f"{year}" / f"{month:02d}" / f"{cid}.log").write_text(lines)
    (conn_dir / "connection.json").write_bytes(orjson.dumps({
        "connection_id": CONNECTION, "url": "irc://irc.example.com:6667?tls=0", "wanted_state": "disconnected",
        "conversations": convs}))
    (home / EMAIL / "user.json").write_bytes(orjson.dumps({
        "email": EMAIL, "password": PasswordHasher().hash(PASSWORD), "uid": "1", "roles": ["admin"],
        "registered": "2026-01-01T00:00:00Z", "highlight_keywords": [], "unread": 0}))
    (home / "settings.json").write_bytes(orjson.dumps({"open_to_public": True}))


async def sample(pid: int, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        out.append(rss_mb(pid))
        try:
            await asyncio.wait_for(stop.wait(), 0.2)
        except TimeoutError:
            pass


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=15500)
    ap.add_argument("--searches", type=int, default=40)
    ap.add_argument("--months", type=int, default=3, help="months of logs per conversation (3)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        write_home(home, args.conversations, args.months)
        daemon = await Daemon(home, {"CONVOS_SKIP_CONNECT": "1", "CONVOS_DEFAULT_SEARCH_AFTER": str(10 * 365 * 86400)}
                              ).start(timeout=120)
        try:
            no_limit = aiohttp.ClientTimeout(total=None)
            async with aiohttp.ClientSession(daemon.url, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             timeout=no_limit) as user, \
                    aiohttp.ClientSession(daemon.url, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          timeout=no_limit) as other:
                res = await user.post("/api/user/login", json={"email": EMAIL, "password": PASSWORD})
                assert res.status == 200, await res.text()
                res = await user.get("/api/user", params={"conversations": "1"})
                assert len((await res.json())["conversations"]) == args.conversations
                res = await other.post("/api/user/register", json={"email": OTHER, "password": PASSWORD})
                assert res.status == 200, await res.text()
                other.cookie_jar.clear()
                before = rss_mb(daemon.pid)
                stop = asyncio.Event()
                rss: list[float] = []
                sampler = asyncio.create_task(sample(daemon.pid, stop, rss))

                async def search(i: int) -> int:
                    async with user.get("/api/search", params={"match": f"xylophonist{i}"}) as res:
                        await res.read()
                        return res.status

                started = time.perf_counter()
                searches = [asyncio.create_task(search(i)) for i in range(args.searches)]
                await asyncio.sleep(0.5)  # a benchmark, not a test: let the searches start
                t0 = time.perf_counter()
                res = await other.post("/api/user/login", json={"email": OTHER, "password": PASSWORD})
                login = time.perf_counter() - t0
                assert res.status == 200, await res.text()
                t0 = time.perf_counter()
                res = await other.get("/api/notifications")
                notes = time.perf_counter() - t0
                assert res.status == 200
                statuses = Counter(await asyncio.gather(*searches))
                took = time.perf_counter() - started
                stop.set()
                await sampler
                await asyncio.sleep(2)
                after = rss_mb(daemon.pid)
            print(f"{args.conversations} conversations with {args.months} months of logs, {args.searches} concurrent searches by one user: "
                  f"answers {dict(statuses)} in {took:.1f} s")
            print(f"another user meanwhile: login {login:.2f} s, /api/notifications {notes:.2f} s")
            print(f"daemon RSS: {before:.0f} MiB before, {max(rss):.0f} MiB at the peak, {after:.0f} MiB after")
        finally:
            await daemon.stop()


if __name__ == "__main__":
    asyncio.run(main())
