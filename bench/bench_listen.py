#!/usr/bin/env python3
"""The IRC listener's three targets (issue 15), each beside a baseline measured in the same run.

    python bench/gen_home.py /tmp/lbench-home --size 340M --big 300M   # for `history`
    python bench/bench_listen.py history /tmp/lbench-home [--repeat 30] [--limit 500]
    python bench/bench_listen.py relay [--clients 100] [--rate 1000] [--seconds 10]
    python bench/bench_listen.py all /tmp/lbench-home                   # both, one after the other

Every figure comes from `bin/convos daemon` as a separate process with CONVOS_IRC_LISTEN on a
free loopback port, and from native IRC clients in this process (raw asyncio protocols, which
split lines in C, so 100 clients reading 1,000 lines/s each cost this process little).

`history`: a 500-line `CHATHISTORY BEFORE`, deep in a 300 MB month (target: within 20 ms).
    The daemon runs on an overlay of a home written by bench/gen_home.py (never written to),
    without connecting to IRC. One client with `draft/chathistory`, `batch`, `server-time` and
    `message-tags` asks `CHATHISTORY BEFORE #big msgid=<a line mid-month> 500`, and the same by
    `timestamp=`, and `AFTER`; the time is from writing the command to reading the batch's end,
    and the lines are counted. One request a tenth of a second: faster, the listener's flood
    limit (40 lines, then 10 a second) would be what is timed. Each request alternates with the baseline, GNU `tail -n 500` of the same
    300 MB file (output to a pipe, fork and exec included, as in bench_http.py).

`relay`: 100 attached clients while the network sends 1,000 lines a second (target: p99 under
    20 ms), and the RSS each attached client costs (target: under 200 KB).
    The network is bench_ingest's scripted IRC server (FloodPeer) in this process; the daemon's
    one connection is on it, joined to #chan. The daemon's per-account limit of attached clients
    (32) is raised to --clients in the daemon process only (a wrapper sets
    convos.listen.limits.CLIENTS_PER_USER before running bin/convos), so that all the clients
    attach to the one connection the lines come in on. Each client asks for `server-time`,
    `message-tags`, `batch`, `echo-message` and `draft/chathistory`, as WeeChat or Goguma do.
    - RSS (VmRSS of the daemon) before the clients attach, after, and after the relay; the cost
      of a client is the difference over --clients. Before that, one client attaches and is
      relayed as many lines, so the daemon's own growth (modules, caches, log and websocket
      buffers) is in `before`.
    - The daemon's CPU time (every thread) during the relay, per line and per line and client.
    - Latency: the peer writes PRIVMSG lines to #chan at --rate a second for --seconds, each
      stamped with the time it is written to the daemon's socket; every client notes, for every
      line, the time it read it minus that stamp. The browser's websocket (/events) of the same
      user gets the same lines meanwhile; its latency is printed too.
    Baseline, the same run, before the daemon: a trivial relay in another Python process (an
    asyncio client of the peer that writes every chunk it reads to every attached socket, no
    parsing, no logging) with the same clients attached, the same lines at the same rate, and
    its RSS before and after the clients attach: what Python and asyncio alone cost here.

The load average is printed at the start and the end of each part: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import overlay_home
from bench_ingest import CHANNEL, Daemon, FloodPeer, PeerClient, free_port, paced

from convos.listen.limits import LINE_RATE

PASSWORD = "benchmark-password"
STAMP = re.compile(rb" t(\d+) ")
CAPS = "server-time message-tags batch echo-message draft/chathistory"
HISTORY_TARGET_MS = 20.0
LATENCY_TARGET_MS = 20.0
RSS_TARGET_KB = 200.0

# Runs bin/convos (sys.argv[1]) with the per-account limit of attached clients raised; the
# convos package of that checkout, whatever the venv has installed.
WRAPPER = r"""
import os, runpy, sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(sys.argv[1]))))
import convos.listen.limits as limits
limits.CLIENTS_PER_USER = int(os.environ["BENCH_CLIENTS_PER_USER"])
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

# The baseline relay: reads the peer, writes what it read to every client (argv: peer port, port).
TRIVIAL_RELAY = r"""
import asyncio, os, sys
async def main(peer_port, port):
    clients = []
    async def on_client(reader, writer):
        data = await reader.readuntil(b"PING :attached\r\n")
        writer.write(b":relay PONG relay :attached\r\n")
        clients.append(writer)
        await reader.read()
    server = await asyncio.start_server(on_client, "127.0.0.1", port, backlog=512)
    r, w = await asyncio.open_connection("127.0.0.1", peer_port, limit=1 << 20)
    w.write(b"NICK relay\r\nUSER relay 0 * :relay\r\nJOIN #chan\r\n")
    print("ready", flush=True)
    while True:
        data = await r.read(65536)
        if not data:
            return
        for c in clients:
            c.write(data)
asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""


def answer_names(irc: PeerClient) -> None:
    """The peer answers NAMES (the daemon asks for each channel when a client attaches)."""
    def on_line(line: bytes) -> None:
        parts = line.decode(errors="replace").split()
        if len(parts) > 1 and parts[0].upper() == "NAMES":
            s, n = irc.peer.name, irc.nick
            irc.send(f":{s} 353 {n} = {parts[1]} :@{n} alice bob", f":{s} 366 {n} {parts[1]} :End of /NAMES list.")

    irc.on_line = on_line


async def py_spy(args: argparse.Namespace, pid: int) -> asyncio.subprocess.Process | None:
    """py-spy (pip install py-spy; not a dependency) recording `pid` into --py-spy, raw stacks."""
    if not args.py_spy:
        return None
    spy = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"), "record", "-r", "200", "-f", "raw", "-o", args.py_spy,
        "--pid", str(pid), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    await asyncio.sleep(1)  # it attaches
    return spy


async def stop_spy(spy: asyncio.subprocess.Process | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await spy.wait()


def daemon_cpu(pid: int) -> float:
    """User + system CPU seconds of the process, every thread."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished children (the baseline commands)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(p / 100 * (len(v) - 1)))] if v else float("nan")


def dist(values: list[float], unit: float = 1e6) -> str:
    """p50/p99/max of nanosecond values, in ms."""
    if not values:
        return "no samples"
    return (f"p50 {pct(values, 50) / unit:.2f} ms, p99 {pct(values, 99) / unit:.2f} ms, "
            f"max {max(values) / unit:.2f} ms ({len(values)} samples)")


class NativeClient(asyncio.Protocol):
    """A native IRC client: keeps its lines until `fast`, then only the latency of stamped lines."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.tail = b""
        self.lines: list[bytes] = []
        self.changed = asyncio.Event()
        self.fast = False
        self.latencies: list[int] = []
        self.last_seq = -1
        self.closed = asyncio.Event()

    @classmethod
    async def connect(cls, port: int) -> NativeClient:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(cls, "127.0.0.1", port)
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        self.changed.set()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        buf = self.tail + data
        cut = buf.rfind(b"\n") + 1
        self.tail = buf[cut:]
        whole = buf[:cut]
        for stamp in STAMP.findall(whole):
            self.latencies.append(now - int(stamp))
        if self.fast:
            seq = whole.rfind(b" :b")
            if seq >= 0:
                self.last_seq = int(whole[seq + 3:seq + 11])
                self.changed.set()
            return
        self.lines.extend(whole.split(b"\r\n")[:-1])
        self.changed.set()

    def write(self, *lines: str) -> None:
        assert self.transport is not None
        self.transport.write("".join(f"{line}\r\n" for line in lines).encode())

    async def wait_line(self, needle: bytes, timeout: float = 60) -> list[bytes]:
        """The kept lines up to the first one containing `needle` (taken from `lines`)."""
        async def wait() -> list[bytes]:
            while True:
                for i, line in enumerate(self.lines):
                    if needle in line:
                        taken = self.lines[:i + 1]
                        del self.lines[:i + 1]
                        return taken
                if self.closed.is_set():
                    raise ConnectionError(f"closed; got: {self.lines[-5:]!r}")
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(wait(), timeout)

    async def attach(self, user: str, nick: str, caps: str = CAPS) -> None:
        self.write("CAP LS 302", f"CAP REQ :{caps}", f"PASS {user}:{PASSWORD}", f"NICK {nick}",
                   f"USER {nick} 0 * :bench", "CAP END", "PING :attached")
        await self.wait_line(b"PONG", 120)  # answered once the welcome and the replay were sent
        self.lines.clear()

    async def wait_seq(self, seq: int, timeout: float) -> None:
        async def wait() -> None:
            while self.last_seq < seq and not self.closed.is_set():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), timeout)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


# --- history ------------------------------------------------------------------------------------


def run_ms(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - t) * 1000


async def history_request(client: NativeClient, command: str) -> tuple[float, int, bytes]:
    """ms from writing `command` to reading its batch's end; the PRIVMSG lines; the first one."""
    t = time.perf_counter()
    client.write(command)
    taken = await client.wait_line(b"BATCH -")
    ms = (time.perf_counter() - t) * 1000
    lines = [x for x in taken if b"msgid=" in x]
    return ms, len(lines), lines[0] if lines else b""


async def bench_history(args: argparse.Namespace) -> None:
    info = json.loads((args.home / "bench.json").read_text())
    email, connection_id, big = info["email"], info["connection_id"], info["big_conversation"]
    big_file = args.home / info["big_file"]
    year, month = info["big_month"]
    middle = datetime(year, month, 1, tzinfo=UTC) + timedelta(days=15, hours=7)
    with open(big_file, "rb") as fh:  # page cache warm for ours and the baseline alike
        while fh.read(1 << 24):
            pass
    load_start = load()
    tmp = tempfile.TemporaryDirectory(prefix="convos-bench-listen-")
    home = Path(tmp.name)
    overlay_home(args.home, home, email)
    port = free_port()
    daemon = await Daemon(home, env={"CONVOS_SKIP_CONNECT": "1",
                                     "CONVOS_IRC_LISTEN": f"irc://127.0.0.1:{port}"}).start()
    try:
        client = await NativeClient.connect(port)
        await client.attach(f"{email}/{connection_id}", "bench")
        # A reference in the middle of the month: the line just before its 07:00 on day 16.
        stamp = middle.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        _, _, line = await history_request(client, f"CHATHISTORY BEFORE {big} timestamp={stamp} 1")
        msgid = re.search(rb"msgid=([^; ]+)", line)
        assert msgid, line
        ref = msgid.group(1).decode()
        tail = ["tail", "-n", str(args.limit), str(big_file)]
        rows = []
        spy = await py_spy(args, daemon.pid)
        for name, command in [
            (f"BEFORE msgid= (mid-month) {args.limit}", f"CHATHISTORY BEFORE {big} msgid={ref} {args.limit}"),
            (f"BEFORE timestamp= (mid-month) {args.limit}", f"CHATHISTORY BEFORE {big} timestamp={stamp} {args.limit}"),
            (f"AFTER msgid= (mid-month) {args.limit}", f"CHATHISTORY AFTER {big} msgid={ref} {args.limit}"),
        ]:
            await history_request(client, command)  # warm-up
            ours, base, counts = [], [], set()
            cpu, base_cpu = 0.0, 0.0
            for _ in range(args.repeat):
                # A client may send 40 lines at once, then 10 a second (convos/listen/limits.py):
                # one request a tenth of a second, so that the throttle is never what is timed.
                await asyncio.sleep(1 / LINE_RATE)
                cpu -= daemon_cpu(daemon.pid)
                ms, count, _ = await history_request(client, command)
                cpu += daemon_cpu(daemon.pid)
                counts.add(count)
                ours.append(ms)
                base_cpu -= children_cpu()
                base.append(await asyncio.to_thread(run_ms, tail))
                base_cpu += children_cpu()
            rows.append((name, ours, base, counts, cpu / args.repeat * 1000, base_cpu / args.repeat * 1000))
        await stop_spy(spy)
        client.close()
        rss = rss_kib(daemon.pid)
    finally:
        await daemon.stop()
        tmp.cleanup()
    print(f"== history: {big_file.stat().st_size / 1e6:.0f} MB month of {big}, {args.repeat} requests each, "
          f"load {load_start} -> {load()}; daemon RSS {rss / 1024:.1f} MiB at the end")
    for name, ours, base, counts, cpu, base_cpu in rows:
        med, bmed = statistics.median(ours), statistics.median(base)
        print(f"CHATHISTORY {name}: {'/'.join(map(str, sorted(counts)))} lines; median {med:.2f} ms, "
              f"p90 {pct(ours, 90):.2f} ms, min {min(ours):.2f} ms, daemon CPU {cpu:.2f} ms a request | "
              f"tail -n {args.limit}: median {bmed:.2f} ms, p90 {pct(base, 90):.2f} ms, min {min(base):.2f} ms, "
              f"CPU {base_cpu:.2f} ms | ratio of medians {med / bmed:.2f} | target {HISTORY_TARGET_MS:.0f} ms: "
              f"{'met' if med <= HISTORY_TARGET_MS else 'missed'}")


# --- relay and RSS ------------------------------------------------------------------------------


async def attach_all(port: int, user: str, n: int) -> list[NativeClient]:
    clients = []
    for i in range(n):  # one after the other: 8 clients of one address may be signing in at once
        client = await NativeClient.connect(port)
        await client.attach(user, f"c{i}")
        client.fast = True
        clients.append(client)
    return clients


async def relay_lines(peer_client: PeerClient, clients: list[NativeClient], first: int, count: int,
                      rate: float) -> list[int]:
    for c in clients:
        c.latencies.clear()
    await paced([peer_client], first, count, rate)
    last = first + count - 1
    try:
        await asyncio.gather(*(c.wait_seq(last, 60) for c in clients))
    except TimeoutError:
        print(f"  {sum(c.last_seq < last for c in clients)} clients did not get the last line within 60 s")
    lost = sum(c.closed.is_set() for c in clients)
    if lost:
        print(f"  {lost} clients were disconnected")
    return [x for c in clients for x in c.latencies]


async def baseline_relay(args: argparse.Namespace, peer: FloodPeer,
                         first: int) -> tuple[list[int], int, int, float]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", TRIVIAL_RELAY, str(peer.port), str(port),
                                                stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        await asyncio.wait_for(proc.stdout.readline(), 30)
        irc = await peer.accept()
        await irc.wait_joined({CHANNEL})
        before = rss_kib(proc.pid)
        clients = []
        for _ in range(args.clients):
            client = await NativeClient.connect(port)
            client.write("PING :attached")
            await client.wait_line(b"PONG")
            client.fast = True
            clients.append(client)
        after = rss_kib(proc.pid)
        cpu = daemon_cpu(proc.pid)
        latencies = await relay_lines(irc, clients, first, int(args.rate * args.seconds), args.rate)
        cpu = daemon_cpu(proc.pid) - cpu
        for c in clients:
            c.close()
        irc.close()
        return latencies, before, after, cpu
    finally:
        proc.terminate()
        await proc.wait()


async def bench_relay(args: argparse.Namespace) -> None:
    peer = await FloodPeer().start()
    load_start = load()
    count = int(args.rate * args.seconds)
    base_lat, base_before, base_after, base_cpu = await baseline_relay(args, peer, 0)
    load_base = load()

    port = free_port()
    tmp = tempfile.TemporaryDirectory(prefix="convos-bench-listen-")
    home = Path(tmp.name)
    (home / "settings.json").write_bytes(orjson.dumps({
        "default_connection": f"irc://127.0.0.1:{peer.port}/{CHANNEL.replace('#', '%23')}?tls=0",
        "open_to_public": True}))
    env = {"CONVOS_IRC_LISTEN": f"irc://127.0.0.1:{port}", "BENCH_CLIENTS_PER_USER": str(args.clients)}
    daemon = await Daemon(home, env=env, python_args=("-c", WRAPPER)).start()
    email = "bench@example.com"
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            res = await browser.post(f"{daemon.url}/api/user/register", json={"email": email, "password": PASSWORD})
            assert res.status == 200, await res.text()
            irc = await peer.accept()
            answer_names(irc)
            await irc.wait_joined({CHANNEL})
            ws = await browser.ws_connect(f"{daemon.url}/events", max_msg_size=0)
            await ws.send_json({"method": "ping", "id": "ready"})  # subscribed once it answers
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT and '"pong"' in msg.data:
                    break
            ws_lat: list[int] = []
            first = 2 * count  # the lines the clients time; `count` to `first`: the warm-up's

            async def websocket() -> None:
                async for msg in ws:
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        return
                    m = STAMP.search(msg.data.encode())
                    if m and (seq := re.search(r"b(\d{8}) t", msg.data)) and int(seq.group(1)) >= first:
                        ws_lat.append(time.perf_counter_ns() - int(m.group(1)))
                    if f"b{first + count - 1:08d}" in msg.data:
                        return

            async def keepalive() -> None:  # as the browser does; an idle socket is closed after 60 s
                while not ws.closed:
                    await asyncio.sleep(10)
                    await ws.send_str("{}")

            reader = asyncio.create_task(websocket())
            pinger = asyncio.create_task(keepalive())
            # Warm: one client attaches and gets as many lines as the clients will, so what the
            # first attach and relaying (modules, caches, the log's and the websocket's buffers)
            # take is in `before`, and the growth after the relay is the clients'.
            warm = await attach_all(port, email, 1)
            await relay_lines(irc, warm, count, count, args.rate)
            warm[0].close()
            await warm[0].closed.wait()
            before = rss_kib(daemon.pid)
            clients = await attach_all(port, email, args.clients)
            after = rss_kib(daemon.pid)
            spy = await py_spy(args, daemon.pid)
            cpu = daemon_cpu(daemon.pid)
            latencies = await relay_lines(irc, clients, first, count, args.rate)
            cpu = daemon_cpu(daemon.pid) - cpu
            await stop_spy(spy)
            try:
                await asyncio.wait_for(reader, 30)
            except TimeoutError:
                print("  the websocket did not get the last line within 30 s")
            pinger.cancel()
            relayed = rss_kib(daemon.pid)
            for c in clients:
                c.close()
            await ws.close()
    finally:
        await daemon.stop()
        await peer.stop()
        tmp.cleanup()
    n = max(args.clients, 1)
    print(f"== relay: {args.clients} clients, {count} lines at {args.rate:.0f}/s; load {load_start} -> "
          f"{load_base} (baseline done) -> {load()}")
    print(f"baseline, trivial Python relay: RSS {base_before} -> {base_after} KiB, "
          f"{(base_after - base_before) / n:.1f} KiB a client; CPU {base_cpu:.2f} s; latency {dist(base_lat)}")
    print(f"ours, every line to every client: {dist(latencies)}; target p99 < {LATENCY_TARGET_MS:.0f} ms: "
          f"{'met' if pct(latencies, 99) / 1e6 < LATENCY_TARGET_MS else 'missed'}")
    print(f"ours, the browser's websocket meanwhile: {dist(ws_lat)}")
    print(f"ours, daemon CPU during the relay: {cpu:.2f} s, {cpu / count * 1e6:.0f} µs a line "
          f"({cpu / count / n * 1e6:.1f} µs a line and client)")
    per, per_relayed = (after - before) / n, (relayed - before) / n
    print(f"ours, daemon RSS {before} KiB -> {after} KiB with the clients attached -> {relayed} KiB after the "
          f"relay: {per:.1f} KiB a client attached, {per_relayed:.1f} KiB after the relay; target "
          f"< {RSS_TARGET_KB:.0f} KB: {'met' if max(per, per_relayed) * 1.024 < RSS_TARGET_KB else 'missed'}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=["history", "relay", "all"])
    ap.add_argument("home", type=Path, nargs="?", help="a home written by bench/gen_home.py (history)")
    ap.add_argument("--repeat", type=int, default=30, help="requests per history query (30)")
    ap.add_argument("--limit", type=int, default=500, help="lines a history request asks for (500)")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--py-spy", metavar="FILE", help="record the daemon with py-spy (raw stacks) while it is timed")
    args = ap.parse_args()
    if args.part in ("history", "all"):
        if args.home is None:
            ap.error("history needs the home of bench/gen_home.py")
        await bench_history(args)
    if args.part in ("relay", "all"):
        await bench_relay(args)


if __name__ == "__main__":
    asyncio.run(main())
