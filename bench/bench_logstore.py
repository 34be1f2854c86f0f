#!/usr/bin/env python3
"""Time the log store directly on a home made by bench/gen_home.py, next to tail and grep.

    python bench/gen_home.py /tmp/bench-home
    python bench/bench_logstore.py /tmp/bench-home [--repeat 30] [--no-grep]

Files are read once first, so every timing (ours, tail's and grep's) is from the page cache.
Throughput ratios compare bytes per second on exactly the same files. The baselines write to
a pipe: with stdout on /dev/null GNU grep stops at the first match, which is no baseline.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from convos.store import logfile, loggrep
from convos.store.logformat import escape_conversation_id


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time in ms, and the last result."""
    result, times = None, []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def run(cmd: list[str], repeat: int) -> float:
    # Output to a pipe, not /dev/null: GNU grep notices /dev/null and stops at the first match.
    def call() -> None:
        subprocess.run(cmd, stdout=subprocess.PIPE, check=False)

    return timed(call, repeat)[0]


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("home", type=Path)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--no-grep", action="store_true", help="scan in Python only (no grep prefilter)")
    args = ap.parse_args()
    if args.no_grep:
        loggrep._grep = None
    info = json.loads((args.home / "bench.json").read_text())
    conn = args.home / info["email"] / info["connection_id"]
    big = info["big_conversation"]
    big_file = args.home / info["big_file"]
    now = datetime.fromisoformat(info["now"]).replace(tzinfo=UTC)
    rare, common = info["rare_word"], info["common_word"]
    year, month = info["big_month"]
    month_start = datetime(year, month, 1, tzinfo=UTC)
    conv_files = sorted(
        p for cid in info["conversations"] for p in conn.glob(f"*/*/{escape_conversation_id(cid)}.log")
    )
    big_conv_files = sorted(conn.glob(f"*/*/{escape_conversation_id(big)}.log"))
    size = lambda files: sum(f.stat().st_size for f in files)  # noqa: E731
    for f in conv_files:  # warm the page cache
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass

    rows: list[tuple[str, float, str]] = []
    r = args.repeat

    def page(name: str, **query: object) -> None:
        ms, res = timed(lambda: logfile.read_messages(conn, big, now=now, **query), r)
        rows.append((name, ms, f"{len(res.messages)} msgs"))

    rss0 = rss_mb()
    page("newest page (60)")
    month_end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    page(f"newest page of the big month ({big_file.stat().st_size / 1e6:.0f} MB)", before=month_end)
    page("deep page: before = month start + 1h", before=month_start + timedelta(hours=1))
    page("deep page: before = month start + 10d", before=month_start + timedelta(days=10))
    page("around = middle of the month", around=month_start + timedelta(days=15, hours=7))
    page("after = month start (forwards)", after=month_start)
    ms_tail = run(["tail", "-n", "60", str(big_file)], r)  # the newest lines of the big month
    rows.append(("  baseline: tail -n 60 (process incl.)", ms_tail, ""))

    few = max(3, r // 10)
    ms, res = timed(lambda: logfile.read_messages(conn, big, now=now, match=common), r)
    rows.append((f"match common word {common!r}", ms, f"{len(res.messages)} msgs"))
    ms, res = timed(lambda: logfile.read_messages(conn, big, now=now, match=rare), few)
    rows.append((f"match rare word {rare!r} (12 months of {big})", ms, f"{len(res.messages)} msgs"))

    big_bytes = size(big_conv_files)
    ms_ours, res = timed(lambda: logfile.search_conversation(conn, big, match=rare, limit=60), few)
    ms_grep = run(["grep", "-c", "-F", rare, *map(str, big_conv_files)], few)
    rows.append(
        (f"search {rare!r} in {big} ({big_bytes / 1e6:.0f} MB)", ms_ours, f"{len(res.messages)} hits")
    )
    rows.append(("  baseline: grep -c -F, same files", ms_grep, ""))
    ratio_big = ms_grep / ms_ours

    all_bytes = size(conv_files)

    def search_all() -> object:  # as FileStore.search_messages: one pass (one grep) for all
        cids = info["conversations"]
        found = logfile.search_conversations([(conn, cid) for cid in cids], match=rare, limit=60)
        results = [([(cid, m) for m in f.messages], f.more) for cid, f in zip(cids, found, strict=True)]
        return logfile.merge_newest_first(results, 60, lambda x: x[1].ts)

    ms_all, res = timed(search_all, few)
    ms_grep_all = run(["grep", "-c", "-F", rare, *map(str, conv_files)], few)
    rows.append(
        (f"search {rare!r}, all conversations ({all_bytes / 1e6:.0f} MB)", ms_all, f"{len(res[0])} hits")
    )
    rows.append(("  baseline: grep -c -F, same files", ms_grep_all, ""))
    ratio_all = ms_grep_all / ms_all
    ms, res = timed(lambda: logfile.search_conversation(conn, big, match=common, limit=60), r)
    rows.append((f"search common word {common!r} in {big}", ms, f"{len(res.messages)} hits"))

    notes = args.home / info["email"] / "notifications.log"
    ms, res = timed(lambda: logfile.read_notifications(notes, 40), r)
    rows.append((f"notifications (40 of {notes.stat().st_size / 1e6:.0f} MB)", ms, f"{len(res)} items"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    width = max(len(name) for name, _, _ in rows)
    print(f"{'what':<{width}}  {'median ms':>10}  result")
    for name, ms, note in rows:
        print(f"{name:<{width}}  {ms:>10.2f}  {note}")
    print()
    print(f"newest page of the big month vs tail -n 60 on it: {rows[1][1] / ms_tail:.2f}x the time")
    print(
        f"rare-word search throughput vs grep -c -F: {ratio_big:.0%} ({big}), {ratio_all:.0%} (all conversations)"
    )
    print(f"  ours {big_bytes / ms_ours / 1e3:.0f} MB/s, grep {big_bytes / ms_grep / 1e3:.0f} MB/s")
    print(f"RSS before {rss0:.0f} MB, peak {peak:.0f} MB (growth {peak - rss0:.0f} MB)")
    print(f"python {sys.version.split()[0]}, grep: {shutil.which('grep')}, used: {loggrep.grep_executable()}")


if __name__ == "__main__":
    main()
