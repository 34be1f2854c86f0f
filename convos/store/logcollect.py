"""What a scan keeps: the query as byte keys, and the collector that builds the page from lines.

See docs/logs.md ("Which messages a page holds", "Lines out of order").
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from .logformat import LogMessage, Matcher, message_from_parts, safe_ascii_segment, split_line
from .logseek import MAX_EPOCH, SLACK_SECONDS, epoch_key, key_epoch

# A page is widened to every line of its boundary second (cursors are whole seconds), but by
# at most this many lines, so a flood of lines stamped with one second cannot blow up a page.
MAX_WIDEN = 1000


@dataclass(slots=True)
class Query:
    lo: int  # first accepted second
    hi: int  # first rejected second
    limit: int
    forward: bool
    matcher: Matcher | None = None
    from_: str | None = None  # lower-cased
    search: bool = False  # big blocks
    lo_key: bytes = b""
    hi_key: bytes = b""
    prefilter: bytes | None = None

    def __post_init__(self) -> None:
        self.lo_key, self.hi_key = epoch_key(self.lo), epoch_key(self.hi)
        if self.hi >= MAX_EPOCH:
            self.hi_key = b"\xff"
        if self.matcher is not None and self.matcher.prefilter:
            self.prefilter = self.matcher.prefilter
        elif self.from_:
            self.prefilter = safe_ascii_segment(self.from_).encode() or None


class Collector:
    """Accepted lines of a scan, and when the page they make can no longer change.

    The page is the `limit` newest (backwards) or oldest (forwards) accepted lines, widened to
    every line of the boundary second, since cursors are whole seconds.
    """

    def __init__(self, q: Query) -> None:
        self.q = q
        self.cands: list[tuple[bytes, int, bytes, LogMessage | None]] = []
        self.top: list[bytes] = []  # the `limit` best keys, sorted
        self.seq = 0
        self.filtered = q.matcher is not None or q.from_ is not None
        self.more = False  # an accepted line lies beyond the page

    def accepts(self, key: bytes, line: bytes) -> tuple[bool, LogMessage | None]:
        """Whether a line is in the window and passes the filters (and its message, if parsed)."""
        if not (self.q.lo_key <= key < self.q.hi_key):
            return False, None
        if not self.filtered:
            return True, None
        msg = self._check(line)
        return msg is not None, msg

    def offer(self, key: bytes, line: bytes, checked: LogMessage | None = None) -> bool:
        """Consider a line (`checked`: its message, when `accepts` said yes); True when the
        page or its bounds changed."""
        q, top = self.q, self.top
        if not (q.lo_key <= key < q.hi_key):
            return False
        # Once the page is full, a line past its boundary only tells that more exist.
        beyond = len(top) == q.limit and (
            (key > top[-1] if q.forward else key < top[0])
            or (key == top[-1 if q.forward else 0] and len(self.cands) >= q.limit + MAX_WIDEN)
        )
        if beyond and self.more:
            return False
        msg = checked
        if self.filtered and msg is None:
            msg = self._check(line)
            if msg is None:
                return False
        if beyond:
            self.more = True
            return True
        self.seq += 1
        self.cands.append((key, self.seq if q.forward else -self.seq, line, msg))
        if len(top) < q.limit:
            bisect.insort(top, key)
        elif q.forward:
            top.pop()
            bisect.insort(top, key)
        else:
            del top[0]
            bisect.insort(top, key)
        return True

    def bounds(self) -> tuple[bytes, bytes]:
        """Keys worth offering: once the page is full and more are known to exist, only lines
        that could still enter the page (`T + b"\\0"` is just above the 19-byte key T)."""
        q, top = self.q, self.top
        if not (self.more and len(top) == q.limit):
            return q.lo_key, q.hi_key
        if q.forward:
            return q.lo_key, min(q.hi_key, top[-1] + b"\0")
        return max(q.lo_key, top[0]), q.hi_key

    def _check(self, line: bytes) -> LogMessage | None:
        q = self.q
        parts = split_line(line.decode("utf-8", "replace"))
        if parts is None:
            return None
        if q.matcher is not None and not q.matcher.search(parts[2]):
            return None
        msg = message_from_parts(*parts)
        if q.from_ is not None and msg.from_.lower() != q.from_:
            return None
        return msg

    def done(self, edge: bytes | None) -> bool:
        """True when no line beyond `edge` (the farthest line read so far) can change the result."""
        if edge is None:
            return False
        q, top = self.q, self.top
        if q.forward:
            bound = key_epoch(edge) - SLACK_SECONDS  # unread lines are at least this new
            if bound >= q.hi:
                return True
            if len(top) == q.limit:
                t = top[-1]
                return bound > key_epoch(t) and (self.more or any(c[0] > t for c in self.cands))
        else:
            bound = key_epoch(edge) + SLACK_SECONDS  # unread lines are at most this new
            if bound < q.lo:
                return True
            if len(top) == q.limit:
                t = top[0]
                return bound < key_epoch(t) and (self.more or any(c[0] < t for c in self.cands))
        return False

    def result(self) -> tuple[list[LogMessage], bool]:
        """Messages oldest first, and whether more exist beyond the page."""
        q = self.q
        cands = sorted(self.cands, key=lambda c: (c[0], c[1]))
        more = self.more
        if len(cands) > q.limit or (more and cands):
            if q.forward:
                t = self.top[-1]
                page = [c for c in cands if c[0] <= t]
            else:
                t = self.top[0]
                page = [c for c in cands if c[0] >= t]
            more = more or len(page) < len(cands)
            cands = page
        messages = []
        for _, _, line, msg in cands:
            if msg is None:
                parts = split_line(line.decode("utf-8", "replace"))
                if parts is None:
                    continue
                msg = message_from_parts(*parts)
            messages.append(msg)
        return messages, more
