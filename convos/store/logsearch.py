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

from .logcollect import Query
from .logformat import LogMessage, Matcher
from .logreader import DEFAULT_LIMIT, InvalidLimit, as_matcher
from .logscan import Scan, run_scans
from .logseek import MAX_EPOCH, epoch_month, list_log_months, lower_bound, month_paths, upper_bound


@dataclass(slots=True)
class SearchResult:
    """Matches newest first; `more` when older matches exist in the window."""

    messages: list[LogMessage] = field(default_factory=list)
    more: bool = False


def search_conversations(
    targets: Iterable[tuple[Path, str]],
    *,
    match: Matcher | str | None = None,
    from_: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    cancel: threading.Event | None = None,
) -> list[SearchResult]:
    """`search_conversation` for each (conn_dir, conversation_id), in one pass: the newest
    bytes of each in Python, then the rest of all of them through a single grep process."""
    if limit < 1:
        raise InvalidLimit("Must be a positive integer.")
    targets = list(targets)
    lo = lower_bound(after, True) if after is not None else 0
    hi = upper_bound(before, False) if before is not None else MAX_EPOCH
    if lo >= hi:
        return [SearchResult() for _ in targets]
    first, last = epoch_month(lo), epoch_month(hi - 1)
    matcher = as_matcher(match)
    nick = from_.lower() if from_ else None
    scans = []
    for conn_dir, conversation_id in targets:
        months = reversed(list_log_months(Path(conn_dir), conversation_id))
        wanted = month_paths(conn_dir, conversation_id, [ym for ym in months if first <= ym <= last])
        q = Query(lo, hi, limit, False, matcher=matcher, from_=nick, search=True)
        scans.append(Scan(wanted, q, cancel))
    run_scans([s for s in scans if s.paths])
    results = []
    for s in scans:
        messages, more = s.col.result()
        messages.reverse()
        results.append(SearchResult(messages, more))
    return results


def search_conversation(
    conn_dir: Path,
    conversation_id: str,
    *,
    match: Matcher | str | None = None,
    from_: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    cancel: threading.Event | None = None,
) -> SearchResult:
    """Matches in [after, before) (None = unbounded), read newest first.

    Lines that cannot contain the match's prefilter bytes are skipped without being parsed.
    The result holds the `limit` newest matches plus any more in the same second as the oldest.
    """
    return search_conversations(
        [(conn_dir, conversation_id)],
        match=match,
        from_=from_,
        after=after,
        before=before,
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
