#!/usr/bin/env python3
"""Time the log store directly on a home made by bench/gen_home.py, next to tail and grep.

Pages by timestamp cursor and by message id (`before_id`, `after_id`, `around_id`) at several
depths of #big, and searches (the newest page, and pages by `before` and `before_id`).

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

from convos.store import logs as logfile
from convos.store.logs import grep as loggrep
from convos.store.logs.format import escape_conversation_id, split_line
from convos.store.logs.reader import find_message_id
from convos.store.logs.seek import LogFile


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
    first_month = min(datetime(int(p.parent.parent.name), int(p.parent.name), 1, tzinfo=UTC) for p in big_conv_files)
    page(f"deep page: before = {first_month:%Y-%m} + 1d (oldest file)", before=first_month + timedelta(days=1))

    # By message id, at the same depths: each cursor is one a client paging from there gets
    # (the page's `before_id`/`after_id`), so the id pages are the pages right next to the ones above.
    def cursor(**query: object) -> logfile.MessagePage:
        return logfile.read_messages(conn, big, now=now, **query)

    def by_id(name: str, **query: object) -> None:
        page(name, **{k: logfile.parse_message_id(v) for k, v in query.items()})

    by_id("before_id: page 2 (from the newest page)", before_id=cursor().before_id)
    by_id("before_id: page 2 of the big month", before_id=cursor(before=month_end).before_id)
    by_id("before_id: from month start + 10d", before_id=cursor(before=month_start + timedelta(days=10)).before_id)
    by_id("before_id: from month start + 1h", before_id=cursor(before=month_start + timedelta(hours=1)).before_id)
    by_id(f"before_id: from {first_month:%Y-%m} + 1d (oldest file)",
          before_id=cursor(before=first_month + timedelta(days=1)).before_id)
    middle = month_start + timedelta(days=15, hours=7)
    by_id("around_id: a message in the middle of the month", around_id=cursor(after=middle).messages[0].id)
    by_id("after_id: page 2 from month start (forwards)", after_id=cursor(after=month_start).after_id)
    by_id("after_id: from the middle of the month", after_id=cursor(after=middle).after_id)
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
    deep = logfile.parse_message_id(cursor(before=month_start + timedelta(days=10)).before_id)
    ms, res = timed(lambda: logfile.search_conversation(conn, big, match=common, limit=60, before_id=deep), r)
    rows.append((f"search {common!r} in {big}, before_id = month start + 10d", ms, f"{len(res.messages)} hits"))

    # Page 2 of the rare-word search of every conversation, by its timestamp and its id cursor
    # (as FileStore.search_messages makes them): it reads what lies beyond page 1.
    cids = info["conversations"]
    found = logfile.search_conversations([(conn, cid) for cid in cids], match=rare, limit=60)
    results = [([(cid, m) for m in f.messages], f.more, f.split) for cid, f in zip(cids, found, strict=True)]
    _, last, _ = logfile.merge_exact(results, 60, lambda x: logfile.parse_message_id(x[1].id))
    assert last is not None, "page 1 of the rare-word search should have a next page"
    older_bytes = size([f for f in conv_files if f.parent.parent.name + f.parent.name
                        <= f"{last[1].ts[:4]}{last[1].ts[5:7]}"])

    def search_page2(**query: object) -> object:
        found = logfile.search_conversations([(conn, cid) for cid in cids], match=rare, limit=60, **query)
        results = [([(cid, m) for m in f.messages], f.more, f.split) for cid, f in zip(cids, found, strict=True)]
        if "before_id" in query:
            return logfile.merge_exact(results, 60, lambda x: logfile.parse_message_id(x[1].id))[0]
        return logfile.merge_newest_first([r[:2] for r in results], 60, lambda x: x[1].ts)[0]

    ms, res = timed(lambda: search_page2(before=datetime.fromisoformat(last[1].ts).replace(tzinfo=UTC)), few)
    rows.append((f"search {rare!r}, all, page 2 by before (<= {older_bytes / 1e6:.0f} MB)", ms, f"{len(res)} hits"))
    before_id = logfile.parse_message_id(last[1].id)
    ms, res = timed(lambda: search_page2(before_id=before_id), few)
    rows.append((f"search {rare!r}, all, page 2 by before_id", ms, f"{len(res)} hits"))

    notes = args.home / info["email"] / "notifications.log"
    ms, res = timed(lambda: logfile.read_notifications(notes, 40), r)
    rows.append((f"notifications (40 of {notes.stat().st_size / 1e6:.0f} MB)", ms, f"{len(res)} items"))
    # As the daemon reads them: with the id of each one's line. The generated notifications
    # name no logged line (their months have no files), so this is only the cost of looking.
    user_dir = args.home / info["email"]
    ms, res = timed(lambda: logfile.read_notifications(notes, 40, user_dir), r)
    rows.append(("  the same, with message ids (as the daemon)", ms, f"{sum(n.id is not None for n in res)} ids"))
    # What looking up a notification's line costs when it is there: 40 lines of the newest
    # month of each conversation, found by time and text.
    wanted = []
    for cid in info["conversations"]:
        newest_file = sorted(conn.glob(f"*/*/{escape_conversation_id(cid)}.log"))[-1]
        with open(newest_file, "rb") as fh:  # 4 lines from the middle and the last quarter
            for at in (0.5, 0.6, 0.75, 0.9):
                fh.seek(int(newest_file.stat().st_size * at))
                fh.readline()
                parts = split_line(fh.readline().decode("utf-8", "replace"))
                if parts is not None:
                    wanted.append((cid, parts[0], parts[2]))
    wanted = wanted[:40]

    def lookup() -> list[str | None]:  # as read_notifications: each month file opened once
        files: dict[str, LogFile | None] = {}
        try:
            return [find_message_id(conn, cid, t, body, files) for cid, t, body in wanted]
        finally:
            for lf in files.values():
                if lf is not None:
                    lf.close()

    ms, res = timed(lookup, r)
    rows.append((f"  ids of {len(wanted)} logged lines (find_message_id)", ms,
                 f"{sum(x is not None for x in res)} found"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    width = max(len(name) for name, _, _ in rows)
    print(f"{'what':<{width}}  {'median ms':>10}  result")
    for name, ms, note in rows:
        print(f"{name:<{width}}  {ms:>10.2f}  {note}")
    print()
    print(f"newest page of the big month vs tail -n 60 on it: {rows[1][1] / ms_tail:.2f}x the time")
    newest_ms = rows[0][1]
    for kind, prefix in (("timestamp", ("deep", "around =", "after =")), ("id", ("before_id", "after_id", "around_id"))):
        worst = max((row for row in rows if row[0].startswith(prefix)), key=lambda row: row[1])
        print(f"slowest page by {kind} cursor: {worst[1]:.2f} ms = {worst[1] / newest_ms:.1f}x the newest page "
              f"({worst[0]})")
    print(
        f"rare-word search throughput vs grep -c -F: {ratio_big:.0%} ({big}), {ratio_all:.0%} (all conversations)"
    )
    print(f"  ours {big_bytes / ms_ours / 1e3:.0f} MB/s, grep {big_bytes / ms_grep / 1e3:.0f} MB/s")
    print(f"RSS before {rss0:.0f} MB, peak {peak:.0f} MB (growth {peak - rss0:.0f} MB)")
    print(f"python {sys.version.split()[0]}, grep: {shutil.which('grep')}, used: {loggrep.grep_executable()}")


if __name__ == "__main__":
    main()
