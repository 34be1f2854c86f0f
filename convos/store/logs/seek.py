"""Month log files for reading: timestamps as byte keys, paths, and `LogFile` (binary search, blocks).

See docs/logs.md for the seek algorithm.
"""

from __future__ import annotations

import calendar
import functools
import math
import os
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from .format import escape_conversation_id, month_relpath, to_utc

# Lines may be out of time order by up to this much (clock skew, IRCv3 server-time) without
# being lost by a page; see docs/logs.md.
SLACK_SECONDS = 600

# Block sizes (module globals, read at call time, so tests can shrink them).
# Pages stop growing at 64 KiB: a page is settled within a few blocks, and smaller blocks
# overshoot less (checked after every block).
_PAGE_BLOCK, _PAGE_MAX_BLOCK = 16 << 10, 64 << 10
# Bigger blocks are slower: bytes.lower() output should still be in cache for find().
_SEARCH_BLOCK, _SEARCH_MAX_BLOCK = 64 << 10, 1 << 20
_BISECT_LINEAR = 8 << 10

# A line that has a timestamp: the same rule as the parser (ts, then one Perl whitespace).
HEAD = re.compile(
    rb"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}"
    rb"(?:[\t\x0b\x0c\r ]|\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80)"
)

MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59


# --- timestamps as keys ----------------------------------------------------------


def line_key(line: bytes) -> bytes | None:
    """The timestamp of a raw line as comparable bytes (`T` upper-cased), or None."""
    if HEAD.match(line) is None:
        return None
    return line[:19] if line[10] == 84 else line[:10] + b"T" + line[11:19]


def key_epoch(key: bytes) -> int:
    """Epoch seconds of a key (what calendar.timegm gives for its six fields). Once per message
    of a page, for its id: the minute's part is cached."""
    return _minute_epoch(key[:16]) + int(key[17:19])


_EPOCH_DAY = date(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=4096)
def _minute_epoch(minute: bytes) -> int:
    # as calendar.timegm: a day past the month's end counts on into the next month
    day = (date(int(minute[0:4]), int(minute[5:7]), 1).toordinal() - _EPOCH_DAY + int(minute[8:10]) - 1) * 86400
    return day + int(minute[11:13]) * 3600 + int(minute[14:16]) * 60


def epoch_key(epoch: int) -> bytes:
    epoch = min(max(epoch, 0), MAX_EPOCH)
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S").encode()


def epoch_month(epoch: int) -> tuple[int, int]:
    t = datetime.fromtimestamp(min(max(epoch, 0), MAX_EPOCH), UTC)
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


def lower_bound(t: datetime, inclusive: bool) -> int:
    """First whole second accepted by a lower bound (`ts > t`, or `ts >= t` when inclusive)."""
    e = to_utc(t).timestamp()
    return math.ceil(e) if inclusive else math.floor(e) + 1


def upper_bound(t: datetime, inclusive: bool) -> int:
    """First whole second rejected by an upper bound (`ts < t`, or `ts <= t` when inclusive)."""
    e = to_utc(t).timestamp()
    return math.floor(e) + 1 if inclusive else math.ceil(e)


# --- paths -----------------------------------------------------------------------


def conversation_log_path(conn_dir: Path, conversation_id: str, year: int, month: int) -> Path:
    return Path(conn_dir) / month_relpath(year, month, conversation_id)


def month_paths(conn_dir: Path | str, conversation_id: str, months: Iterable[tuple[int, int]]) -> list[str]:
    """The log file paths of a conversation's months, as strings (pathlib costs more than a page)."""
    base = os.fspath(conn_dir)
    return [f"{base}/{month_relpath(y, m, conversation_id)}" for y, m in months]


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


# --- one month file ----------------------------------------------------------------


def complete_end(fd: int, size: int) -> int:
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


def _block_sizes(search: bool) -> tuple[int, int]:
    return (_SEARCH_BLOCK, _SEARCH_MAX_BLOCK) if search else (_PAGE_BLOCK, _PAGE_MAX_BLOCK)


class LogFile:
    """A month file open for reading. `end` is fixed at open: appends made later and a torn
    last line are not seen, so one query reads one consistent snapshot."""

    __slots__ = ("end", "fd")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.end = complete_end(fd, os.fstat(fd).st_size)

    @classmethod
    def open(cls, path: Path | str) -> LogFile | None:
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
                k = line_key(line)
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
            k = line_key(line)
            if k is not None and k >= key:
                return lo + pos
            pos += len(line) + 1
        return hi

    def chunks_backward(self, end: int, search: bool = False) -> Iterator[tuple[bytes, int, int, int]]:
        """(data, a, b, base) with complete lines in data[a:b] and data read at file offset
        `base`, newest chunk first, from `end` back to the start of the file."""
        size, max_size = _block_sizes(search)
        pos = end
        while pos > 0:
            start = max(0, pos - size)
            data = os.pread(self.fd, pos - start, start)
            if start == 0:
                yield data, 0, len(data), 0
                return
            i = data.find(b"\n")
            if i < 0 or i == len(data) - 1:
                size *= 2  # one line longer than the chunk
                continue
            yield data, i + 1, len(data), start
            pos = start + i + 1
            size = min(size * 2, max_size)

    def chunks_forward(self, start: int, search: bool = False) -> Iterator[tuple[bytes, int, int, int]]:
        """(data, a, b, base) as `chunks_backward`, oldest chunk first, from `start` to `end`."""
        size, max_size = _block_sizes(search)
        pos, end = start, self.end
        while pos < end:
            stop = min(end, pos + size)
            data = os.pread(self.fd, stop - pos, pos)
            if stop == end:
                yield data, 0, len(data), pos
                return
            j = data.rfind(b"\n")
            if j < 0:
                size *= 2
                continue
            yield data, 0, j + 1, pos
            pos += j + 1
            size = min(size * 2, max_size)

    def edge_key(self, start: int, stop: int, first: bool) -> bytes | None:
        """Timestamp of the first (or last) timestamped line in [start, stop), as a scan of
        those bytes would see it at its far edge (see `edge_key` below)."""
        if start >= stop:
            return None
        size = 4096
        while True:
            a, b = (start, min(stop, start + size)) if first else (max(start, stop - size), stop)
            data = os.pread(self.fd, b - a, a)
            if first:
                cut = data.rfind(b"\n") + 1 if b < stop else len(data)
                if cut > 0:
                    return edge_key(data, 0, cut, True)
            else:
                cut = data.find(b"\n") + 1 if a > start else 0
                if 0 < cut < len(data) or a == start:
                    return edge_key(data, cut, len(data), False)
            size *= 4


def edge_key(data: bytes, a: int, b: int, first: bool) -> bytes | None:
    """Timestamp of the first (or last) timestamped line in data[a:b]; looks at a few lines only."""
    for _ in range(64):
        if a >= b:
            return None
        if first:
            e = data.find(b"\n", a, b)
            key = line_key(data[a:e])
            a = e + 1
        else:
            s = data.rfind(b"\n", a, b - 1) + 1
            key = line_key(data[max(s, a) : b - 1])
            b = max(s, a)
        if key is not None:
            return key
    return None
