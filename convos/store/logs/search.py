"""Search in chat logs: the newest matches of one or many conversations, and merging them.

Synchronous and thread-safe; see docs/logs.md ("Search").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from .collect import Collector, Query
from .format import LogMessage, Matcher
from .id import MessagePos, conversation_tag, parse_message_id, pos_key
from .reader import DEFAULT_LIMIT, InvalidLimit, as_matcher, shift_ts
from .scan import Scan, run_scans
from .seek import MAX_EPOCH, epoch_key, epoch_month, list_log_months, lower_bound, month_paths, upper_bound


@dataclass(slots=True)
class SearchResult:
    """Matches newest first; `more` when older matches exist in the window, `split` when one
    of them shares the second of the oldest match returned (exact results only)."""

    messages: list[LogMessage] = field(default_factory=list)
    more: bool = False
    split: bool = False


def search_conversations(
    targets: Iterable[tuple[Path, str]],
    *,
    match: Matcher | str | None = None,
    from_: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    before_id: MessagePos | None = None,
    limit: int = DEFAULT_LIMIT,
    cancel: threading.Event | None = None,
) -> list[SearchResult]:
    """`search_conversation` for each (conn_dir, conversation_id), in one pass: the newest
    bytes of each in Python, then the rest of all of them through a single grep process.

    `before_id` is exact, in the order of all the conversations' messages (time, offset, tag);
    it wins over `before`. A timestamp `before` widens each result to its boundary second."""
    targets = list(targets)
    queries = search_queries([conversation_tag(conn_dir, cid) for conn_dir, cid in targets], match=match,
                             from_=from_, after=after, before=before, before_id=before_id, limit=limit)
    if queries is None:
        return [SearchResult() for _ in targets]
    first, last = epoch_month(queries[0].lo), epoch_month(queries[0].hi - 1)
    scans = []
    for (conn_dir, conversation_id), q in zip(targets, queries, strict=True):
        months = reversed(list_log_months(Path(conn_dir), conversation_id))
        wanted = month_paths(conn_dir, conversation_id, [ym for ym in months if first <= ym <= last])
        scans.append(Scan(wanted, q, cancel))
    run_scans([s for s in scans if s.paths])
    return [search_result(s.col) for s in scans]


def search_queries(
    tags: list[int],
    *,
    match: Matcher | str | None = None,
    from_: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    before_id: MessagePos | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Query] | None:
    """The query of each conversation (by its tag) of a search, newest first; None when the
    window is empty. InvalidLimit for a limit below 1."""
    if limit < 1:
        raise InvalidLimit("Must be a positive integer.")
    lo = lower_bound(after, True) if after is not None else 0
    hi = upper_bound(before, False) if before is not None else MAX_EPOCH
    widen = before is not None and before_id is None
    if before_id is not None:
        hi = before_id.epoch + 1
    if lo >= hi:
        return None
    matcher = as_matcher(match)
    nick = from_.lower() if from_ else None
    queries = []
    for tag in tags:
        hi_pos = None
        if before_id is not None:  # this conversation's messages at the cursor's time and offset sort by tag
            hi_pos = pos_key(epoch_key(before_id.epoch), before_id.offset + (tag < before_id.tag))
        queries.append(Query(lo, hi, limit, False, matcher=matcher, from_=nick, search=True, hi_pos=hi_pos,
                             widen=widen, tag=tag))
    return queries


def search_result(col: Collector) -> SearchResult:
    """What a search's collector found, newest first."""
    messages, more = col.result()
    messages.reverse()
    return SearchResult(messages, more, col.split)


def search_conversation(
    conn_dir: Path,
    conversation_id: str,
    *,
    match: Matcher | str | None = None,
    from_: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    before_id: MessagePos | None = None,
    limit: int = DEFAULT_LIMIT,
    cancel: threading.Event | None = None,
) -> SearchResult:
    """Matches in [after, before) (None = unbounded), read newest first.

    Lines that cannot contain the match's prefilter bytes are skipped without being parsed.
    The result holds the `limit` newest matches (with a timestamp `before`: plus any more in
    the same second as the oldest).
    """
    return search_conversations(
        [(conn_dir, conversation_id)],
        match=match,
        from_=from_,
        after=after,
        before=before,
        before_id=before_id,
        limit=limit,
        cancel=cancel,
    )[0]


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


def merge_exact(
    results: Iterable[tuple[list[T], bool, bool]], limit: int, pos: Callable[[T], MessagePos]
) -> tuple[list[T], T | None, bool]:
    """Merge per-conversation (newest-first items, more, split) into one newest-first page of at
    most `limit` items, in message order (time, offset, tag). Returns the page, its oldest item
    when older ones exist (the next page's `before_id`), and whether an older item may share
    that item's second. Never returns an item older than what a truncated conversation could
    still hold, so paging by the oldest item's id loses nothing."""
    items: list[T] = []
    truncated: list[tuple[MessagePos, bool]] = []  # (oldest item returned, split) per truncated result
    for found, more, split in results:
        items.extend(found)
        if more and found:
            truncated.append((pos(found[-1]), split))
    items.sort(key=pos, reverse=True)
    floor = max((oldest for oldest, _ in truncated), default=None)
    page = [x for x in items if pos(x) >= floor] if floor is not None else items
    more = floor is not None
    if len(page) > limit:
        page, more = page[:limit], True
    if not more or not page:
        return page, None, False
    second = pos(page[-1]).epoch
    # Older items in that second: one returned by a conversation but left out here, or one not
    # read yet in a truncated conversation whose own boundary is that second.
    split = any(pos(x).epoch == second for x in items[len(page) :]) or any(
        oldest.epoch == second and split for oldest, split in truncated
    )
    return page, page[-1], split


def _message_pos(item: tuple[str, str, LogMessage]) -> MessagePos:
    pos = parse_message_id(item[2].id)
    assert pos is not None, "a scan gives every message its id"
    return pos


def merge_search(
    targets: list[tuple[str, str]], found: list[SearchResult], limit: int, *, by_time: bool
) -> tuple[list[tuple[str, str, LogMessage]], str | None, str | None]:
    """One newest-first page of (connection_id, conversation_id, message) from the results of
    `targets`, and the `before` and `before_id` cursors of the next page (None when nothing
    older exists). `by_time`: the query's cursor was a timestamp (whole seconds, as the original
    pages), not an id."""
    results = [
        ([(connection_id, cid, m) for m in res.messages], res.more, res.split)
        for (connection_id, cid), res in zip(targets, found, strict=True)
    ]
    if by_time:
        items, cut = merge_newest_first([r[:2] for r in results], limit, lambda item: item[2].ts)
        return items, cut, (items[-1][2].id if cut is not None and items else None)
    items, last, split = merge_exact(results, limit, _message_pos)
    if last is None:
        return items, None, None
    return items, shift_ts(last[2].ts, 1) if split else last[2].ts, last[2].id
