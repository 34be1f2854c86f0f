"""Reading chat logs: pages of a conversation (§3.2-§3.4), message counts, notifications.

Synchronous and thread-safe; async callers wrap these calls in `asyncio.to_thread`.
See docs/logs.md for the seek algorithm and the guarantees.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .logcollect import Query
from .logformat import LogMessage, Matcher, Notification, iter_months, parse_notification, to_utc
from .logscan import Scan, run_scans
from .logseek import (
    HEAD,
    MAX_EPOCH,
    SLACK_SECONDS,
    LogFile,
    add_months,
    conversation_log_path,
    epoch_key,
    epoch_month,
    list_log_months,
    lower_bound,
    month_paths,
    upper_bound,
)

DEFAULT_LIMIT = 60
RANGE_LIMIT = 200  # default when both after and before are given
MAX_LIMIT = 200
MAX_WINDOW = timedelta(days=365)


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


def as_matcher(match: Matcher | str | None) -> Matcher | None:
    if isinstance(match, str):
        match = Matcher(match)
    return match if match else None


def _read(
    conn_dir: Path | str,
    conversation_id: str,
    q: Query,
    cancel: threading.Event | None,
) -> tuple[list[LogMessage], bool]:
    if q.lo >= q.hi:
        return [], False
    first, last = epoch_month(q.lo), epoch_month(q.hi - 1)
    months = iter_months(first, last) if q.forward else iter_months(last, first)
    scan = Scan(month_paths(conn_dir, conversation_id, months), q, cancel)
    run_scans([scan])
    return scan.col.result()


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
    cancel: threading.Event | None = None,
) -> MessagePage:
    """A page of a conversation's log (conversation_id '' = the connection's own log), §3.2-§3.4.

    Raises InvalidLimit, AfterIsLater or WindowTooLong (all ValueError) for bad input, and
    loggrep.Cancelled when `cancel` is set while it reads.
    """
    limit = resolve_limit(limit, both_bounds=after is not None and before is not None)
    if after is not None and before is not None:
        check_window(after, before)
    now = to_utc(now or datetime.now(UTC))
    matcher = as_matcher(match)
    nick = from_.lower() if from_ else None
    future = add_months(now, 1)

    def read(lo: int, hi: int, forward: bool) -> tuple[list[LogMessage], bool]:
        q = Query(lo, hi, limit, forward, matcher=matcher, from_=nick)
        return _read(conn_dir, conversation_id, q, cancel)

    if around is not None:
        # (a) backwards, ts < around; (b) forwards, around <= ts <= bound (inclusive, as the original).
        lo_a = (
            lower_bound(after, False)
            if after is not None
            else lower_bound(add_months(to_utc(around), -12), False)
        )
        older, more_older = read(lo_a, upper_bound(around, False), False)
        hi_b = before if before is not None else min(add_months(to_utc(around), 12), future)
        newer, more_newer = read(lower_bound(around, True), upper_bound(hi_b, True), True)
        return MessagePage(
            older + newer,
            before=older[0].ts if more_older else None,
            after=newer[-1].ts if more_newer else None,
        )

    if after is not None:
        hi = before if before is not None else min(add_months(to_utc(after), 12), future)
        messages, more = read(lower_bound(after, False), upper_bound(hi, False), True)
        return MessagePage(messages, after=messages[-1].ts if more else None)

    hi_t = to_utc(before) if before is not None else now + timedelta(seconds=10)
    messages, more = read(lower_bound(add_months(hi_t, -12), False), upper_bound(hi_t, False), False)
    return MessagePage(messages, before=messages[0].ts if more else None)


def count_messages(
    conn_dir: Path, conversation_id: str, *, after: datetime, before: datetime | None = None
) -> int:
    """How many logged messages have `after < ts` (and `ts < before`); streams, stores nothing."""
    months = list_log_months(Path(conn_dir), conversation_id)
    lo = lower_bound(after, False)
    hi = upper_bound(before, False) if before is not None else MAX_EPOCH
    if not months or lo >= hi:
        return 0
    lo_key = epoch_key(lo)
    hi_key = epoch_key(hi) if hi < MAX_EPOCH else b"\xff"
    first, last = epoch_month(lo), epoch_month(hi - 1)
    count = 0
    for n, (y, m) in enumerate(x for x in months if first <= x <= last):
        lf = LogFile.open(conversation_log_path(conn_dir, conversation_id, y, m))
        if lf is None:
            continue
        try:
            start = lf.bisect(epoch_key(lo - SLACK_SECONDS)) if n == 0 else 0
            for data, a, b, _ in lf.chunks_forward(start, search=True):
                for line in data[a:b].split(b"\n"):
                    key = line[:19]
                    if (lo_key <= key < hi_key or (len(key) == 19 and key[10] == 116)) and HEAD.match(line):
                        key = key if key[10] == 84 else key[:10] + b"T" + key[11:]
                        count += lo_key <= key < hi_key
        finally:
            lf.close()
    return count


def read_notifications(path: Path, limit: int = 40) -> list[Notification]:
    """The newest `limit` lines of a notifications.log, oldest first; [] when it does not exist."""
    lf = LogFile.open(path) if limit > 0 else None
    if lf is None:
        return []
    found: list[Notification] = []
    try:
        for data, a, b, _ in lf.chunks_backward(lf.end):
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
