"""Reading chat logs: pages of a conversation (§3.2-§3.4), message counts, notifications.

Synchronous and thread-safe; async callers wrap these calls in `asyncio.to_thread`.
See docs/logs.md for the seek algorithm and the guarantees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .collect import Query
from .format import LogMessage, Matcher, Notification, iter_months, parse_notification, split_line, to_utc
from .id import MessagePos, conversation_tag, parse_message_id, pos_key
from .scan import Scan, run_scans
from .seek import (
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
    """Messages oldest first. When older (newer) messages exist, `before_id` (`after_id`) is the
    id of the oldest (newest) message, and `before` (`after`) a timestamp cursor (§3.3)."""

    messages: list[LogMessage] = field(default_factory=list)
    before: str | None = None
    after: str | None = None
    before_id: str | None = None
    after_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"messages": [m.to_dict() for m in self.messages]}
        for name in ("before", "after", "before_id", "after_id"):
            value = getattr(self, name)
            if value is not None:
                d[name] = value
        return d


@dataclass(slots=True)
class _Side:
    """One end of a read: a whole second (`epoch`), narrowed to an exact place by `pos`."""

    epoch: int
    pos: bytes | None = None


def _lower(after: datetime | None, after_id: MessagePos | None, *, inclusive: bool = False) -> _Side | None:
    """The first accepted place after a cursor (an id wins over a timestamp)."""
    if after_id is not None:
        return _Side(after_id.epoch, pos_key(epoch_key(after_id.epoch), after_id.offset + (0 if inclusive else 1)))
    if after is not None:
        return _Side(lower_bound(after, inclusive))
    return None


def _upper(before: datetime | None, before_id: MessagePos | None, *, inclusive: bool = False) -> _Side | None:
    """The first rejected place before a cursor (an id wins over a timestamp)."""
    if before_id is not None:
        return _Side(before_id.epoch + 1, pos_key(epoch_key(before_id.epoch), before_id.offset))
    if before is not None:
        return _Side(upper_bound(before, inclusive))
    return None


def parse_ids(query: dict[str, object]) -> None:
    """Message ids in a query (`before_id`...) as positions, in place: ids are opaque above the
    store. LogQueryError names the parameter that holds no id."""
    for name, value in query.items():
        if name.endswith("_id") and value is not None:
            pos = parse_message_id(value)
            if pos is None:
                raise LogQueryError("Invalid message id.", f"/{name}")
            query[name] = pos


def shift_ts(ts: str, seconds: int) -> str:
    return (datetime.fromisoformat(ts) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


def resolve_limit(limit: int | None, *, both_bounds: bool = False, max_limit: int = MAX_LIMIT) -> int:
    """§3.1: default 60, or 200 with both after and before; clamped to 200 (`max_limit`, which
    only callers other than the API change); below 1 is an error."""
    if limit is None:
        return RANGE_LIMIT if both_bounds else DEFAULT_LIMIT
    if limit < 1:
        raise InvalidLimit("Must be a positive integer.")
    return min(limit, max_limit)


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


# Reads the lines of one query: (messages oldest first, more exist, the boundary second holds
# more of them). The file store scans month files; the memory store its list of lines.
PageReader = Callable[[Query], tuple[list[LogMessage], bool, bool]]


def _read(
    conn_dir: Path | str,
    conversation_id: str,
    q: Query,
    cancel: threading.Event | None,
) -> tuple[list[LogMessage], bool, bool]:
    """(messages oldest first, more exist, the boundary second holds more of them)."""
    first, last = epoch_month(q.lo), epoch_month(q.hi - 1)
    months = iter_months(first, last) if q.forward else iter_months(last, first)
    scan = Scan(month_paths(conn_dir, conversation_id, months), q, cancel)
    run_scans([scan])
    messages, more = scan.col.result()
    return messages, more, scan.col.split


def read_messages(
    conn_dir: Path,
    conversation_id: str,
    *,
    after: datetime | None = None,
    before: datetime | None = None,
    around: datetime | None = None,
    after_id: MessagePos | None = None,
    before_id: MessagePos | None = None,
    around_id: MessagePos | None = None,
    limit: int | None = None,
    max_limit: int = MAX_LIMIT,
    match: Matcher | str | None = None,
    from_: str | None = None,
    now: datetime | None = None,
    cancel: threading.Event | None = None,
) -> MessagePage:
    """A page of a conversation's log (conversation_id '' = the connection's own log), §3.2-§3.4.

    See `plan_page` for the cursors. Raises grep.Cancelled when `cancel` is set while it reads.
    """
    return plan_page(
        lambda q: _read(conn_dir, conversation_id, q, cancel), conversation_tag(conn_dir, conversation_id),
        after=after, before=before, around=around, after_id=after_id, before_id=before_id, around_id=around_id,
        limit=limit, max_limit=max_limit, match=match, from_=from_, now=now,
    )


def plan_page(
    read_query: PageReader,
    tag: int,
    *,
    after: datetime | None = None,
    before: datetime | None = None,
    around: datetime | None = None,
    after_id: MessagePos | None = None,
    before_id: MessagePos | None = None,
    around_id: MessagePos | None = None,
    limit: int | None = None,
    max_limit: int = MAX_LIMIT,
    match: Matcher | str | None = None,
    from_: str | None = None,
    now: datetime | None = None,
) -> MessagePage:
    """The page a query asks for, its lines read by `read_query` (`tag`: the conversation's).

    Cursors are message ids (`*_id`, exact: a page holds exactly `limit` messages, or fewer at
    the end) or timestamps (whole seconds: the page is widened to its boundary second); an id
    wins over a timestamp for the same side. Raises InvalidLimit, AfterIsLater or
    WindowTooLong (all ValueError) for bad input.
    """
    has_after, has_before = after is not None or after_id is not None, before is not None or before_id is not None
    limit = resolve_limit(limit, both_bounds=has_after and has_before, max_limit=max_limit)
    by_id = after_id is not None or before_id is not None or around_id is not None
    widen = not by_id and (after is not None or before is not None or around is not None)
    if after_id is not None:
        after = to_utc(after_id.epoch)
    if before_id is not None:
        before = to_utc(before_id.epoch)
    if around_id is not None:
        around = to_utc(around_id.epoch)
    if after is not None and before is not None:
        check_window(after, before)
    now = to_utc(now or datetime.now(UTC))
    matcher = as_matcher(match)
    nick = from_.lower() if from_ else None
    future = add_months(now, 1)

    def read(lo: _Side, hi: _Side, forward: bool) -> tuple[list[LogMessage], bool, bool]:
        q = Query(lo.epoch, hi.epoch, limit, forward, matcher=matcher, from_=nick, lo_pos=lo.pos, hi_pos=hi.pos,
                  widen=widen, tag=tag)
        if q.lo >= q.hi or q.lo_key >= q.hi_key:
            return [], False, False
        return read_query(q)

    def older_cursor(page: MessagePage, messages: list[LogMessage], split: bool) -> None:
        oldest = messages[0]
        page.before_id = oldest.id
        # A timestamp cursor in the middle of a second would skip the rest of that second:
        # old clients get the next second instead, and see those lines again rather than never.
        page.before = shift_ts(oldest.ts, 1) if split else oldest.ts

    def newer_cursor(page: MessagePage, messages: list[LogMessage], split: bool) -> None:
        newest = messages[-1]
        page.after_id = newest.id
        page.after = shift_ts(newest.ts, -1) if split else newest.ts

    if around is not None:
        # (a) backwards, before the cursor; (b) forwards, from the cursor on (inclusive, as the original).
        lo_a = _lower(after, after_id) or _Side(lower_bound(add_months(to_utc(around), -12), False))
        hi_a = _upper(around, around_id) or _Side(0)
        older, more_older, split_older = read(lo_a, hi_a, False)
        lo_b = _lower(around, around_id, inclusive=True) or _Side(0)
        hi_b = _upper(before, before_id, inclusive=True) or _Side(
            upper_bound(min(add_months(to_utc(around), 12), future), True))
        newer, more_newer, split_newer = read(lo_b, hi_b, True)
        page = MessagePage(older + newer)
        if more_older and older:
            older_cursor(page, older, split_older)
        if more_newer and newer:
            newer_cursor(page, newer, split_newer)
        return page

    if after is not None:
        lo = _lower(after, after_id)
        assert lo is not None
        hi = _upper(before, before_id) or _Side(upper_bound(min(add_months(after, 12), future), False))
        messages, more, split = read(lo, hi, True)
        page = MessagePage(messages)
        if more and messages:
            newer_cursor(page, messages, split)
        return page

    hi_t = to_utc(before) if before is not None else now + timedelta(seconds=10)
    hi = _upper(before, before_id) or _Side(upper_bound(hi_t, False))
    messages, more, split = read(_Side(lower_bound(add_months(hi_t, -12), False)), hi, False)
    page = MessagePage(messages)
    if more and messages:
        older_cursor(page, messages, split)
    return page


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


def find_message_id(
    conn_dir: Path, conversation_id: str, ts: str, body: str, files: dict[str, LogFile | None] | None = None
) -> str | None:
    """The id of the line with this timestamp and body in a conversation's log (the first one,
    if the same line was logged twice in that second), or None.

    `files`: month files already open (path -> LogFile, or None when missing), for several
    lookups in a row; the caller closes them. Without it the file is opened and closed here."""
    try:
        when = datetime.strptime(ts.upper(), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    epoch = int(when.timestamp())
    key = epoch_key(epoch)
    path = str(conversation_log_path(conn_dir, conversation_id, when.year, when.month))
    if files is None:
        lf = LogFile.open(path)
    elif path in files:
        lf = files[path]
    else:
        lf = files[path] = LogFile.open(path)
    if lf is None:
        return None
    try:
        start = lf.bisect(epoch_key(epoch - SLACK_SECONDS))
        stop = epoch_key(epoch + SLACK_SECONDS + 1)
        for data, a, b, base in lf.chunks_forward(start):
            pos = a
            for line in data[a:b].split(b"\n")[:-1]:
                k = line[:19].upper() if HEAD.match(line) else None
                if k is not None and k >= stop:
                    return None
                if k == key:
                    parts = split_line(line.decode("utf-8", "replace"))
                    if parts is not None and parts[2] == body:
                        return MessagePos(epoch, base + pos, conversation_tag(conn_dir, conversation_id)).id
                pos += len(line) + 1
    finally:
        if files is None:
            lf.close()
    return None


def read_notifications(path: Path, limit: int = 40, user_dir: Path | None = None) -> list[Notification]:
    """The newest `limit` lines of a notifications.log, oldest first; [] when it does not exist.

    With `user_dir`, each notification gets the id of its message in the conversation's log."""
    found = _read_notifications(path, limit)
    if user_dir is not None:
        files: dict[str, LogFile | None] = {}  # each month file opened once for all the lookups
        try:
            for n in found:
                if n.connection_id.startswith(".") or "/" in n.connection_id or "\0" in n.connection_id:
                    continue
                n.id = find_message_id(Path(user_dir) / n.connection_id, n.conversation_id, n.ts, n.body, files)
        finally:
            for lf in files.values():
                if lf is not None:
                    lf.close()
    return found


def _read_notifications(path: Path, limit: int) -> list[Notification]:
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
