#!/usr/bin/env python3
"""History and search over HTTP: a running daemon on a home made by bench/gen_home.py.

    python bench/gen_home.py /tmp/bench-home          # ~1 GB, one 315 MB month of #big
    python bench/bench_http.py /tmp/bench-home [--repeat 30] [--search-repeat 15] [--no-grep]

Starts `bin/convos daemon` on a free port. Its CONVOS_HOME is a temporary overlay of the
generated home (JSON files copied, the log directories and notifications.log symlinked), so
the generated home is never written to. Logs in as the generated user, then, with one
keep-alive client, times (median and p90 of N requests, wall clock at the client):

- pages of #big: the newest, the newest of the big month, deep pages (`before` an hour and ten
  days after the start of the big month), `around` its middle, `after` its start; then pages by
  message id next to those (`before_id`/`after_id` of those pages, `around_id` of a message in
  the middle of the month);
- `match` on #big with a rare and a common word (12 months: every #big file);
- searches across the user (`/api/search?match=`, 12 months: every conversation's files), and
  their second pages by `before` and by `before_id`;
- notifications.

Every query alternates with its baseline, measured in the same run on the same files: `tail
-n 60` (pages; `tail -n 40` for notifications) and GNU `grep -c -F WORD` (searches, output to
a pipe: with stdout on /dev/null grep stops at its first match). Search throughput is the bytes
of the files the query covers over the median time; the ratio is grep's time over ours.

Then: the daemon's RSS before, during (sampled every 5 ms) and after searching the whole
gigabyte for a rare word, and the latency of `GET /api/user` from a second client, idle and
while that search runs back to back in the first client.

`--no-grep` runs the daemon with a PATH without grep, to time the pure-Python scan.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import Daemon, free_port, rss_mb

PASSWORD = "benchmark-password"
PAGE_TARGET_MS = 5.0
THROUGHPUT_TARGET = 0.70
RSS_TARGET_MB = 50.0


def overlay_home(src: Path, dst: Path, email: str) -> None:
    """A CONVOS_HOME in `dst` that reads `src`'s logs without ever writing to `src`."""
    for entry in src.iterdir():
        if entry.name.endswith(".json"):
            shutil.copy(entry, dst / entry.name)
    user_src, user_dst = src / email, dst / email
    user_dst.mkdir(mode=0o700)
    for entry in user_src.iterdir():
        if entry.is_dir():
            conn = user_dst / entry.name
            conn.mkdir(mode=0o700)
            for item in entry.iterdir():
                if item.is_dir():
                    (conn / item.name).symlink_to(item)
                else:
                    shutil.copy(item, conn / item.name)
        elif entry.name.endswith(".json"):
            shutil.copy(entry, user_dst / entry.name)
        else:
            (user_dst / entry.name).symlink_to(entry)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def run(cmd: list[str]) -> float:
    """Wall time of a command in ms, output to a pipe (and thrown away)."""
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - t) * 1000


class Client:
    """A minimal HTTP/1.1 keep-alive client (one connection), so the figures are the server's:
    aiohttp's own client adds about a millisecond per request. Logs in with aiohttp."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.host, port = base.split("//", 1)[1].split(":")
        self.port = int(port)
        self.cookie = ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def login(self, email: str) -> None:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            res = await session.post(f"{self.base}/api/user/login", json={"email": email, "password": PASSWORD})
            if res.status != 200:
                raise RuntimeError(
                    f"login: {res.status} {await res.text()} (gen_home.py sets the password only with argon2-cffi)"
                )
            jar = session.cookie_jar.filter_cookies(URL(self.base))
            self.cookie = "; ".join(f"{k}={v.value}" for k, v in jar.items())

    async def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[float, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        target = f"{path}?{urlencode(params)}" if params else path
        request = f"GET {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nCookie: {self.cookie}\r\n\r\n"
        t = time.perf_counter()
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        headers = dict(
            (k.strip().lower(), v.strip()) for k, _, v in (x.partition(b":") for x in head.split(b"\r\n")[1:] if x)
        )
        if headers.get(b"transfer-encoding") == b"chunked":
            body = b""
            while size := int((await self.reader.readline()).strip(), 16):
                body += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readline()
        else:
            body = await self.reader.readexactly(int(headers[b"content-length"]))
        ms = (time.perf_counter() - t) * 1000
        if status != 200:
            raise RuntimeError(f"GET {target}: {status} {body[:300]!r}")
        return ms, json.loads(body) if body else None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# The control for /api/user: a trivial HTTP server in its own process, polled the same way at
# the same moments, so a stall of the whole machine shows up in both columns.
CONTROL_SERVER = r"""
import asyncio, sys
async def serve(reader, writer):
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


class Row:
    def __init__(self, name: str, ours: list[float], note: str, base_name: str = "", base: list[float] | None = None,
                 covered: int = 0, kind: str = "page") -> None:
        self.name, self.ours, self.note = name, ours, note
        self.base_name, self.base, self.covered, self.kind = base_name, base or [], covered, kind

    @property
    def median(self) -> float:
        return statistics.median(self.ours)

    @property
    def base_median(self) -> float:
        return statistics.median(self.base) if self.base else float("nan")


async def alternate(
    n: int, ours: Callable[[], Awaitable[tuple[float, Any]]], baseline: list[str] | None
) -> tuple[list[float], list[float], Any]:
    """n timings of ours and of the baseline command, one after the other, after a warm-up."""
    _, body = await ours()
    if baseline:
        run(baseline)
    mine, base = [], []
    for _ in range(n):
        ms, body = await ours()
        mine.append(ms)
        if baseline:
            base.append(await asyncio.to_thread(run, baseline))
    return mine, base, body


async def sample_rss(pid: int, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        out.append(rss_mb(pid))
        try:
            await asyncio.wait_for(stop.wait(), 0.005)
        except TimeoutError:
            pass


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("home", type=Path, help="a home written by bench/gen_home.py")
    ap.add_argument("--repeat", type=int, default=30, help="requests per page query (30)")
    ap.add_argument("--search-repeat", type=int, default=15, help="requests per search (15)")
    ap.add_argument("--busy-seconds", type=float, default=4.0, help="how long /api/user is timed under load")
    ap.add_argument("--no-grep", action="store_true", help="hide grep from the daemon (pure-Python scans)")
    args = ap.parse_args()
    info = json.loads((args.home / "bench.json").read_text())
    email, connection_id, big = info["email"], info["connection_id"], info["big_conversation"]
    conn_dir = args.home / email / connection_id
    big_file = args.home / info["big_file"]
    year, month = info["big_month"]
    month_start = datetime(year, month, 1, tzinfo=UTC)
    month_end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    now = datetime.fromisoformat(info["now"]).replace(tzinfo=UTC)
    year_ago = now - timedelta(days=365)
    rare, common = info["rare_word"], info["common_word"]
    esc = lambda cid: cid.replace("/", "%2F")  # noqa: E731
    big_files = sorted(conn_dir.glob(f"*/*/{esc(big)}.log"), reverse=True)
    conv_files = sorted(p for cid in info["conversations"] for p in conn_dir.glob(f"*/*/{esc(cid)}.log"))
    newest_big = big_files[0]
    notes = args.home / email / "notifications.log"
    size = lambda files: sum(f.stat().st_size for f in files)  # noqa: E731
    for f in [*conv_files, notes]:  # page cache warm for ours and the baselines alike
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass

    load_before = os.getloadavg()
    tmp = tempfile.TemporaryDirectory(prefix="convos-bench-http-")
    home = Path(tmp.name)
    overlay_home(args.home, home, email)
    env = {"CONVOS_SKIP_CONNECT": "1"}
    if args.no_grep:
        nogrep = home / "nogrep-bin"
        nogrep.mkdir()
        env["PATH"] = str(nogrep)
    daemon = await Daemon(home, env=env).start()
    a, b = Client(daemon.url), Client(daemon.url)
    rows: list[Row] = []
    try:
        await a.login(email)
        await b.login(email)
        conv = f"/api/connection/{connection_id}/conversation/{quote(big, safe='')}/messages"
        ts = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S")  # noqa: E731
        tail60 = ["tail", "-n", "60", str(big_file)]

        async def page(name: str, params: dict[str, Any], baseline: list[str], base_name: str) -> None:
            mine, base, body = await alternate(args.repeat, lambda: a.get(conv, params), baseline)
            rows.append(Row(name, mine, f"{len(body['messages'])} msgs", base_name, base))

        rss_start = rss_mb(daemon.pid)
        await page("newest page (60)", {}, ["tail", "-n", "60", str(newest_big)], "tail -n 60, newest file")
        await page(f"newest page of the big month ({big_file.stat().st_size / 1e6:.0f} MB)",
                   {"before": ts(month_end)}, tail60, "tail -n 60, same file")
        await page("deep page: before = month start + 1 h", {"before": ts(month_start + timedelta(hours=1))},
                   tail60, "tail -n 60, big file")
        await page("deep page: before = month start + 10 d", {"before": ts(month_start + timedelta(days=10))},
                   tail60, "tail -n 60, big file")
        await page("around = middle of the month (60 + 60)",
                   {"around": ts(month_start + timedelta(days=15, hours=7))}, tail60, "tail -n 60, big file")
        await page("after = month start (forwards)", {"after": ts(month_start)}, tail60, "tail -n 60, big file")

        # By message id at the same depths: each cursor is the one the timestamp page hands out
        # (its before_id/after_id), as a client paging from there sends it.
        async def cursor(params: dict[str, Any]) -> dict[str, Any]:
            body: dict[str, Any] = (await a.get(conv, params))[1]
            return body

        middle = month_start + timedelta(days=15, hours=7)
        id_pages = [
            ("before_id: page 2 (from the newest page)", {}, "before_id"),
            ("before_id: page 2 of the big month", {"before": ts(month_end)}, "before_id"),
            ("before_id: from month start + 10 d", {"before": ts(month_start + timedelta(days=10))}, "before_id"),
            ("before_id: from month start + 1 h", {"before": ts(month_start + timedelta(hours=1))}, "before_id"),
            ("around_id: a message in the middle of the month (60 + 60)", {"after": ts(middle)}, "around_id"),
            ("after_id: page 2 from month start (forwards)", {"after": ts(month_start)}, "after_id"),
        ]
        for name, params, key in id_pages:
            body = await cursor(params)
            value = body["messages"][0]["id"] if key == "around_id" else body[key]
            await page(name, {key: value}, tail60, "tail -n 60, big file")

        async def search(name: str, path: str, params: dict[str, Any], word: str, files: list[Path], n: int) -> None:
            grep = ["grep", "-c", "-F", word, *map(str, files)]
            mine, base, body = await alternate(n, lambda: a.get(path, params), grep)
            rows.append(Row(name, mine, f"{len(body['messages'])} msgs", "grep -c -F, same files", base,
                            covered=size(files), kind="search"))

        n = args.search_repeat
        await search(f"match {rare!r} on {big} (12 months)", conv, {"match": rare, "before": ts(now)}, rare,
                     big_files, n)
        await search(f"match {common!r} on {big} (12 months)", conv, {"match": common, "before": ts(now)},
                     common, big_files, max(3, n // 3))
        user_search = {"match": rare, "after": ts(year_ago)}
        rss_before = rss_mb(daemon.pid)
        stop, during = asyncio.Event(), []
        sampler = asyncio.create_task(sample_rss(daemon.pid, stop, during))
        await search(f"search {rare!r}, all conversations", "/api/search", user_search, rare, conv_files, n)
        stop.set()
        await sampler
        rss_after = rss_mb(daemon.pid)
        await search(f"search {common!r}, all conversations", "/api/search", {"match": common, "after": ts(year_ago)},
                     common, conv_files, max(3, n // 3))
        # Page 2 of searches, by the before_id of page 1: the common word from a deep cursor,
        # and the rare word over what lies beyond its first page (grep: the files it covers).
        first = (await a.get("/api/search", {"match": common, "after": ts(year_ago),
                                             "before": ts(month_start + timedelta(days=10))}))[1]
        await search(f"search {common!r}, all, before_id from month start + 10 d", "/api/search",
                     {"match": common, "after": ts(year_ago), "before_id": first["before_id"]}, common, conv_files,
                     max(3, n // 3))
        first = (await a.get("/api/search", user_search))[1]
        month_of_cursor = first["before"][:7].replace("-", "/")
        older = [f for f in conv_files if f"{f.parent.parent.name}/{f.parent.name}" <= month_of_cursor]
        await search(f"search {rare!r}, all, page 2 by before", "/api/search", {**user_search, "before": first["before"]},
                     rare, older, n)
        await search(f"search {rare!r}, all, page 2 by before_id", "/api/search",
                     {**user_search, "before_id": first["before_id"]}, rare, older, n)
        mine, base, body = await alternate(args.repeat, lambda: a.get("/api/notifications"),
                                           ["tail", "-n", "40", str(notes)])
        rows.append(Row(f"notifications (40 of {notes.stat().st_size / 1e6:.0f} MB)", mine,
                        f"{len(body['messages'])} items", "tail -n 40, same file", base))

        # GET /api/user from a second client: idle, then while the first searches back to back;
        # each request is followed by one to the control server.
        port = free_port()
        control_proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CONTROL_SERVER, str(port), stdout=asyncio.subprocess.PIPE
        )
        assert control_proc.stdout is not None
        await control_proc.stdout.readline()
        control = Client(f"http://127.0.0.1:{port}")

        async def poll(until: float, user: list[float], ctl: list[float]) -> None:
            while time.monotonic() < until:
                user.append((await b.get("/api/user"))[0])
                ctl.append((await control.get("/"))[0])
                await asyncio.sleep(0.02)

        idle: list[float] = []
        idle_ctl: list[float] = []
        await poll(time.monotonic() + 1.5, idle, idle_ctl)
        busy: list[float] = []
        busy_ctl: list[float] = []
        searches = 0
        running = asyncio.Event()

        async def hammer() -> None:
            nonlocal searches
            while True:
                running.set()
                await a.get("/api/search", user_search)
                searches += 1

        task = asyncio.create_task(hammer())
        await running.wait()
        await asyncio.sleep(0.05)
        await poll(time.monotonic() + args.busy_seconds, busy, busy_ctl)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await control.close()
        control_proc.terminate()
        await control_proc.wait()
        rss_end = rss_mb(daemon.pid)
        problems = daemon.problems()
    finally:
        await a.close()
        await b.close()
        await daemon.stop()
        tmp.cleanup()
    load_after = os.getloadavg()

    # --- report ---------------------------------------------------------------------------
    width = max(len(r.name) for r in rows)
    print(f"{'what':<{width}}  {'median':>8}  {'p90':>8}  {'baseline':<24} {'median':>8}  {'ratio':>6}  result")
    for r in rows:
        ratio = r.base_median / r.median if r.base else float("nan")
        print(f"{r.name:<{width}}  {r.median:>8.2f}  {pct(r.ours, 90):>8.2f}  {r.base_name:<24} "
              f"{r.base_median:>8.2f}  {ratio:>6.2f}  {r.note}")
    print("(ms; ratio = baseline time / ours, so above 1 is faster than the baseline)")
    print()
    for r in rows:
        if r.kind == "search" and repr(rare) in r.name:
            ours_bps, grep_bps = r.covered / r.median / 1e3, r.covered / r.base_median / 1e3
            print(f"{r.name}: {r.covered / 1e6:.0f} MB, ours {ours_bps:.0f} MB/s, grep {grep_bps:.0f} MB/s, "
                  f"{ours_bps / grep_bps:.0%} of grep")
        elif r.kind == "search":
            print(f"{r.name}: stops at the newest matches, {r.base_median / r.median:.0f}x faster than grep reading "
                  f"all {r.covered / 1e6:.0f} MB")
    print()
    pages = [r for r in rows if r.kind == "page"]
    worst = max(pages, key=lambda r: r.median)
    for kind, prefix in (("timestamp", ("deep", "around =", "after =")), ("id", ("before_id", "after_id", "around_id"))):
        slowest = max((r for r in pages if r.name.startswith(prefix)), key=lambda r: r.median)
        print(f"slowest page by {kind} cursor: {slowest.median:.2f} ms = {slowest.median / rows[0].median:.1f}x the "
              f"newest page, {slowest.median / rows[1].median:.1f}x the newest of the big month ({slowest.name})")
    rare_rows = [r for r in rows if r.kind == "search" and repr(rare) in r.name and "page 2" not in r.name]
    worst_ratio = min(r.base_median / r.median for r in rare_rows)
    growth = max(during) - rss_before
    print(f"pages and notifications: slowest median {worst.median:.2f} ms ({worst.name}); "
          f"target < {PAGE_TARGET_MS} ms: {'met' if worst.median < PAGE_TARGET_MS else 'MISSED'}")
    print(f"rare-word throughput: {worst_ratio:.0%} of grep -c -F at worst; target >= {THROUGHPUT_TARGET:.0%}: "
          f"{'met' if worst_ratio >= THROUGHPUT_TARGET else 'MISSED'}")
    print(f"daemon RSS: {rss_start:.1f} MiB at the start, {rss_before:.1f} before the {size(conv_files) / 1e6:.0f} MB "
          f"search, {max(during):.1f} at most during it ({len(during)} samples), {rss_after:.1f} after, "
          f"{rss_end:.1f} at the end; growth {growth:+.1f} MiB, target <= {RSS_TARGET_MB:.0f} MB: "
          f"{'met' if growth * 1.048576 <= RSS_TARGET_MB else 'MISSED'}")
    def dist(values: list[float]) -> str:
        return f"median {statistics.median(values):.2f} ms, p90 {pct(values, 90):.2f}, max {max(values):.2f}"

    print(f"GET /api/user, idle: {dist(idle)} ({len(idle)} requests); control server: {dist(idle_ctl)}")
    print(f"GET /api/user during back-to-back searches of {size(conv_files) / 1e6:.0f} MB ({searches} searches "
          f"finished): {dist(busy)} ({len(busy)} requests); control server: {dist(busy_ctl)}")
    grep_version = subprocess.run(["grep", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
          f"{platform.python_implementation()} {platform.python_version()}; {grep_version}; "
          f"daemon {'without' if args.no_grep else 'with'} grep")
    if problems:
        print("daemon warnings:", *problems[:10], sep="\n  ")


if __name__ == "__main__":
    asyncio.run(main())
