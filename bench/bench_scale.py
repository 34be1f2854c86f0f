#!/usr/bin/env python3
"""Scale: a thousand users on one daemon, every connection receiving at once.

    python bench/bench_scale.py [--users 1000] [--rate 1,0.25] [--seconds 45] [--idle 30] [--startups 3]
    python bench/bench_scale.py --py-spy scale.svg ...   # also profile the daemon during the first flood

Writes a CONVOS_HOME of `--users` users in the on-disk format the daemon reads (user.json with
one Argon2id hash computed once and reused; three connection directories each, whose
connection.json lists 4 + 3 + 3 channels). Every connection points at a local IRC peer (the
`FloodPeer` of bench_ingest.py, run in its own process with `--peer`): it registers each
client, answers each JOIN and then writes PRIVMSG lines to every connection at once, `--rate`
lines/s per connection, staggered so the lines are spread over each second (one flood of
`--seconds` per rate given).

Connection attempts to one host:port are spaced CONVOS_CONNECT_DELAY (4 s) apart across all
users (convos/irc/factory.py `HostQueue`): 3,000 connections to 127.0.0.1 would take 3.3
hours. The home therefore has a connection profile for the peer with `skip_queue: true`
(settings/connections/irc-localhost.json), which bypasses that queue for this host only.
CONVOS_CONNECT_DELAY=0 would do it too, but it is also the first reconnect delay, and a delay
of 0 never grows: a daemon whose server went away reconnects in a busy loop.

Measured in one run, each beside a baseline from the same run:

- start-up: spawn of `bin/convos daemon` until `GET /api/user` answers 200 for a logged-in user
  (the cookie comes from a first run: settings.json keeps the session secrets), polled every
  10 ms; also until "Core ready" is logged and until the peer has seen all connections join all
  channels. Baselines: a trivial aiohttp app (spawn until its first 200), `python -c "import
  convos.cli"`, and the daemon on a home with one of these users. To tell loading from the
  connect storm apart, the same home also starts with CONVOS_SKIP_CONNECT=1 (nothing connects)
  and with `skip_queue: false` (the default: one attempt per 4 s, the rest wait in the queue).
  `--startups` rounds alternate all of these; medians are reported. Also timed: SIGTERM until
  the daemon has exited (it saves every connection.json on the way out).
- RSS (VmRSS) idle with every connection up (once quiet), and the highest sampled (every
  0.5 s) during the floods, per connected user. Baselines: `python -c "import aiohttp, pydle"` and the one-user daemon.
- CPU per ingested line: the daemon's user + system time (all threads, /proc/<pid>/task/*/stat)
  from the start of a flood until its last line is in the log files, over the lines counted
  in the log files (each line of the flood is found once: counted and checked for duplicates).
  The daemon's idle CPU/s (measured before) is shown too, and the peer's CPU per line.
- latency of `GET /api/user` (keep-alive, one request every 20 ms), idle and during each flood,
  each request followed by one to a control server (a trivial aiohttp app in its own process).

The daemons are real `bin/convos daemon` processes of the tree this file is in (bench_ingest's
`Daemon`); docs/performance.md has figures and what they mean.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_http import Client, pct
from bench_ingest import ROOT, TEXT, Daemon, FloodPeer, cpu_split, free_port
from bench_memory import baseline, quiet_rss, status

PASSWORD = "benchmark-password"  # what bench_http.Client.login sends
CONNECTIONS = ("irc-scale0", "irc-scale1", "irc-scale2")
TARGET_START_S = 1.0
TARGET_USER_MIB = 1e6 / (1 << 20)  # 1 MB read strictly: 0.95 MiB
TARGET_P99_MS = 50.0


def mark(n: int) -> bytes:
    """In every line of the n-th flood (` flood N.CLIENT-SEQ `), and nowhere else."""
    return b" flood %d." % n


# --- the home -------------------------------------------------------------------------------------


def email_of(i: int) -> str:
    return f"u{i:04d}@example.com"


def channels_of(conversations: int, connections: int) -> list[list[str]]:
    """`conversations` channels spread over the connections: 10 over 3 is 4 + 3 + 3."""
    out: list[list[str]] = [[] for _ in range(connections)]
    for n in range(conversations):
        out[n * connections // conversations].append(f"#c{n}")
    return out


def write_json(path: Path, data: Any) -> None:
    from convos.store.jsonfile import encode  # byte for byte what the daemon writes

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(encode(data))


def write_home(home: Path, users: int, port: int, password_hash: str, session_secret: str,
               conversations: int = 10) -> None:
    """settings.json, and per user user.json plus three connection.json, as the file store writes them."""
    home.mkdir(mode=0o700, parents=True)
    url = f"irc://127.0.0.1:{port}"
    write_json(home / "settings.json", {
        "base_url": "http://127.0.0.1:8080", "contact": "mailto:root@localhost",
        "default_connection": f"{url}/%23c0?tls=0", "forced_connection": False,
        "local_secret": "0" * 40, "open_to_public": False, "organization_name": "Convos",
        "organization_url": "https://convos.chat", "session_secrets": [session_secret],
        "video_service": "https://meet.jit.si/",
    })
    spread = channels_of(conversations, len(CONNECTIONS))
    for i in range(users):
        email = email_of(i)
        user_dir = home / email
        user_dir.mkdir(mode=0o700)
        write_json(user_dir / "user.json", {
            "email": email, "highlight_keywords": [], "password": password_hash,
            "registered": "2026-01-01T00:00:00Z", "remote_address": "127.0.0.1",
            "roles": ["admin"] if i == 0 else [], "uid": str(i + 1), "unread": 0,
        })
        for j, cid in enumerate(CONNECTIONS):
            conn_dir = user_dir / cid
            conn_dir.mkdir(mode=0o700)
            write_json(conn_dir / "connection.json", {
                "connection_id": cid,
                "conversations": [
                    {"connection_id": cid, "conversation_id": ch, "frozen": "", "info": {}, "name": ch,
                     "notifications": 0, "password": "", "topic": "", "unread": 0}
                    for ch in spread[j]
                ],
                "info": {"authenticated": False, "capabilities": {}},
                "name": cid.removeprefix("irc-"),
                "on_connect_commands": [],
                "service_accounts": ["chanserv", "nickserv"],
                "url": f"{url}?nick={email.split('@')[0]}{'abc'[j]}&tls=0",
                "wanted_state": "connected",
            })
    write_profile(home, port, skip_queue=True)


def write_profile(home: Path, port: int, skip_queue: bool) -> None:
    """The peer's connection profile (8.07 format): `skip_queue` bypasses the 4 s per-host spacing."""
    profiles = home / "settings" / "connections"
    profiles.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_json(profiles / "irc-localhost.json", {
        "id": "irc-localhost", "max_bulk_message_size": 3, "max_message_length": 512,
        "service_accounts": ["chanserv", "nickserv"], "skip_queue": skip_queue,
        "url": f"irc://127.0.0.1:{port}", "webirc_password": "",
    })


def count_logged(home: Path, n: int, check: bool = False) -> int:
    """Lines of the n-th flood in the log files; with `check`, fail on a line found twice."""
    marker = mark(n)
    total = 0
    seen: set[bytes] = set()
    for dirpath, _dirs, files in os.walk(home):
        for name in files:
            if not name.endswith(".log") or name == "notifications.log":
                continue
            with open(os.path.join(dirpath, name), "rb") as fh:
                data = fh.read()
            found = data.count(marker)
            total += found
            if check and found:
                for line in data.split(b"\n"):
                    i = line.find(marker)
                    if i >= 0:
                        token = line[i + len(marker):].split(b" ", 1)[0]
                        if token in seen:
                            raise RuntimeError(f"line {token!r} logged twice")
                        seen.add(token)
    return total


# --- the peer, in its own process ---------------------------------------------------------------


class ScalePeer(FloodPeer):
    async def start(self) -> ScalePeer:
        # A listen backlog as large as the kernel allows: 3,000 connects arrive at once.
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", 0, limit=1 << 20, backlog=4096)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def status(self) -> dict[str, Any]:
        live = [c for c in self.clients if not c.closed.is_set()]
        return {"live": len(live), "welcomed": sum(c.welcomed.is_set() for c in live),
                "joins": sum(len(c.channels) for c in live), "cpu": time.process_time()}

    async def flood(self, n: int, rate: float, seconds: float) -> dict[str, Any]:
        """The n-th flood: `rate` PRIVMSGs/s to every live client for `seconds`; client i of c gets its
        k-th line at (k + i/c)/rate, so the lines are spread over each second, not sent in one burst."""
        clients = [c for c in self.clients if not c.closed.is_set() and c.channels]
        chans = [sorted(c.channels) for c in clients]
        count = len(clients)
        sent = [0] * count
        total = int(rate * seconds)
        text = TEXT.encode()
        cpu0 = time.process_time()
        start = time.perf_counter()
        while True:
            elapsed = time.perf_counter() - start
            for i, client in enumerate(clients):
                due = min(total, int(elapsed * rate + i / count))
                if due > sent[i]:
                    out = []
                    for k in range(sent[i], due):
                        ch = chans[i][k % len(chans[i])]
                        out.append(b":s%d!~s@h%d.example.net PRIVMSG %s :flood %d.%d-%d %s\r\n"
                                   % (k % 50, k % 50, ch.encode(), n, i, k, text))
                    client.writer.write(b"".join(out))
                    sent[i] = due
            if elapsed >= seconds and all(s >= total for s in sent):
                break
            await asyncio.sleep(0.02)
        backlog = max((c.writer.transport.get_write_buffer_size() for c in clients), default=0)
        for c in clients:
            await c.writer.drain()
        return {"sent": sum(sent), "clients": count, "seconds": time.perf_counter() - start,
                "cpu": time.process_time() - cpu0, "max_buffered": backlog}


async def peer_main() -> None:
    """`bench_scale.py --peer`: JSON commands on stdin, one JSON answer per line on stdout."""
    peer = await ScalePeer().start()
    print(json.dumps({"port": peer.port}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        async for raw in reader:
            cmd = json.loads(raw)
            if cmd["do"] == "status":
                answer = peer.status()
            elif cmd["do"] == "flood":
                answer = await peer.flood(cmd["n"], cmd["rate"], cmd["seconds"])
            else:
                break
            print(json.dumps(answer), flush=True)
    finally:
        await peer.stop()


class PeerProcess:
    async def start(self) -> PeerProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--peer", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        self.port = int((await self._answer(10))["port"])
        return self

    async def _answer(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise RuntimeError("the IRC peer exited")
        return dict(json.loads(line))

    async def ask(self, timeout: float = 30, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd).encode() + b"\n")
        return await self._answer(timeout)

    async def wait_joined(self, clients: int, joins: int, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            st = await self.ask(do="status")
            if st["live"] >= clients and st["joins"] >= joins:
                return st
            if time.monotonic() > deadline:
                raise RuntimeError(f"not all connections up in {timeout}s: {st}")
            await asyncio.sleep(0.1)

    async def wait_gone(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not (await self.ask(do="status"))["live"]:
                return
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(b'{"do": "quit"}\n')
            self.proc.stdin.close()
        except (ConnectionError, OSError):
            pass  # it exited already
        await self.proc.wait()


# --- start-up -------------------------------------------------------------------------------------

CONTROL_APP = r"""
import sys
from aiohttp import web
async def user(request):
    return web.json_response({"email": "control@example.com", "roles": [], "uid": "1"})
app = web.Application()
app.router.add_get("/api/user", user)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *a: print("ready", flush=True),
            access_log=None)
"""


async def poll_until_ok(client: Client, path: str, deadline: float, every: float = 0.01) -> float:
    """perf_counter when `GET path` first answers 200 (refused connections and 503s are retried)."""
    while time.perf_counter() < deadline:
        try:
            await client.get(path)
            return time.perf_counter()
        except (OSError, RuntimeError, ValueError, asyncio.IncompleteReadError):
            await client.close()  # a fresh connection for the next try
            client.writer = None
        await asyncio.sleep(every)
    raise TimeoutError(f"GET {path} not answered in time")


class Control:
    """The trivial aiohttp app: the start-up baseline and the latency control."""

    async def start(self) -> float:
        self.port = free_port()
        self.client = Client(f"http://127.0.0.1:{self.port}")
        t0 = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(sys.executable, "-c", CONTROL_APP, str(self.port),
                                                         stdout=asyncio.subprocess.DEVNULL)
        return await poll_until_ok(self.client, "/api/user", t0 + 30) - t0

    async def stop(self) -> None:
        await self.client.close()
        self.proc.terminate()
        await self.proc.wait()


async def import_time() -> float:
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "import convos.cli", cwd=str(ROOT))
    await proc.wait()
    return time.perf_counter() - t0


class ScaleDaemon(Daemon):
    async def stop(self, timeout: float = 300) -> None:
        """SIGTERM, and time to save 3,000 connection.json files (Daemon.stop kills after 15 s)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                print(f"!! the daemon did not stop within {timeout:g}s: killed", flush=True)
        await super().stop()


class Started:
    def __init__(self, daemon: Daemon, client: Client, answered: float, ready_log: float, connected: float) -> None:
        self.daemon, self.client = daemon, client
        self.answered, self.ready_log, self.connected = answered, ready_log, connected


async def start_daemon(home: Path, cookie: str, peer: PeerProcess, users: int, joins: int,
                       env: dict[str, str]) -> Started:
    """Spawn the daemon; time GET /api/user (200 with the cookie), "Core ready", and every channel joined.

    Without a cookie (the first run) only "Core ready" is waited for."""
    daemon = ScaleDaemon(home, env=env)
    client = Client(daemon.url)
    client.cookie = cookie
    t0 = time.perf_counter()
    ready_at = 0.0

    async def ready() -> None:
        nonlocal ready_at
        await daemon.start(timeout=300)
        ready_at = time.perf_counter()
        if not any("Core ready" in line for line in daemon.lines):
            raise RuntimeError("the daemon did not start:\n" + "".join(daemon.lines[-30:]))

    starting = asyncio.create_task(ready())
    polling = asyncio.create_task(poll_until_ok(client, "/api/user", t0 + 300)) if cookie else None
    try:
        await starting
        answered = await polling if polling is not None else ready_at
        await peer.wait_joined(users * len(CONNECTIONS), joins)
    except BaseException:
        starting.cancel()
        if polling is not None:
            polling.cancel()
        await client.close()
        await daemon.stop()
        raise
    return Started(daemon, client, answered - t0, ready_at - t0, time.perf_counter() - t0)


async def stop_daemon(started: Started, peer: PeerProcess) -> float:
    await started.client.close()
    t0 = time.perf_counter()
    await started.daemon.stop()
    took = time.perf_counter() - t0
    await peer.wait_gone()
    return took


# --- load -----------------------------------------------------------------------------------------


async def timed_get(client: Client, path: str) -> float:
    """ms of one keep-alive GET; a connection the server closed while idle (aiohttp's keep-alive
    timeout is 75 s) is opened again first, outside the clock."""
    if client.writer is not None and client.reader is not None and client.reader.at_eof():
        await client.close()
        client.writer = None
    if client.writer is None:
        client.reader, client.writer = await asyncio.open_connection(client.host, client.port)
    return (await client.get(path))[0]


async def probe(daemon: Client, control: Client, until: float, ours: list[float], ctl: list[float]) -> None:
    """GET /api/user on the daemon then on the control server, every 20 ms, until `until`."""
    while time.perf_counter() < until:
        ours.append(await timed_get(daemon, "/api/user"))
        ctl.append(await timed_get(control, "/api/user"))
        await asyncio.sleep(0.02)


async def sample_rss(pid: int, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        out.append(status(pid)["VmRSS"])
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except TimeoutError:
            pass


def cpu_total(pid: int) -> float:
    return sum(cpu_split(pid).values())


def dist(values: list[float]) -> str:
    return (f"median {statistics.median(values):.2f} ms, p90 {pct(values, 90):.2f}, p99 {pct(values, 99):.2f}, "
            f"max {max(values):.2f} ({len(values)} requests)")


async def flood(args: argparse.Namespace, home: Path, peer: PeerProcess, started: Started, control: Control,
                rate: float, idle_cpu: float) -> dict[str, Any]:
    """`rate` lines/s to every connection for args.seconds, with /api/user probed and RSS sampled;
    done when every line is in the log files."""
    pid = started.daemon.pid
    n = args.rate.index(rate) + 1
    ours: list[float] = []
    ctl: list[float] = []
    stop_rss, rss = asyncio.Event(), []
    sampler = asyncio.create_task(sample_rss(pid, stop_rss, rss))
    spy = None
    if args.py_spy and rate == args.rate[0]:
        spy = await asyncio.create_subprocess_exec(
            shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
            str(pid), "--duration", str(int(args.seconds)), "--rate", "100", "--threads", "--nonblocking",
            "--output", args.py_spy, "--format", "speedscope" if args.py_spy.endswith(".json") else "flamegraph",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    cpu0, t0 = cpu_split(pid), time.perf_counter()
    own0 = time.process_time()
    writing = asyncio.create_task(peer.ask(timeout=args.seconds * 10 + 60, do="flood", n=n, rate=rate,
                                           seconds=args.seconds))
    await probe(started.client, control.client, t0 + args.seconds, ours, ctl)
    sent = await writing
    t_sent = time.perf_counter()
    deadline = t_sent + max(120.0, args.seconds * 3)
    logged = count_logged(home, n)
    while logged < sent["sent"] and time.perf_counter() < deadline:
        await asyncio.sleep(1)
        logged = count_logged(home, n)
    t_logged = time.perf_counter()
    cpu1 = cpu_split(pid)
    own = time.process_time() - own0
    stop_rss.set()
    await sampler
    if spy is not None:
        await spy.wait()
    cpu = {k: cpu1[k] - cpu0[k] for k in cpu0}
    took = t_logged - t0
    out = {
        "rate": rate, "sent": sent, "logged": logged, "checked": count_logged(home, n, check=True),
        "took": took, "after": t_logged - t_sent, "cpu": cpu, "cpu_all": sum(cpu.values()), "own": own,
        "ours": ours, "ctl": ctl, "rss": rss,
    }
    out["per_line"] = out["cpu_all"] / max(1, logged) * 1e6
    out["per_line_net"] = (out["cpu_all"] - idle_cpu * took) / max(1, logged) * 1e6
    print(f"flood at {rate:g} lines/s per connection: {logged:,} of {sent['sent']:,} lines logged "
          f"{took:.1f}s after the start; {out['per_line']:.0f} us CPU per line; /api/user {dist(ours)}", flush=True)
    return out


async def run(args: argparse.Namespace) -> None:
    conns = args.users * len(CONNECTIONS)
    joins = args.users * args.conversations
    load0 = os.getloadavg()
    print(f"# bench_scale: {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, "
          f"load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}; {args.users} users x {len(CONNECTIONS)} "
          f"connections, {args.conversations} conversations each; floods of " + ", ".join(f"{r:g}" for r in args.rate)
          + f" lines/s per connection for {args.seconds:g} s", flush=True)
    from convos.core.passwords import hash_password

    # On SIGTERM (e.g. from `timeout`) the finally blocks below still stop the daemons and the peer.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    peer = await PeerProcess().start()
    tmp = Path(tempfile.mkdtemp(prefix="convos-bench-scale-", dir=args.tmp))
    # 127.0.0.1 is the default connection's host, which may be reached anyway; CONVOS_IRC_ALLOW_PRIVATE
    # says so for any tree. The connect queue is skipped by the profile (see the docstring), so
    # CONVOS_CONNECT_DELAY keeps its default (bench_ingest's Daemon sets 0).
    env = {"CONVOS_IRC_ALLOW_PRIVATE": "1", "CONVOS_CONNECT_DELAY": "4"}
    started: Started | None = None
    control = Control()
    try:
        t = time.perf_counter()
        hashed = hash_password(PASSWORD)
        secret = secrets.token_hex(20)
        home, home1 = tmp / "home", tmp / "one"
        write_home(home, args.users, peer.port, hashed, secret, args.conversations)
        write_home(home1, 1, peer.port, hashed, secret, args.conversations)
        print(f"wrote {args.users} users, {conns} connection.json in {time.perf_counter() - t:.1f}s "
              f"(home on {home}); peer on port {peer.port}", flush=True)

        # A first run of each home: warms the page cache and logs in. The cookie stays good across
        # restarts (settings.json keeps the session secret, user.json what the session needs).
        first = await start_daemon(home, "", peer, 0, 0, env)
        await first.client.login(email_of(0))
        cookie = first.client.cookie
        await peer.wait_joined(conns, joins)
        print(f"first run: all {conns} connections joined {joins} channels after {time.perf_counter() - t:.1f}s "
              f"(wrote and started)", flush=True)
        await stop_daemon(first, peer)
        first = await start_daemon(home1, "", peer, 0, 0, env)
        await first.client.login(email_of(0))
        cookie1 = first.client.cookie
        await stop_daemon(first, peer)

        imports = [await import_time() for _ in range(3)]
        rounds: dict[str, list[float]] = {k: [] for k in (
            "trivial", "one", "one_conn", "skip", "queued", "all", "all_ready", "all_conn", "stop")}
        rss_one: dict[str, float] = {}
        for r in range(args.startups):
            last = r == args.startups - 1
            control = Control()
            rounds["trivial"].append(await control.start())
            if not last:
                await control.stop()
            one = await start_daemon(home1, cookie1, peer, 1, args.conversations, env)
            rounds["one"].append(one.answered)
            rounds["one_conn"].append(one.connected)
            if last:
                rss_one = await quiet_rss(one.daemon.pid)
            await stop_daemon(one, peer)
            # The same home without the connect storm: nothing connects, or every attempt is queued.
            for key, variant in (("skip", {"CONVOS_SKIP_CONNECT": "1"}), ("queued", {})):
                write_profile(home, peer.port, skip_queue=key != "queued")
                other = await start_daemon(home, cookie, peer, 0, 0, {**env, **variant})
                rounds[key].append(other.answered)
                await stop_daemon(other, peer)
            write_profile(home, peer.port, skip_queue=True)
            started = await start_daemon(home, cookie, peer, args.users, joins, env)
            rounds["all"].append(started.answered)
            rounds["all_ready"].append(started.ready_log)
            rounds["all_conn"].append(started.connected)
            print(f"start-up round {r + 1}: trivial aiohttp app {rounds['trivial'][-1]:.3f}s; daemon with 1 user "
                  f"{one.answered:.3f}s; with {args.users} users {started.answered:.3f}s to /api/user "
                  f"(Core ready logged at {started.ready_log:.3f}s, all {conns} connections joined at "
                  f"{started.connected:.1f}s); not connecting {rounds['skip'][-1]:.3f}s, connections queued "
                  f"{rounds['queued'][-1]:.3f}s", flush=True)
            if not last:
                rounds["stop"].append(await stop_daemon(started, peer))
        assert started is not None
        pid = started.daemon.pid

        libs = await baseline("import aiohttp, pydle")
        idle_rss = await quiet_rss(pid)
        print(f"idle RSS with {conns} connections up: {idle_rss['VmRSS']:.1f} MiB (1 user: "
              f"{rss_one['VmRSS']:.1f} MiB, python + aiohttp + pydle {libs:.1f} MiB)", flush=True)

        # Idle: CPU/s and /api/user latency with every connection up and nothing arriving.
        idle_ours: list[float] = []
        idle_ctl: list[float] = []
        await timed_get(started.client, "/api/user")
        c0, t0 = cpu_total(pid), time.perf_counter()
        await probe(started.client, control.client, t0 + args.idle, idle_ours, idle_ctl)
        idle_cpu = (cpu_total(pid) - c0) / (time.perf_counter() - t0)
        print(f"idle {args.idle:g}s: daemon CPU {idle_cpu * 100:.1f}% of a core; /api/user {dist(idle_ours)}",
              flush=True)

        floods = []
        for rate in args.rate:
            floods.append(await flood(args, home, peer, started, control, rate, idle_cpu))
            await asyncio.sleep(5)  # what the flood left (debounced saves) is not the next one's
        end_rss = status(pid)
        problems = started.daemon.problems()
        rounds["stop"].append(await stop_daemon(started, peer))
        started = None
        load1 = os.getloadavg()
    finally:
        if started is not None:
            await started.client.close()
            await started.daemon.stop()
        if getattr(control, "proc", None) is not None:
            await control.stop()
        await peer.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp)

    # --- report ---------------------------------------------------------------------------------
    med = {k: statistics.median(v) for k, v in rounds.items()}
    per_user = idle_rss["VmRSS"] / args.users
    marginal = (idle_rss["VmRSS"] - rss_one["VmRSS"]) / (args.users - 1) if args.users > 1 else 0.0
    rows: list[tuple[str, str, str, str, str]] = [
        (f"start-up to GET /api/user, {args.users} users (s)", f"{med['all']:.3f}",
         f"{med['trivial']:.3f}", "<= 1 s", "yes" if med["all"] <= TARGET_START_S else "NO"),
        ("start-up to GET /api/user, 1 user (s)", f"{med['one']:.3f}", f"{med['trivial']:.3f}", "", ""),
        (f"  {args.users} users, CONVOS_SKIP_CONNECT=1 (s)", f"{med['skip']:.3f}", f"{med['trivial']:.3f}", "", ""),
        (f"  {args.users} users, connections queued (s)", f"{med['queued']:.3f}", f"{med['trivial']:.3f}",
         "", ""),
        (f"start-up until all {conns} connections joined (s)", f"{med['all_conn']:.1f}", "", "", ""),
        (f"RSS idle, {conns} connections up (MiB)", f"{idle_rss['VmRSS']:.1f}", f"{libs:.1f}", "", ""),
        ("  per connected user, all of it (MiB)", f"{per_user:.3f}", "", "<= 1 MB",
         "yes" if per_user <= TARGET_USER_MIB else "NO"),
        ("  per connected user, above the 1-user daemon (MiB)", f"{marginal:.3f}", "", "", ""),
        ("GET /api/user p99 idle (ms)", f"{pct(idle_ours, 99):.2f}", f"{pct(idle_ctl, 99):.2f}", "", ""),
    ]
    for f in floods:
        peak, rate, conns_rate = max(f["rss"]), f["rate"], f"{f['rate'] * conns:,.0f} lines/s"
        p99, p99_ctl = pct(f["ours"], 99), pct(f["ctl"], 99)
        rows += [
            (f"flood {rate:g}/s per connection ({conns_rate}):", "", "", "", ""),
            ("  RSS, highest sample (MiB)", f"{peak:.1f}", f"{libs:.1f}", "", ""),
            ("  RSS per connected user (MiB)", f"{peak / args.users:.3f}", "", "<= 1 MB",
             "yes" if peak / args.users <= TARGET_USER_MIB else "NO"),
            ("  daemon CPU per ingested line (us, all threads)", f"{f['per_line']:.0f}",
             f"{f['sent']['cpu'] / max(1, f['sent']['sent']) * 1e6:.0f}", "", ""),
            ("  GET /api/user p99 (ms)", f"{p99:.2f}", f"{p99_ctl:.2f}", "<= 50 ms",
             "yes" if p99 <= TARGET_P99_MS else "NO"),
        ]
    print()
    print(f"| {'figure':<52} | {'value':>8} | {'baseline':>8} | {'target':<8} | met |")
    print(f"|{'-' * 54}|{'-' * 10}|{'-' * 10}|{'-' * 10}|-----|")
    for name, value, base, target, met in rows:
        print(f"| {name:<52} | {value:>8} | {base:>8} | {target:<8} | {met:<3} |")
    print()
    print("baselines: start-up = a trivial aiohttp app (spawn until its first 200); RSS = python with aiohttp and "
          "pydle imported; CPU = the IRC peer's own CPU per line it wrote; latency = the control server (a trivial "
          "aiohttp app in its own process), polled right after each daemon request")
    print("start-up rounds (s): " + "; ".join(
        f"{k} " + " ".join(f"{v:.3f}" for v in vals) for k, vals in rounds.items()))
    print("python -c 'import convos.cli': " + " ".join(f"{v:.3f}" for v in imports) + " s")
    print(f"RSS: 1-user daemon {rss_one['VmRSS']:.1f} MiB; {args.users} users idle {idle_rss['VmRSS']:.1f} "
          f"(RssAnon {idle_rss['RssAnon']:.1f}, RssFile {idle_rss['RssFile']:.1f}, threads "
          f"{idle_rss['Threads']:.0f}); at the end {end_rss['VmRSS']:.1f} MiB (VmHWM {end_rss['VmHWM']:.1f})")
    print(f"GET /api/user idle: {dist(idle_ours)}; control: {dist(idle_ctl)}")
    for f in floods:
        sent, cpu = f["sent"], f["cpu"]
        print(f"flood at {f['rate']:g} lines/s per connection: the peer wrote {sent['sent']:,} lines to "
              f"{sent['clients']} connections in {sent['seconds']:.1f}s ({sent['sent'] / sent['seconds']:,.0f} "
              f"lines/s; at most {sent['max_buffered']:,} bytes waiting in one socket buffer at the end); "
              f"{f['logged']:,} in the log files {f['took']:.1f}s after the start, {f['after']:.1f}s after the "
              f"peer finished; checked: {f['checked']:,} distinct lines")
        print(f"  daemon CPU: {f['cpu_all']:.1f}s = loop {cpu['loop_user']:.1f} user + {cpu['loop_sys']:.1f} system, "
              f"other threads {cpu['threads_user']:.1f} user + {cpu['threads_sys']:.1f} system; {f['per_line']:.0f} "
              f"us per line, {f['per_line_net']:.0f} us without the idle rate ({idle_cpu * 100:.1f}% of a core); "
              f"this process {f['own'] / max(1, f['logged']) * 1e6:.1f} us per line")
        print(f"  RSS {min(f['rss']):.1f}..{max(f['rss']):.1f} MiB")
        print(f"  GET /api/user: {dist(f['ours'])}; control: {dist(f['ctl'])}")
        if f["logged"] != sent["sent"] or f["checked"] != f["logged"]:
            print(f"  !! the peer sent {sent['sent']:,} lines, {f['logged']:,} are in the logs "
                  f"({f['checked']:,} distinct)")
    print(f"daemon with {args.users} users stopped (SIGTERM until exit) in "
          + " ".join(f"{v:.1f}" for v in rounds["stop"]) + " s")
    print(f"machine: {os.cpu_count()} CPUs, load average {load0[0]:.2f} before, {load1[0]:.2f} after")
    for line in problems[:10]:
        print(f"daemon: {line}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=1000, help="users (default 1000), 3 connections each")
    ap.add_argument("--conversations", type=int, default=10, help="channels per user (default 10)")
    ap.add_argument("--rate", type=lambda text: [float(x) for x in text.split(",")], default=[1.0, 0.25],
                    help="lines/s per connection during a flood, one flood per comma-separated rate (default 1,0.25)")
    ap.add_argument("--seconds", type=float, default=45, help="length of each flood (default 45)")
    ap.add_argument("--idle", type=float, default=30, help="seconds of idle measurement before it (default 30)")
    ap.add_argument("--startups", type=int, default=3, help="start-up rounds, median reported (default 3)")
    ap.add_argument("--tmp", help="where the home is written (default: the system's temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the home afterwards")
    ap.add_argument("--py-spy", metavar="FILE", help="record the daemon with py-spy during the flood "
                    "(FILE.svg: flame graph, FILE.json: speedscope)")
    ap.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    asyncio.run(peer_main() if args.peer else run(args))


if __name__ == "__main__":
    main()
