"""Monthly chat logs on disk: crash-safe appends, range-seek paging and newest-first search.

Synchronous and thread-safe; async callers wrap these calls in `asyncio.to_thread`.
See docs/logs.md for the format, the seek algorithm and the guarantees.
"""

from __future__ import annotations

import bisect
import calendar
import fcntl
import logging
import math
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from .logformat import (
    LogMessage,
    Matcher,
    Notification,
    escape_conversation_id,
    format_body,
    format_line,
    format_notification,
    iter_months,
    message_from_parts,
    month_relpath,
    parse_notification,
    safe_ascii_segment,
    split_line,
    to_utc,
)

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 60
RANGE_LIMIT = 200  # default when both after and before are given
MAX_LIMIT = 200
MAX_WINDOW = timedelta(days=365)
# Lines may be out of time order by up to this much (clock skew, IRCv3 server-time) without
# being lost by a page; see docs/logs.md.
SLACK_SECONDS = 600
# A page is widened to every line of its boundary second (cursors are whole seconds), but by
# at most this many lines, so a flood of lines stamped with one second cannot blow up a page.
MAX_WIDEN = 1000

_PAGE_BLOCK, _PAGE_MAX_BLOCK = 16 << 10, 1 << 20
# Bigger blocks are slower: bytes.lower() output should still be in cache for find().
_SEARCH_BLOCK, _SEARCH_MAX_BLOCK = 64 << 10, 1 << 20
_BISECT_LINEAR = 8 << 10

# A line that has a timestamp: the same rule as the parser (ts, then one Perl whitespace).
_HEAD = re.compile(
    rb"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}"
    rb"(?:[\t\x0b\x0c\r ]|\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80)"
)


# --- errors ------------------------------------------------------------------


class LogQueryError(ValueError):
    """Bad query input; `path` names the offending parameter, as in the API error envelope."""

    path = "/"

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        if path is not None:
            self.path = path


class InvalidLimit(LogQueryError):
    path = "/limit"


class AfterIsLater(LogQueryError):
    path = "/before"


class WindowTooLong(LogQueryError):
    path = "/before"


# --- small helpers -------------------------------------------------------------


def _line_key(line: bytes) -> bytes | None:
    """The timestamp of a raw line as comparable bytes (`T` upper-cased), or None."""
    if _HEAD.match(line) is None:
        return None
    return line[:19] if line[10] == 84 else line[:10] + b"T" + line[11:19]


def _key_epoch(key: bytes) -> int:
    return calendar.timegm(
        (int(key[0:4]), int(key[5:7]), int(key[8:10]), int(key[11:13]), int(key[14:16]), int(key[17:19]))
    )


_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59


def _epoch_key(epoch: int) -> bytes:
    epoch = min(max(epoch, 0), _MAX_EPOCH)
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S").encode()


def _epoch_month(epoch: int) -> tuple[int, int]:
    t = datetime.fromtimestamp(min(max(epoch, 0), _MAX_EPOCH), UTC)
    return t.year, t.month


def add_months(t: datetime, months: int) -> datetime:
    """Calendar month arithmetic; the day is clamped to the target month (Jan 31 + 1 = Feb 28/29)."""
    y, m = divmod(t.month - 1 + months, 12)
    year = t.year + y
    if year < 1:
        return datetime.min.replace(tzinfo=t.tzinfo)
    if year > 9999:
        return datetime.max.replace(tzinfo=t.tzinfo)
    return t.replace(year=year, month=m + 1, day=min(t.day, calendar.monthrange(year, m + 1)[1]))


def _lower(t: datetime, inclusive: bool) -> int:
    """First whole second accepted by a lower bound (`ts > t`, or `ts >= t` when inclusive)."""
    e = to_utc(t).timestamp()
    return math.ceil(e) if inclusive else math.floor(e) + 1


def _upper(t: datetime, inclusive: bool) -> int:
    """First whole second rejected by an upper bound (`ts < t`, or `ts <= t` when inclusive)."""
    e = to_utc(t).timestamp()
    return math.floor(e) + 1 if inclusive else math.ceil(e)


def conversation_log_path(conn_dir: Path, conversation_id: str, year: int, month: int) -> Path:
    return Path(conn_dir) / month_relpath(year, month, conversation_id)


def list_log_months(conn_dir: Path, conversation_id: str) -> list[tuple[int, int]]:
    """The (year, month) of every existing log file of a conversation ('' = connection log), oldest first."""
    months = []
    name = escape_conversation_id(conversation_id) + ".log"
    try:
        years = [y for y in os.listdir(conn_dir) if len(y) == 4 and y.isdigit()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    for year in years:
        try:
            entries = os.listdir(os.path.join(conn_dir, year))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if conversation_id == "":
                ok = len(entry) == 6 and entry.endswith(".log") and entry[:2].isdigit()
                month = entry[:2]
            else:
                ok = (
                    len(entry) == 2
                    and entry.isdigit()
                    and os.path.isfile(os.path.join(conn_dir, year, entry, name))
                )
                month = entry
            if ok and 1 <= int(month) <= 12:
                months.append((int(year), int(month)))
    return sorted(months)


def _complete_end(fd: int, size: int) -> int:
    """Offset just after the last `\\n`: a torn last line (no `\\n`) is not part of the log."""
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    pos = size
    while pos > 0:
        start = max(0, pos - 65536)
        i = os.pread(fd, pos - start, start).rfind(b"\n")
        if i >= 0:
            return start + i + 1
        pos = start
    return 0


# --- appending -------------------------------------------------------------------


class LogWriter:
    """Appends log lines, keeping up to `max_open` files open (least recently used is closed).

    Every line goes out in a single `os.write` on an O_APPEND descriptor. Before the first
    append to a file, a torn last line left by a crash (bytes after the last `\\n`) is cut off,
    so the next line starts on a fresh line and the fragment never shows up as a message.
    Directories are created 0700 and files 0600. One writer per process is enough; it is
    thread-safe, and callers keep their own lines in order.
    """

    def __init__(self, max_open: int = 64) -> None:
        self.max_open = max(1, max_open)
        self._fds: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def open_files(self) -> list[str]:
        with self._lock:
            return list(self._fds)

    def append(self, path: Path | str, line: str) -> None:
        """Append one complete line (must end with its only `\\n`)."""
        if not line.endswith("\n") or line.count("\n") != 1:
            raise ValueError("A log line must end with its only newline.")
        data = line.encode("utf-8", "replace")
        key = os.fspath(path)
        with self._lock:
            fd = self._fd(key)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)  # excludes a concurrent torn-tail repair only
                try:
                    written = os.write(fd, data)
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            except OSError:
                self._drop(key)
                raise
            if written != len(data):
                # The torn tail is invisible to readers and cut off when the file is reopened.
                self._drop(key)
                raise OSError(f"Short write to {key}: {written} of {len(data)} bytes.")

    def log_message(
        self,
        conn_dir: Path,
        conversation_id: str,
        ts: float | datetime,
        type: str,
        from_: str,
        message: str,
        *,
        highlight: bool = False,
        is_channel: bool = False,
    ) -> str | None:
        """Format and append a message; returns the line, or None when the type is not logged."""
        line = format_line(ts, type, from_, message, highlight=highlight, is_channel=is_channel)
        if line is not None:
            # the line starts with its UTC timestamp, whose year and month name the file
            # (plain strings: pathlib costs more than the write itself)
            leaf = ".log" if conversation_id == "" else f"/{escape_conversation_id(conversation_id)}.log"
            self.append(f"{os.fspath(conn_dir)}/{line[0:4]}/{line[5:7]}{leaf}", line)
        return line

    def log_notification(
        self,
        user_dir: Path,
        ts: float | datetime,
        connection_id: str,
        conversation_id: str,
        type: str,
        from_: str,
        message: str,
    ) -> str | None:
        body = format_body(type, from_, message)
        if body is None:
            return None
        line = format_notification(ts, connection_id, conversation_id, body)
        self.append(Path(user_dir) / "notifications.log", line)
        return line

    def delete_conversation_logs(self, conn_dir: Path, conversation_id: str) -> int:
        """`/clear history`: remove every month file of a conversation; returns how many."""
        with self._lock:
            paths = _conversation_log_files(Path(conn_dir), conversation_id)
            for path in paths:
                self._drop(os.fspath(path))
            removed = 0
            for path in paths:
                try:
                    os.unlink(path)
                    removed += 1
                except FileNotFoundError:
                    pass
            return removed

    def close(self) -> None:
        with self._lock:
            while self._fds:
                _, fd = self._fds.popitem(last=False)
                os.close(fd)

    # Callers hold self._lock.

    def _fd(self, key: str) -> int:
        fd = self._fds.get(key)
        if fd is not None:
            self._fds.move_to_end(key)
            return fd
        fd = _open_for_append(key)
        self._fds[key] = fd
        while len(self._fds) > self.max_open:
            _, old = self._fds.popitem(last=False)
            os.close(old)
        return fd

    def _drop(self, key: str) -> None:
        fd = self._fds.pop(key, None)
        if fd is not None:
            os.close(fd)


def _make_dirs(path: str) -> None:
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for p in reversed(missing):
        try:
            os.mkdir(p, 0o700)
        except FileExistsError:
            pass


def _open_for_append(path: str) -> int:
    _make_dirs(os.path.dirname(path))
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                end = _complete_end(fd, size)
                log.warning("Cutting a torn last line (%d bytes) off %s", size - end, path)
                os.ftruncate(fd, end)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _conversation_log_files(conn_dir: Path, conversation_id: str) -> list[Path]:
    return [
        conversation_log_path(conn_dir, conversation_id, y, m)
        for y, m in list_log_months(conn_dir, conversation_id)
    ]


def delete_conversation_logs(conn_dir: Path, conversation_id: str, writer: LogWriter | None = None) -> int:
    """Remove a conversation's logs; pass the writer so it drops its open handles first."""
    if writer is not None:
        return writer.delete_conversation_logs(conn_dir, conversation_id)
    removed = 0
    for path in _conversation_log_files(Path(conn_dir), conversation_id):
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


# --- reading: one month file ------------------------------------------------------


class _LogFile:
    """A month file open for reading. `end` is fixed at open: appends made later and a torn
    last line are not seen, so one query reads one consistent snapshot."""

    __slots__ = ("end", "fd")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.end = _complete_end(fd, os.fstat(fd).st_size)

    @classmethod
    def open(cls, path: Path | str) -> _LogFile | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        try:
            return cls(fd)
        except BaseException:
            os.close(fd)
            raise

    def close(self) -> None:
        os.close(self.fd)

    def _line_from(self, off: int, limit: int) -> bytes:
        """The bytes from `off` up to and including the next `\\n` (`limit` is a line boundary)."""
        size = 1024
        while True:
            n = min(size, limit - off)
            data = os.pread(self.fd, n, off)
            i = data.find(b"\n")
            if i >= 0:
                return data[: i + 1]
            if len(data) < n or n == limit - off:
                raise OSError(f"Log file {self.fd} shrank while being read.")
            size *= 4

    def bisect(self, key: bytes) -> int:
        """A line start `b` such that the last timestamped line before `b` is older than `key`
        and the first one at or after `b` is not (or `b` is the end). O(log n) reads."""
        lo, hi = 0, self.end
        while hi - lo > _BISECT_LINEAR:
            mid = (lo + hi) // 2
            s = mid - 1 + len(self._line_from(mid - 1, hi))  # next line start after mid - 1
            if s >= hi:
                break  # one long line spans [mid, hi): finish linearly
            pos = s
            while pos < hi:
                line = self._line_from(pos, hi)
                k = _line_key(line)
                if k is not None:
                    break
                pos += len(line)
            else:
                hi = s  # nothing timestamped in [s, hi)
                continue
            if k < key:
                lo = pos + len(line)
            else:
                hi = s
        data = os.pread(self.fd, hi - lo, lo)
        pos = 0
        for line in data.split(b"\n")[:-1]:
            k = _line_key(line)
            if k is not None and k >= key:
                return lo + pos
            pos += len(line) + 1
        return hi

    def chunks_backward(self, end: int, size: int, max_size: int) -> Iterator[tuple[bytes, int, int]]:
        """(data, a, b) with complete lines in data[a:b], newest chunk first, from `end` back."""
        pos = end
        while pos > 0:
            start = max(0, pos - size)
            data = os.pread(self.fd, pos - start, start)
            if start == 0:
                yield data, 0, len(data)
                return
            i = data.find(b"\n")
            if i < 0 or i == len(data) - 1:
                size *= 2  # one line longer than the chunk
                continue
            yield data, i + 1, len(data)
            pos = start + i + 1
            size = min(size * 2, max_size)

    def chunks_forward(self, start: int, size: int, max_size: int) -> Iterator[tuple[bytes, int, int]]:
        pos, end = start, self.end
        while pos < end:
            stop = min(end, pos + size)
            data = os.pread(self.fd, stop - pos, pos)
            if stop == end:
                yield data, 0, len(data)
                return
            j = data.rfind(b"\n")
            if j < 0:
                size *= 2
                continue
            yield data, 0, j + 1
            pos += j + 1
            size = min(size * 2, max_size)


# --- reading: the scan ----------------------------------------------------------------


@dataclass(slots=True)
class _Query:
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
        self.lo_key, self.hi_key = _epoch_key(self.lo), _epoch_key(self.hi)
        if self.hi >= _MAX_EPOCH:
            self.hi_key = b"\xff"
        if self.matcher is not None and self.matcher.prefilter:
            self.prefilter = self.matcher.prefilter
        elif self.from_:
            self.prefilter = safe_ascii_segment(self.from_).encode() or None


class _Collector:
    """Accepted lines of a scan, and when the page they make can no longer change.

    The page is the `limit` newest (backwards) or oldest (forwards) accepted lines, widened to
    every line of the boundary second, since cursors are whole seconds.
    """

    def __init__(self, q: _Query) -> None:
        self.q = q
        self.cands: list[tuple[bytes, int, bytes, LogMessage | None]] = []
        self.top: list[bytes] = []  # the `limit` best keys, sorted
        self.seq = 0
        self.filtered = q.matcher is not None or q.from_ is not None
        self.more = False  # an accepted line lies beyond the page

    def offer(self, key: bytes, line: bytes) -> bool:
        """Consider a line; True when the page or its bounds changed."""
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
        msg = None
        if self.filtered:
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
            bound = _key_epoch(edge) - SLACK_SECONDS  # unread lines are at least this new
            if bound >= q.hi:
                return True
            if len(top) == q.limit:
                t = top[-1]
                return bound > _key_epoch(t) and (self.more or any(c[0] > t for c in self.cands))
        else:
            bound = _key_epoch(edge) + SLACK_SECONDS  # unread lines are at most this new
            if bound < q.lo:
                return True
            if len(top) == q.limit:
                t = top[0]
                return bound < _key_epoch(t) and (self.more or any(c[0] < t for c in self.cands))
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


def _edge_key(data: bytes, a: int, b: int, first: bool) -> bytes | None:
    """Timestamp of the first (or last) timestamped line in data[a:b]; looks at a few lines only."""
    for _ in range(64):
        if a >= b:
            return None
        if first:
            e = data.find(b"\n", a, b)
            key = _line_key(data[a:e])
            a = e + 1
        else:
            s = data.rfind(b"\n", a, b - 1) + 1
            key = _line_key(data[max(s, a) : b - 1])
            b = max(s, a)
        if key is not None:
            return key
    return None


def _scan(paths: list[Path], q: _Query) -> tuple[list[LogMessage], bool]:
    """Read month files in scan order; the first is entered by binary search."""
    col = _Collector(q)
    size, max_size = (_SEARCH_BLOCK, _SEARCH_MAX_BLOCK) if q.search else (_PAGE_BLOCK, _PAGE_MAX_BLOCK)
    prefilter = q.prefilter
    fold = prefilter is not None and prefilter.lower() != prefilter.upper()
    for n, path in enumerate(paths):
        lf = _LogFile.open(path)
        if lf is None:
            continue
        try:
            if q.forward:
                start = lf.bisect(_epoch_key(q.lo - SLACK_SECONDS)) if n == 0 and q.lo > 0 else 0
                chunks = lf.chunks_forward(start, size, max_size)
            else:
                unbounded = q.hi >= _MAX_EPOCH
                end = lf.bisect(_epoch_key(q.hi + SLACK_SECONDS)) if n == 0 and not unbounded else lf.end
                chunks = lf.chunks_backward(end, size, max_size)
            for data, a, b in chunks:
                if prefilter is None:
                    edge = _offer_lines(col, data, a, b, q.forward)
                else:
                    _offer_hits(col, data, a, b, prefilter, fold, q.forward)
                    edge = _edge_key(data, a, b, first=not q.forward)
                if col.done(edge):
                    return col.result()
        finally:
            lf.close()
    return col.result()


def _offer_lines(col: _Collector, data: bytes, a: int, b: int, forward: bool) -> bytes | None:
    lines = data[a:b].split(b"\n")
    lines.pop()
    lo, hi = col.bounds()
    for line in lines if forward else reversed(lines):
        key = line[:19]
        if lo <= key < hi or (len(key) == 19 and key[10] == 116):  # in range, or a lower-case "t"
            if _HEAD.match(line) is not None and col.offer(
                key if key[10] == 84 else key[:10] + b"T" + key[11:], line
            ):
                lo, hi = col.bounds()
    return _edge_key(data, a, b, first=not forward)


def _offer_hits(
    col: _Collector, data: bytes, a: int, b: int, needle: bytes, fold: bool, forward: bool
) -> None:
    """Offer only the lines that contain the prefilter bytes (ASCII case-insensitively)."""
    hay = data.lower() if fold else data
    hits = []
    pos = hay.find(needle, a, b)
    while pos >= 0:
        s = hay.rfind(b"\n", a, pos) + 1
        e = hay.find(b"\n", pos, b)
        hits.append(data[max(s, a) : e])
        pos = hay.find(needle, e + 1, b)
    for line in hits if forward else reversed(hits):
        key = _line_key(line)
        if key is not None:
            col.offer(key, line)


def _paths(conn_dir: Path, conversation_id: str, lo: int, hi: int, forward: bool) -> list[Path]:
    first, last = _epoch_month(lo), _epoch_month(hi - 1)
    months = iter_months(first, last) if forward else iter_months(last, first)
    return [conversation_log_path(conn_dir, conversation_id, y, m) for y, m in months]


def _read(
    conn_dir: Path,
    conversation_id: str,
    lo: int,
    hi: int,
    limit: int,
    forward: bool,
    matcher: Matcher | None,
    from_: str | None,
) -> tuple[list[LogMessage], bool]:
    if lo >= hi:
        return [], False
    q = _Query(lo, hi, limit, forward, matcher=matcher, from_=from_)
    return _scan(_paths(conn_dir, conversation_id, lo, hi, forward), q)


# --- reading: the public queries --------------------------------------------------------


@dataclass(slots=True)
class MessagePage:
    """Messages oldest first; `before`/`after` are set when older/newer messages exist (§3.3)."""

    messages: list[LogMessage] = field(default_factory=list)
    before: str | None = None
    after: str | None = None

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"messages": [m.to_dict() for m in self.messages]}
        if self.before is not None:
            d["before"] = self.before
        if self.after is not None:
            d["after"] = self.after
        return d


def resolve_limit(limit: int | None, *, both_bounds: bool = False) -> int:
    """§3.1: default 60, or 200 with both after and before; clamped to 200; below 1 is an error."""
    if limit is None:
        return RANGE_LIMIT if both_bounds else DEFAULT_LIMIT
    if limit < 1:
        raise InvalidLimit("Must be a positive integer.")
    return min(limit, MAX_LIMIT)


def check_window(after: datetime, before: datetime) -> None:
    """§3.1: `after` must not be later than `before`, and they may be at most 365 days apart."""
    a, b = to_utc(after), to_utc(before)
    if a > b:
        raise AfterIsLater('Must be before "/after".')
    if b - a > MAX_WINDOW:
        raise WindowTooLong('Must be less than "/after" - 12 months.')


def _matcher(match: Matcher | str | None) -> Matcher | None:
    if isinstance(match, str):
        match = Matcher(match)
    return match if match else None


def read_messages(
    conn_dir: Path,
    conversation_id: str,
    *,
    after: datetime | None = None,
    before: datetime | None = None,
    around: datetime | None = None,
    limit: int | None = None,
    match: Matcher | str | None = None,
    from_: str | None = None,
    now: datetime | None = None,
) -> MessagePage:
    """A page of a conversation's log (conversation_id '' = the connection's own log), §3.2-§3.4.

    Raises InvalidLimit, AfterIsLater or WindowTooLong (all ValueError) for bad input.
    """
    limit = resolve_limit(limit, both_bounds=after is not None and before is not None)
    if after is not None and before is not None:
        check_window(after, before)
    now = to_utc(now or datetime.now(UTC))
    matcher = _matcher(match)
    nick = from_.lower() if from_ else None
    future = add_months(now, 1)

    def read(lo: int, hi: int, forward: bool) -> tuple[list[LogMessage], bool]:
        return _read(Path(conn_dir), conversation_id, lo, hi, limit, forward, matcher, nick)

    if around is not None:
        # (a) backwards, ts < around; (b) forwards, around <= ts <= bound (inclusive, as the original).
        lo_a = _lower(after, False) if after is not None else _lower(add_months(to_utc(around), -12), False)
        older, more_older = read(lo_a, _upper(around, False), False)
        hi_b = before if before is not None else min(add_months(to_utc(around), 12), future)
        newer, more_newer = read(_lower(around, True), _upper(hi_b, True), True)
        return MessagePage(
            older + newer,
            before=older[0].ts if more_older else None,
            after=newer[-1].ts if more_newer else None,
        )

    if after is not None:
        hi = before if before is not None else min(add_months(to_utc(after), 12), future)
        messages, more = read(_lower(after, False), _upper(hi, False), True)
        return MessagePage(messages, after=messages[-1].ts if more else None)

    hi_t = to_utc(before) if before is not None else now + timedelta(seconds=10)
    messages, more = read(_lower(add_months(hi_t, -12), False), _upper(hi_t, False), False)
    return MessagePage(messages, before=messages[0].ts if more else None)


@dataclass(slots=True)
class SearchResult:
    """Matches newest first; `more` when older matches exist in the window."""

    messages: list[LogMessage] = field(default_factory=list)
    more: bool = False


def search_conversation(
    conn_dir: Path,
    conversation_id: str,
    *,
    match: Matcher | str | None = None,
    from_: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
) -> SearchResult:
    """Matches in [after, before) (None = unbounded), read newest first in big blocks.

    Lines that cannot contain the match's prefilter bytes are skipped without being parsed.
    The result holds the `limit` newest matches plus any more in the same second as the oldest.
    """
    if limit < 1:
        raise InvalidLimit("Must be a positive integer.")
    months = list_log_months(Path(conn_dir), conversation_id)
    if not months:
        return SearchResult()
    lo = _lower(after, True) if after is not None else 0
    hi = _upper(before, False) if before is not None else _MAX_EPOCH
    if lo >= hi:
        return SearchResult()
    first, last = _epoch_month(lo), _epoch_month(hi - 1)
    wanted = [
        conversation_log_path(conn_dir, conversation_id, y, m)
        for y, m in reversed(months)
        if first <= (y, m) <= last
    ]
    q = _Query(
        lo, hi, limit, False, matcher=_matcher(match), from_=from_.lower() if from_ else None, search=True
    )
    messages, more = _scan(wanted, q)
    messages.reverse()
    return SearchResult(messages, more)


def count_messages(
    conn_dir: Path, conversation_id: str, *, after: datetime, before: datetime | None = None
) -> int:
    """How many logged messages have `after < ts` (and `ts < before`); streams, stores nothing."""
    months = list_log_months(Path(conn_dir), conversation_id)
    lo = _lower(after, False)
    hi = _upper(before, False) if before is not None else _MAX_EPOCH
    if not months or lo >= hi:
        return 0
    lo_key = _epoch_key(lo)
    hi_key = _epoch_key(hi) if hi < _MAX_EPOCH else b"\xff"
    first, last = _epoch_month(lo), _epoch_month(hi - 1)
    count = 0
    for n, (y, m) in enumerate(x for x in months if first <= x <= last):
        lf = _LogFile.open(conversation_log_path(conn_dir, conversation_id, y, m))
        if lf is None:
            continue
        try:
            start = lf.bisect(_epoch_key(lo - SLACK_SECONDS)) if n == 0 else 0
            for data, a, b in lf.chunks_forward(start, _SEARCH_BLOCK, _SEARCH_MAX_BLOCK):
                for line in data[a:b].split(b"\n"):
                    key = line[:19]
                    if (lo_key <= key < hi_key or (len(key) == 19 and key[10] == 116)) and _HEAD.match(line):
                        key = key if key[10] == 84 else key[:10] + b"T" + key[11:]
                        count += lo_key <= key < hi_key
        finally:
            lf.close()
    return count


T = TypeVar("T")


def merge_newest_first(
    results: Iterable[tuple[list[T], bool]], limit: int, ts: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """Merge per-conversation (newest-first items, more) into one newest-first page and a
    `before` cursor (None when nothing older exists). Never cuts inside a second, never
    returns an item older than what a truncated conversation could still hold."""
    items: list[T] = []
    floor = ""
    for found, more in results:
        items.extend(found)
        if more and found:
            floor = max(floor, ts(found[-1]))
    items.sort(key=ts, reverse=True)
    known = [x for x in items if ts(x) >= floor] if floor else items
    cut = floor or None
    if len(known) > limit:
        cut = ts(known[limit - 1])
        known = [x for x in known if ts(x) >= cut]
    if cut is not None and len(known) == len(items) and not floor:
        cut = None
    return known, cut


def read_notifications(path: Path, limit: int = 40) -> list[Notification]:
    """The newest `limit` lines of a notifications.log, oldest first; [] when it does not exist."""
    lf = _LogFile.open(path) if limit > 0 else None
    if lf is None:
        return []
    found: list[Notification] = []
    try:
        for data, a, b in lf.chunks_backward(lf.end, _PAGE_BLOCK, _PAGE_MAX_BLOCK):
            lines = data[a:b].split(b"\n")
            lines.pop()
            for line in reversed(lines):
                n = parse_notification(line)
                if n is not None:
                    found.append(n)
                    if len(found) >= limit:
                        found.reverse()
                        return found
    finally:
        lf.close()
    found.reverse()
    return found
