#!/usr/bin/env python3
"""Memory: RSS of an idle daemon, and RSS growth per extra connected user with 10 channels each.

    python bench/bench_memory.py [--users 20] [--channels 10] [--clones 100]

Every figure is VmRSS from /proc/<pid>/status of a real `bin/convos daemon`, read once the
daemon is quiet (past the 2 s debounced saves, and two readings 0.5 s apart within 64 KiB).
The IRC server is the local peer of bench_ingest.py: it answers registration with 001-005 and
each JOIN with the JOIN echo, 353 and 366.

1. No users: a fresh daemon with an empty CONVOS_HOME.
2. Live growth, in that same process: register the first user over the REST API (its default
   connection joins #c0), join #c1..#c9 through the websocket (`/join`), then the same for
   `--users` more users. Growth per user = (RSS after all - RSS after the first) / users.
   Registration hashes the password with Argon2id (64 MiB), so this includes what that leaves.
3. After a restart: the same files, started again, once with only the first user and once with
   all of them; every connection reconnects and rejoins its channels. Per user as above. Then
   once more with `--clones` users copied on disk from the first one (a steadier slope).

Baselines in the same run: a bare interpreter, one that imported aiohttp and pydle, and one that
imported every module the daemon loads; the difference between the last one and an idle daemon
is the daemon's own state.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import ROOT, Daemon, FloodPeer

PASSWORD = "benchmark-password"
MIB = 1 << 20
TARGET_IDLE_MIB = 60e6 / MIB  # 60 MB read strictly: 57.2 MiB
TARGET_USER_MIB = 1e6 / MIB  # 1 MB: 0.95 MiB


def status(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon and RssFile in MiB, and Threads, from /proc/<pid>/status."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024
            elif key == "Threads":
                out[key] = int(value)
    return out


async def quiet_rss(pid: int, first_wait: float = 3.0, max_wait: float = 15.0) -> dict[str, float]:
    """Status once RSS stops moving: after `first_wait`, two readings 0.5 s apart within 64 KiB."""
    await asyncio.sleep(first_wait)
    prev = status(pid)
    waited = first_wait
    while waited < max_wait:
        await asyncio.sleep(0.5)
        waited += 0.5
        cur = status(pid)
        if abs(cur["VmRSS"] - prev["VmRSS"]) <= 1 / 16:
            return cur
        prev = cur
    return prev


async def baseline(code: str) -> float:
    """RSS (MiB) of a Python process that ran `code` and then waits on stdin."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", f"{code}\nimport sys\nprint('ready', flush=True)\nsys.stdin.read()",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=str(ROOT))
    assert proc.stdout and proc.stdin
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if line.strip() != b"ready":
        raise RuntimeError(f"baseline {code!r} failed")
    rss = status(proc.pid)["VmRSS"]
    proc.stdin.close()
    await proc.wait()
    return rss


async def wait_joined(peer: FloodPeer, nicks: set[str], channels: set[str], since: int, timeout: float = 60) -> None:
    """Until each nick has a live client (accepted after `since`) that joined every channel."""

    async def wait() -> None:
        while True:
            live = {c.nick: c for c in peer.clients[since:] if not c.closed.is_set()}
            if all(n in live and channels <= live[n].channels for n in nicks):
                return
            peer.changed.clear()
            await peer.changed.wait()

    try:
        await asyncio.wait_for(wait(), timeout)
    except TimeoutError:
        live = {c.nick: sorted(c.channels) for c in peer.clients[since:] if not c.closed.is_set()}
        missing = sorted(n for n in nicks if n not in live or not channels <= set(live[n]))
        raise RuntimeError(f"not joined within {timeout}s: {missing[:5]} ({len(missing)} nicks)") from None


async def add_user(daemon: Daemon, peer: FloodPeer, email: str, channels: list[str], since: int) -> None:
    """Register over REST (the default connection joins channels[0]), then /join the rest over /events."""
    nick = email.split("@")[0]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        res = await session.post(f"{daemon.url}/api/user/register", json={"email": email, "password": PASSWORD})
        if res.status != 200:
            raise RuntimeError(f"register {email}: {res.status} {await res.text()}")
        await wait_joined(peer, {nick}, {channels[0]}, since)
        async with session.ws_connect(f"{daemon.url}/events", compress=15) as ws:
            for channel in channels[1:]:
                await ws.send_json({"method": "send", "id": channel, "connection_id": "irc-localhost",
                                    "conversation_id": channel, "message": f"/join {channel}"})
            pending = set(channels[1:])
            while pending:
                msg = await ws.receive(timeout=30)
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"websocket of {email} closed: {msg}")
                frame = json.loads(msg.data)
                if frame.get("event") == "sent" and frame.get("id") in pending:
                    if frame.get("errors"):
                        raise RuntimeError(f"{email} /join {frame['id']}: {frame['errors']}")
                    pending.discard(frame["id"])
    await wait_joined(peer, {nick}, set(channels), since)


def email_of(i: int) -> str:
    return f"user{i:02d}@example.com"


def clone_user(home: Path, src: str, dst: str, uid: int) -> None:
    """Copy a user's directory as another user with its own nick (no Argon2 hashing needed)."""
    shutil.copytree(home / src, home / dst)
    user = json.loads((home / dst / "user.json").read_text())
    user.update(email=dst, uid=str(uid), roles=[])
    (home / dst / "user.json").write_text(json.dumps(user))
    old_nick, new_nick = src.split("@")[0], dst.split("@")[0]
    for path in (home / dst).glob("*/connection.json"):
        conn = json.loads(path.read_text())
        conn["url"] = conn["url"].replace(f"nick={old_nick}", f"nick={new_nick}")
        conn.get("info", {}).pop("nick", None)
        path.write_text(json.dumps(conn))


async def restarted(home: Path, peer: FloodPeer, nicks: set[str], channels: set[str]) -> dict[str, float]:
    since = len(peer.clients)
    daemon = await Daemon(home).start()
    try:
        await wait_joined(peer, nicks, channels, since)
        return await quiet_rss(daemon.pid)
    finally:
        await daemon.stop()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=20, help="extra users after the first (default 20)")
    ap.add_argument("--channels", type=int, default=10, help="channels per user (default 10)")
    ap.add_argument("--clones", type=int, default=100,
                    help="users copied on disk from the second one, for a restart with many users (default 100)")
    args = ap.parse_args()
    channels = [f"#c{i}" for i in range(args.channels)]
    print(f"# bench_memory: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average "
          f"{os.getloadavg()[0]:.1f}; 1 + {args.users} users, {args.channels} channels each", flush=True)

    bare = await baseline("import sys")
    libs = await baseline("import aiohttp, pydle")
    mods = await baseline("import convos.cli, convos.web.app, convos.irc.connection, convos.store.file")
    print(f"baselines: bare python {bare:.1f} MiB, + aiohttp and pydle {libs:.1f} MiB, "
          f"+ every convos module {mods:.1f} MiB", flush=True)

    peer = await FloodPeer().start()
    tmp = tempfile.TemporaryDirectory(prefix="convos-bench-memory-")
    home = Path(tmp.name) / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({
        "default_connection": f"irc://127.0.0.1:{peer.port}/%23c0?tls=0", "open_to_public": True}))
    try:
        daemon = await Daemon(home).start()
        try:
            idle = await quiet_rss(daemon.pid)
            print(f"idle, no users: {idle['VmRSS']:.1f} MiB", flush=True)
            await add_user(daemon, peer, email_of(0), channels, 0)
            one = await quiet_rss(daemon.pid)
            print(f"live, one user: {one['VmRSS']:.1f} MiB", flush=True)
            for i in range(1, args.users + 1):
                await add_user(daemon, peer, email_of(i), channels, 0)
            many = await quiet_rss(daemon.pid)
            print(f"live, 1 + {args.users} users: {many['VmRSS']:.1f} MiB", flush=True)
            problems = daemon.problems()
        finally:
            await daemon.stop()

        # The same files again: only the first user, then everybody.
        home1 = Path(tmp.name) / "home1"
        shutil.copytree(home, home1)
        for i in range(1, args.users + 1):
            shutil.rmtree(home1 / email_of(i))
        nicks = {email_of(i).split("@")[0] for i in range(args.users + 1)}
        r_one = await restarted(home1, peer, {"user00"}, set(channels))
        print(f"restart, one user: {r_one['VmRSS']:.1f} MiB", flush=True)
        r_many = await restarted(home, peer, nicks, set(channels))
        print(f"restart, 1 + {args.users} users: {r_many['VmRSS']:.1f} MiB", flush=True)
        home2 = Path(tmp.name) / "home2"
        shutil.copytree(home1, home2)
        for i in range(1, args.clones + 1):
            clone_user(home2, email_of(0), f"clone{i:03d}@example.com", 1000 + i)
        clones = {"user00", *(f"clone{i:03d}" for i in range(1, args.clones + 1))}
        r_big = await restarted(home2, peer, clones, set(channels))
        print(f"restart, 1 + {args.clones} users: {r_big['VmRSS']:.1f} MiB", flush=True)
    finally:
        await peer.stop()
        tmp.cleanup()

    per_live = (many["VmRSS"] - one["VmRSS"]) / args.users
    per_restart = (r_many["VmRSS"] - r_one["VmRSS"]) / args.users
    per_big = (r_big["VmRSS"] - r_one["VmRSS"]) / args.clones
    rows = [
        ("idle daemon, no users (MiB)", idle["VmRSS"], libs, "< 60 MB", idle["VmRSS"] < TARGET_IDLE_MIB),
        ("idle daemon, 1 user, 10 channels (MiB)", r_one["VmRSS"], libs, "< 60 MB", r_one["VmRSS"] < TARGET_IDLE_MIB),
        (f"per extra user, live (MiB, {args.users} users)", per_live, None, "< 1 MB", per_live < TARGET_USER_MIB),
        (f"per extra user, restart (MiB, {args.users} users)", per_restart, None, "< 1 MB",
         per_restart < TARGET_USER_MIB),
        (f"per extra user, restart (MiB, {args.clones} users)", per_big, None, "< 1 MB", per_big < TARGET_USER_MIB),
    ]
    print()
    print(f"| {'figure':<42} | {'value':>7} | {'baseline':>8} | {'ratio':>6} | {'target':<8} | met |")
    print(f"|{'-' * 44}|{'-' * 9}|{'-' * 10}|{'-' * 8}|{'-' * 10}|-----|")
    for name, value, base, target, ok in rows:
        b = f"{base:8.1f}" if base else f"{'':>8}"
        ratio = f"{value / base:5.2f}x" if base else f"{'':>6}"
        shown = f"{value:7.1f}" if base else f"{value:7.3f}"
        print(f"| {name:<42} | {shown} | {b} | {ratio} | {target:<8} | {'yes' if ok else 'NO':<3} |")
    print()
    print(f"baseline: python with aiohttp and pydle imported ({libs:.1f} MiB); bare python {bare:.1f} MiB; "
          f"python with every convos module imported {mods:.1f} MiB")
    print("targets read strictly: 60 MB = 57.2 MiB, 1 MB = 0.95 MiB")
    for name, st in (("no users", idle), ("live 1 user", one), (f"live 1+{args.users}", many),
                     ("restart 1 user", r_one), (f"restart 1+{args.users}", r_many),
                     (f"restart 1+{args.clones}", r_big)):
        print(f"  {name:<16} VmRSS {st['VmRSS']:6.1f}  RssAnon {st['RssAnon']:6.1f}  RssFile {st['RssFile']:5.1f}  "
              f"VmHWM (peak) {st['VmHWM']:6.1f} MiB  threads {st['Threads']:.0f}")
    for line in problems[:10]:
        print(f"daemon: {line}")


if __name__ == "__main__":
    asyncio.run(main())
