"""The scan behind pages and search: which lines make a result, read in Python or through grep.

A `Scan` reads month files in scan order (newest first, or oldest first) and offers lines to
a `Collector`, which knows when no unread line can change the result. With a byte prefilter
(from `match` or `from`) it reads the newest part in Python, and, when that did not settle the
result, hands the rest of the files to grep (grep.py) and checks only the lines grep finds.
See docs/logs.md.
"""

from __future__ import annotations

import heapq
import os
import threading
from dataclasses import dataclass
from itertools import accumulate

from . import collect, grep
from .collect import Collector, Query
from .format import LogMessage
from .id import pos_key
from .seek import HEAD, MAX_EPOCH, SLACK_SECONDS, LogFile, edge_key, epoch_key, line_key

# Bytes read in Python before grep is considered (enough for a common word to fill a page).
PYTHON_BUDGET = 256 << 10
# Rough costs that choose between reading on in Python and handing the rest to grep.
PYTHON_RATE = 0.6e9  # bytes/s: bytes.lower() + find()
GREP_RATE = 5e9  # bytes/s: grep -F -i
LINE_COST = 3e-6  # s per prefilter hit: cut out (or piped), decoded, parsed, matched
GREP_START = 2e-3  # s: starting grep


class Scan:
    """One query over month files in scan order, resumable: `python()` reads on in Python
    (within a byte budget), `grep_scans()` reads the rest through grep."""

    def __init__(self, paths: list[str], q: Query, cancel: threading.Event | None = None) -> None:
        self.paths, self.q, self.cancel = paths, q, cancel
        self.col = Collector(q)
        self.i = 0  # the first file not read to the end of its region
        self.pos: int | None = None  # where file i resumes (backwards: region end; forwards: start)
        self.finished = False
        self.scanned = 0  # bytes read so far
        self.hits = 0  # lines holding the prefilter among them

    def start(self, lf: LogFile, n: int) -> int:
        """Where file n's region starts in scan order; only the first file is searched for it."""
        q = self.q
        if q.forward:
            return lf.bisect(epoch_key(q.lo - SLACK_SECONDS)) if n == 0 and q.lo > 0 else 0
        return lf.bisect(epoch_key(q.hi + SLACK_SECONDS)) if n == 0 and q.hi < MAX_EPOCH else lf.end

    def region(self, lf: LogFile, n: int) -> tuple[int, int]:
        pos = self.pos if n == self.i and self.pos is not None else self.start(lf, n)
        return (pos, lf.end) if self.q.forward else (0, pos)

    def python(self, budget: int | None = None) -> bool:
        """Read on in Python until the result is known (True) or `budget` more bytes were read."""
        q, col = self.q, self.col
        stop_at = None if budget is None else self.scanned + budget
        prefilter = q.prefilter
        fold = prefilter is not None and prefilter.lower() != prefilter.upper()
        while self.i < len(self.paths):
            if stop_at is not None and self.scanned >= stop_at:
                return False
            lf = LogFile.open(self.paths[self.i])
            if lf is None:
                self.i, self.pos = self.i + 1, None
                continue
            try:
                if self.pos is None:
                    self.pos = self.start(lf, self.i)
                if q.forward:
                    chunks = lf.chunks_forward(self.pos, q.search)
                else:
                    chunks = lf.chunks_backward(self.pos, q.search)
                for data, a, b, base in chunks:
                    if self.cancel is not None and self.cancel.is_set():
                        raise grep.Cancelled()
                    if prefilter is None:
                        edge = _offer_lines(col, data, a, b, base, q.forward)
                    else:
                        self.hits += _offer_hits(col, data, a, b, base, prefilter, fold, q.forward)
                        edge = edge_key(data, a, b, first=not q.forward)
                    self.scanned += b - a
                    self.pos = base + b if q.forward else base + a
                    if col.done(edge):
                        self.finished = True
                        return True
                    if stop_at is not None and self.scanned >= stop_at:
                        break
                if self.pos < lf.end if q.forward else self.pos > 0:
                    return False  # the budget ran out inside this file
            finally:
                lf.close()
            self.i, self.pos = self.i + 1, None
        self.finished = True
        return True

    def remaining(self) -> int:
        """Bytes not read yet (file sizes; a fair guess for a cost estimate)."""
        total = 0
        for n in range(self.i, len(self.paths)):
            try:
                size = os.stat(self.paths[n]).st_size
            except OSError:
                continue
            if n == self.i and self.pos is not None:
                size = max(0, size - self.pos) if self.q.forward else self.pos
            total += size
        return total

    def prefers_python(self) -> bool:
        """Whether reading on in Python probably settles the result sooner than grep would:
        estimated from how many matches and prefilter hits the bytes read so far held."""
        found, scanned = len(self.col.cands), max(1, self.scanned)
        if found == 0:
            return False
        rest = self.remaining()
        hit_rate = self.hits / scanned
        python_bytes = min(rest, scanned * max(1, self.q.limit - found) / found)
        python = python_bytes / PYTHON_RATE + hit_rate * python_bytes * LINE_COST
        by_grep = GREP_START + rest / GREP_RATE + hit_rate * rest * LINE_COST
        return python < by_grep


def run_scans(scans: list[Scan]) -> None:
    """Finish every scan: the newest bytes in Python, then the rest in Python or through grep."""
    to_grep = []
    for s in scans:
        if s.python(PYTHON_BUDGET):
            continue
        if not grep.usable_needle(s.q.prefilter) or grep.grep_executable() is None:
            s.python()
            continue
        while s.prefers_python():
            if s.python(s.scanned):  # double what was read
                break
        if not s.finished:
            to_grep.append(s)
    if to_grep:
        grep_scans(to_grep)


@dataclass(slots=True)
class _GrepFile:
    scan: Scan
    n: int  # index in scan.paths
    lf: LogFile
    start: int
    stop: int
    hits: list[tuple[bytes, bytes, LogMessage | None]]  # backwards: checked lines, file order
    pruned: bytes | None = None  # the newest line dropped by _prune


def grep_scans(scans: list[Scan]) -> None:
    """Read the rest of the scans' files through grep (one process per MAX_FILES files),
    checking only the lines it finds; a scan falls back to Python if grep fails."""
    queue = [(s, n) for s in scans for n in range(s.i, len(s.paths))]
    queue.reverse()
    failed = False
    while queue and not failed:
        batch: list[_GrepFile] = []
        try:
            while queue and len(batch) < grep.MAX_FILES:
                s, n = queue.pop()
                lf = None if s.finished else LogFile.open(s.paths[n])
                if lf is not None:
                    start, stop = s.region(lf, n)
                    batch.append(_GrepFile(s, n, lf, start, stop, []))
            if batch:
                failed = not _grep_batch(batch, scans[0].cancel)
        finally:
            for f in batch:
                f.lf.close()
    for s in scans:
        if not s.finished:
            s.python()  # grep failed, or the last files were missing


def _grep_batch(batch: list[_GrepFile], cancel: threading.Event | None) -> bool:
    """Feed one grep run's lines to the scans; False when grep failed (scans resume in Python)."""
    needle = batch[0].scan.q.prefilter
    assert needle is not None
    lines = grep.grep_files([f.lf.fd for f in batch], needle, cancel)
    try:
        for k, off, line in lines:
            f = batch[k]
            s = f.scan
            if s.finished:
                continue
            if off < 0:
                _complete(f)
                if all(g.scan.finished for g in batch[k + 1 :]):
                    return True
                continue
            if off < f.start or off + len(line) >= f.stop:
                continue
            s.hits += 1
            ts_key = line_key(line)
            if ts_key is None:
                continue
            key = pos_key(ts_key, off)
            ok, msg = s.col.accepts(key, line)
            if s.q.forward:
                # where Python would resume: the lines before lack the needle or were offered
                s.i, s.pos = f.n, off + len(line) + 1
                if ok:
                    s.col.offer(key, line, msg)
            elif ok:
                f.hits.append((key, line, msg))
                if len(f.hits) >= 4 * (s.q.limit + collect.MAX_WIDEN) + 4096:
                    f.hits, pruned = _prune(f.hits, s.q.limit, s.q.limit + collect.MAX_WIDEN, s.q.widen)
                    if pruned is not None and (f.pruned is None or pruned > f.pruned):
                        f.pruned = pruned
    except grep.GrepFailed as err:
        grep.log.warning("Log search falls back to Python: %s", err)
        return False
    finally:
        lines.close()
    return True


def _complete(f: _GrepFile) -> None:
    """File f has been read through: offer its lines as a backwards Python scan would (newest
    first), then see whether the scan is done."""
    s, col = f.scan, f.scan.col
    for key, line, msg in reversed(f.hits):
        col.offer(key, line, msg)
    if f.pruned is not None:
        col.beyond(f.pruned)  # what `offer` would say of the pruned lines: more beyond the page
    f.hits = []
    s.scanned += f.stop - f.start
    s.i, s.pos = f.n + 1, None
    edge = f.lf.edge_key(f.start, f.stop, first=not s.q.forward)
    if s.i >= len(s.paths) or col.done(edge):
        s.finished = True


def _prune(
    hits: list[tuple[bytes, bytes, LogMessage | None]], limit: int, cap: int, widen: bool
) -> tuple[list[tuple[bytes, bytes, LogMessage | None]], bytes | None]:
    """Drop the lines of a file that a backwards scan would find beyond the page anyway: those
    with `limit` newer lines after them, or (widened pages, compared by second) `cap`
    (limit + MAX_WIDEN) as new or newer. Returns the lines kept and the newest dropped key."""
    keep = []
    newer: list[bytes] = []  # min-heaps of the greatest keys after the current line
    wide: list[bytes] = []
    pruned: bytes | None = None
    for item in reversed(hits):
        key = item[0][:19] if widen else item[0]
        if (len(newer) == limit and newer[0] > key) or (len(wide) == cap and wide[0] >= key):
            if pruned is None or item[0] > pruned:
                pruned = item[0]
        else:
            keep.append(item)
        for heap, size in ((newer, limit), (wide, cap)):
            if len(heap) < size:
                heapq.heappush(heap, key)
            elif key > heap[0]:
                heapq.heapreplace(heap, key)
    keep.reverse()
    return keep, pruned


def _offer_lines(col: Collector, data: bytes, a: int, b: int, base: int, forward: bool) -> bytes | None:
    """Offer the lines in the collector's bounds, which narrow once the page is full.
    `data` was read at file offset `base`."""
    lines = data[a:b].split(b"\n")
    lines.pop()
    lo, hi = col.bounds()
    lo19 = lo[:19]  # a line's first 19 bytes against a sort key: compare seconds only
    # A lower-case "t" sorts after "T": such a line can only be missed by `< hi` on hi's own
    # day, so the exact check per line is needed only if the block holds that day with a "t".
    lower_t = hi[:10] + b"t"
    if data.startswith(lower_t, a) or data.find(b"\n" + lower_t, a, b) >= 0:
        found = [i for i, x in enumerate(lines) if lo19 <= x[:19] < hi or x[:11] == lower_t]
    else:
        found = [i for i, x in enumerate(lines) if lo19 <= x[:19] < hi]
    if found:
        ends = list(accumulate(map(len, lines)))
        start = base + a
        for i in found if forward else reversed(found):
            line = lines[i]
            key = line[:19]
            if (lo19 <= key < hi or key[:11] == lower_t) and HEAD.match(line) is not None:
                k = pos_key(key if key[10] == 84 else key[:10] + b"T" + key[11:], start + ends[i] - len(line) + i)
                if col.offer(k, line):
                    lo, hi = col.bounds()
                    lo19, lower_t = lo[:19], hi[:10] + b"t"
    return edge_key(data, a, b, first=not forward)


def _offer_hits(
    col: Collector, data: bytes, a: int, b: int, base: int, needle: bytes, fold: bool, forward: bool
) -> int:
    """Offer only the lines that contain the prefilter bytes (ASCII case-insensitively)."""
    hay = data.lower() if fold else data
    hits = []
    pos = hay.find(needle, a, b)
    while pos >= 0:
        s = max(hay.rfind(b"\n", a, pos) + 1, a)
        e = hay.find(b"\n", pos, b)
        hits.append((s, data[s:e]))
        pos = hay.find(needle, e + 1, b)
    for s, line in hits if forward else reversed(hits):
        key = line_key(line)
        if key is not None:
            col.offer(pos_key(key, base + s), line)
    return len(hits)
