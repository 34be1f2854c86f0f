"""What a scan keeps: the query as byte keys, and the collector that builds the page from lines.

See docs/logs.md ("Which messages a page holds", "Lines out of order").
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from .format import LogMessage, Matcher, message_from_parts, safe_ascii_segment, split_line
from .id import key_id
from .seek import MAX_EPOCH, SLACK_SECONDS, epoch_key, key_epoch

# A page asked for with a timestamp cursor is widened to every line of its boundary second
# (such cursors are whole seconds), but by at most this many lines, so a flood of lines stamped with one second cannot blow up a page.
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
    # Exact bounds as sort keys (id.pos_key), for id cursors: lo_pos is the first accepted
    # key, hi_pos the first rejected one. Without them, the bounds are whole seconds.
    lo_pos: bytes | None = None
    hi_pos: bytes | None = None
    # Timestamp cursors (whole seconds) need the page widened to its boundary second; id
    # cursors cut pages at exactly `limit` messages.
    widen: bool = False
    tag: int = 0  # the conversation's tag, for message ids
    lo_key: bytes = b""
    hi_key: bytes = b""
    prefilter: bytes | None = None

    def __post_init__(self) -> None:
        self.lo_key, self.hi_key = epoch_key(self.lo), epoch_key(self.hi)
        if self.hi >= MAX_EPOCH:
            self.hi_key = b"\xff"
        if self.lo_pos is not None:
            self.lo_key = max(self.lo_key, self.lo_pos)
        if self.hi_pos is not None:
            self.hi_key = min(self.hi_key, self.hi_pos)
        if self.matcher is not None and self.matcher.prefilter:
            self.prefilter = self.matcher.prefilter
        elif self.from_:
            self.prefilter = safe_ascii_segment(self.from_).encode() or None


def _second(key: bytes) -> bytes:
    return key[:19]


def _whole(key: bytes) -> bytes:
    return key


class Collector:
    """Accepted lines of a scan, and when the page they make can no longer change.

    Lines are offered with their sort key (timestamp and file offset, id.pos_key). The page
    is the `limit` newest (backwards) or oldest (forwards) accepted lines; with `widen`
    (timestamp cursors), it is widened to every line of the boundary second.
    """

    def __init__(self, q: Query) -> None:
        self.q = q
        self.cands: list[tuple[bytes, bytes, LogMessage | None]] = []
        self.top: list[bytes] = []  # the `limit` best keys, sorted
        self.filtered = q.matcher is not None or q.from_ is not None
        self.more = False  # an accepted line lies beyond the page
        # Exact pages: the accepted line beyond the page that is nearest to it, so `result` can
        # tell whether one shares the page's boundary second (a timestamp cursor would skip it;
        # see reader.read_messages).
        self.near: bytes | None = None
        self.split = False
        # What "the same place" means at the page's boundary: its second, or the exact line.
        self.cmp = _second if q.widen else _whole

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
        q, top, cmp = self.q, self.top, self.cmp
        if not (q.lo_key <= key < q.hi_key):
            return False
        # Once the page is full, a line past its boundary only tells that more exist.
        beyond = False
        if len(top) == q.limit:
            k, e = cmp(key), cmp(top[-1] if q.forward else top[0])
            beyond = (k > e if q.forward else k < e) or (
                q.widen and k == e and len(self.cands) >= q.limit + MAX_WIDEN
            )
        near = self.near
        if beyond and self.more and (q.widen or (key >= near if q.forward else key <= near)):  # type: ignore[operator]
            return False
        msg = checked
        if self.filtered and msg is None:
            msg = self._check(line)
            if msg is None:
                return False
        if beyond:
            self.more = True
            if not q.widen:
                self.near = key
            return True
        self.cands.append((key, line, msg))
        if len(top) < q.limit:
            bisect.insort(top, key)
        else:
            if q.forward:
                top.pop()
            else:
                del top[0]
            bisect.insort(top, key)
            if not q.widen and len(self.cands) > 2 * q.limit + 64:
                self._prune()
        return True

    def beyond(self, key: bytes) -> None:
        """An accepted line, known to lie beyond the page, that was not offered."""
        self.more = True
        if not self.q.widen and (
            self.near is None or (key < self.near if self.q.forward else key > self.near)
        ):
            self.near = key

    def _prune(self) -> None:
        """Exact pages: drop the lines that fell out of the page (they only mean "more")."""
        q = self.q
        if q.forward:
            t = self.top[-1]
            dropped = [c[0] for c in self.cands if c[0] > t]
            self.cands = [c for c in self.cands if c[0] <= t]
            self.near = min(dropped) if self.near is None else min(self.near, *dropped)
        else:
            t = self.top[0]
            dropped = [c[0] for c in self.cands if c[0] < t]
            self.cands = [c for c in self.cands if c[0] >= t]
            self.near = max(dropped) if self.near is None else max(self.near, *dropped)
        self.more = True

    def bounds(self) -> tuple[bytes, bytes]:
        """Keys worth offering: once the page is full and more are known to exist, only lines
        that could still enter the page."""
        q, top = self.q, self.top
        if not (self.more and len(top) == q.limit):
            return q.lo_key, q.hi_key
        if q.forward:
            t = top[-1]
            return q.lo_key, min(q.hi_key, t[:19] + b"\xff" if q.widen else self.near or t)
        t = top[0]
        # keys are 24 bytes: `near + b"\0"` is the first key above near
        return max(q.lo_key, t[:19] if q.widen else (self.near or t) + b"\0"), q.hi_key

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
        q, top, cmp = self.q, self.top, self.cmp
        if q.forward:
            bound = key_epoch(edge) - SLACK_SECONDS  # unread lines are at least this new
            if bound >= q.hi:
                return True
            if len(top) == q.limit:
                t = cmp(top[-1])
                return bound > key_epoch(t) and (self.more or any(cmp(c[0]) > t for c in self.cands))
        else:
            bound = key_epoch(edge) + SLACK_SECONDS  # unread lines are at most this new
            if bound < q.lo:
                return True
            if len(top) == q.limit:
                t = cmp(top[0])
                return bound < key_epoch(t) and (self.more or any(cmp(c[0]) < t for c in self.cands))
        return False

    def result(self) -> tuple[list[LogMessage], bool]:
        """Messages oldest first, each with its id, and whether more exist beyond the page."""
        q, cmp = self.q, self.cmp
        cands = sorted(self.cands, key=lambda c: c[0])
        more = self.more
        rest: list[tuple[bytes, bytes, LogMessage | None]] = []
        if len(cands) > q.limit or (more and cands):
            # cands are sorted, so the page is a prefix (forwards) or a suffix (backwards)
            if q.forward:
                t = cmp(self.top[-1])
                page = [c for c in cands if cmp(c[0]) <= t]
                rest = cands[len(page):]
            else:
                t = cmp(self.top[0])
                page = [c for c in cands if cmp(c[0]) >= t]
                rest = cands[: len(cands) - len(page)]
            if rest:
                more = True
            cands = page
        if more and cands and not q.widen:
            second = cands[-1 if q.forward else 0][0][:19]
            self.split = (self.near is not None and self.near[:19] == second) or any(
                c[0][:19] == second for c in rest
            )
        messages = []
        for key, line, msg in cands:
            if msg is None:
                parts = split_line(line.decode("utf-8", "replace"))
                if parts is None:
                    continue
                msg = message_from_parts(*parts)
            msg.id = key_id(key, q.tag)
            messages.append(msg)
        return messages, more
