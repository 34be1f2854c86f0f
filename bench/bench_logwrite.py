#!/usr/bin/env python3
"""The store's share of ingest, in-process: CPU per line of `FileStore.log_message` + `after_logs`.

    python bench/bench_logwrite.py [--lines 100000] [--heap 150000] [--closure] [--root TREE]

Queues N lines (500 per loop iteration, as a flood arrives) through `log_message`, asks
`after_logs` for a callback after each, and waits until every callback ran. Prints the CPU time of
the loop thread and of the process per line, and how often the garbage collector ran and for how
long. `--heap` keeps that many small dicts alive (twice as many objects for the collector), as a
daemon's modules and users do: a full collection walks them all. `--closure` passes a new
closure per line to `after_logs`, as `core/chat.py`'s `emit` does.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

if "--root" in sys.argv:  # another checkout, e.g. a git worktree of an older commit
    sys.path.insert(0, sys.argv[sys.argv.index("--root") + 1])
else:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from convos.store.file import FileStore

CHUNK = 500
TEXT = "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor"


async def run(args: argparse.Namespace) -> None:
    gc_time, gc_runs, started = [0.0], [0], [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            gc_time[0] += time.perf_counter() - started[0]
            gc_runs[0] += 1

    heap = [{"i": i, "l": [i]} for i in range(args.heap)]
    got = [0]

    def published() -> None:
        got[0] += 1

    with tempfile.TemporaryDirectory(prefix="convos-bench-logwrite-") as home:
        store = FileStore(Path(home))
        # Trees before message ids (fbcb719 and older) published at once: so does this, there.
        after_logs = getattr(store, "after_logs", lambda callback: callback())

        def emit(event: dict[str, object]) -> None:
            def publish() -> None:  # what core/chat.py hands to after_logs
                event.get("id")
                got[0] += 1

            after_logs(publish)

        ts = time.time()
        gc.callbacks.append(on_gc)
        loop0, cpu0, t0 = time.thread_time(), time.process_time(), time.perf_counter()
        for first in range(0, args.lines, CHUNK):
            for i in range(first, min(args.lines, first + CHUNK)):
                ref = store.log_message("bench@example.com", "irc-bench", "#chan", ts + i / 1e4, "private",
                                        f"user{i % 50}", f"b{i:08d} {TEXT}")
                if args.closure:
                    emit({"event": "message", "id": ref})
                else:
                    after_logs(published)
            await asyncio.sleep(0)
        done = asyncio.Event()
        after_logs(done.set)  # runs after every callback before it
        await done.wait()
        await store.flush_logs()  # older trees: their lines may still be on their way
        assert got[0] == args.lines
        loop_cpu, cpu, wall = time.thread_time() - loop0, time.process_time() - cpu0, time.perf_counter() - t0
        gc.callbacks.remove(on_gc)
        await store.close()
    n = args.lines
    print(f"{n} lines{' (a closure per event)' if args.closure else ''}: loop thread {loop_cpu / n * 1e6:.1f} us/line, "
          f"process {cpu / n * 1e6:.1f} us/line, wall {wall / n * 1e6:.1f} us/line; garbage collector: {gc_runs[0]} "
          f"runs, {gc_time[0] / n * 1e6:.2f} us/line; {len(heap)} dicts kept alive; {sys.modules[FileStore.__module__].__file__}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--heap", type=int, default=150_000, help="small dicts kept alive (150000)")
    ap.add_argument("--closure", action="store_true", help="a closure per event, as core/chat.py's emit")
    ap.add_argument("--root", help="time the convos package of another checkout")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
