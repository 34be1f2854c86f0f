"""Monthly chat logs on disk: one import for the writer, pages, search, counts and notifications.

The code lives in writer.py (appends), seek.py (files, keys, binary search),
collect.py (which lines make a page), scan.py (the scan, in Python or through grep),
grep.py (the grep process), reader.py (pages, counts, notifications) and search.py
(search), export.py (downloads as plain text). See docs/logs.md.
"""

from __future__ import annotations

from .collect import MAX_WIDEN
from .export import BLOCK as EXPORT_BLOCK
from .export import export_lines, plain_line
from .grep import Cancelled
from .id import MessagePos, parse_message_id
from .reader import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_WINDOW,
    RANGE_LIMIT,
    AfterIsLater,
    InvalidLimit,
    LogQueryError,
    MessagePage,
    PageReader,
    WindowTooLong,
    check_window,
    count_messages,
    find_message_id,
    parse_ids,
    plan_page,
    read_messages,
    read_notifications,
    resolve_limit,
    shift_ts,
)
from .search import (
    SearchResult,
    merge_exact,
    merge_newest_first,
    merge_search,
    search_conversation,
    search_conversations,
    search_queries,
    search_result,
)
from .seek import SLACK_SECONDS, add_months, conversation_log_path, list_log_months
from .writer import LogWriter, delete_conversation_logs

__all__ = [
    "DEFAULT_LIMIT",
    "EXPORT_BLOCK",
    "MAX_LIMIT",
    "MAX_WIDEN",
    "MAX_WINDOW",
    "RANGE_LIMIT",
    "SLACK_SECONDS",
    "AfterIsLater",
    "Cancelled",
    "InvalidLimit",
    "LogQueryError",
    "LogWriter",
    "MessagePage",
    "MessagePos",
    "PageReader",
    "SearchResult",
    "WindowTooLong",
    "add_months",
    "check_window",
    "conversation_log_path",
    "count_messages",
    "delete_conversation_logs",
    "export_lines",
    "find_message_id",
    "list_log_months",
    "merge_exact",
    "merge_newest_first",
    "merge_search",
    "parse_ids",
    "parse_message_id",
    "plain_line",
    "plan_page",
    "read_messages",
    "read_notifications",
    "resolve_limit",
    "search_conversation",
    "search_conversations",
    "search_queries",
    "search_result",
    "shift_ts",
]
