#!/usr/bin/env python3
"""Serving uploads over HTTP: a running daemon, one keep-alive client, whole files and ranges.

    python bench/bench_files.py [--size 40M] [--repeat 20]

Starts `bin/convos daemon` on a free port with a temp CONVOS_HOME, registers a user, uploads a
file of `--size` random bytes, then times (median and p90 of N requests, wall clock at the
client, the body read to its end): the whole file, a 1 MiB range in its middle, its last 64 KiB,
and a `304` by ETag. Throughput is bytes over the median time. The daemon's RSS is sampled
during the whole-file downloads: the file is streamed, so it should not grow by the file's size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import EMAIL, PASSWORD, Daemon


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1:].upper() in units else int(text)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def timed(session: aiohttp.ClientSession, url: str, headers: dict[str, str], repeat: int,
                status: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        async with session.get(url, headers=headers) as res:
            await res.read()
            assert res.status == status, (res.status, url, headers)
        times.append(time.perf_counter() - start)
    return times


def report(name: str, times: list[float], size: int) -> None:
    med = statistics.median(times)
    p90 = sorted(times)[int(len(times) * 0.9) - 1] if len(times) >= 10 else max(times)
    rate = f"{size / med / (1 << 20):8.0f} MiB/s" if size else ""
    print(f"{name:28} median {med * 1000:8.2f} ms   p90 {p90 * 1000:8.2f} ms  {rate}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="40M")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    size = parse_size(args.size)
    with tempfile.TemporaryDirectory(prefix="convos-bench-files-") as tmp:
        daemon = await Daemon(Path(tmp), env={"CONVOS_MAX_UPLOAD_SIZE": str(size + (1 << 20)), "CONVOS_SKIP_CONNECT": "1"}).start()
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                res = await session.post(f"{daemon.url}/api/user/register", json={"email": EMAIL, "password": PASSWORD})
                assert res.status == 200, await res.text()
                form = aiohttp.FormData()
                form.add_field("file", os.urandom(size), filename="clip.mp4", content_type="video/mp4")
                res = await session.post(f"{daemon.url}/api/files", data=form,
                                         headers={"X-Requested-With": "XMLHttpRequest", "Origin": daemon.url})
                assert res.status == 200, await res.text()
                fid = (await res.json())["files"][0]["id"]
                url = f"{daemon.url}/file/1/{fid}.mp4"
                async with session.get(url) as res:
                    etag = res.headers["ETag"]
                    await res.read()
                rss_before = rss_kib(daemon.pid)
                peak = rss_before
                sampling = True

                async def sample() -> None:
                    nonlocal peak
                    while sampling:
                        peak = max(peak, rss_kib(daemon.pid))
                        await asyncio.sleep(0.005)

                sampler = asyncio.create_task(sample())
                whole = await timed(session, url, {}, args.repeat, 200)
                sampling = False
                await sampler
                mid = size // 2
                ranged = await timed(session, url, {"Range": f"bytes={mid}-{mid + (1 << 20) - 1}"}, args.repeat, 206)
                tail = await timed(session, url, {"Range": "bytes=-65536"}, args.repeat, 206)
                cached = await timed(session, url, {"If-None-Match": etag}, args.repeat, 304)
            print(f"file of {size / (1 << 20):.0f} MiB, {args.repeat} requests each")
            report("whole file", whole, size)
            report("1 MiB range in the middle", ranged, 1 << 20)
            report("last 64 KiB", tail, 65536)
            report("304 by ETag", cached, 0)
            print(f"daemon RSS {rss_before / 1024:.0f} MiB before, peak {peak / 1024:.0f} MiB while downloading")
            problems = daemon.problems()
            if problems:
                print("\n".join(problems))
        finally:
            await daemon.stop()


if __name__ == "__main__":
    asyncio.run(main())
