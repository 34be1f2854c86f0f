"""Reading chat history: pages of a conversation, search across conversations, notifications."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput, NotFound
from ..store.base import QueryError
from .connection import Connection, Conversation
from .user import User

if TYPE_CHECKING:
    from .core import Core

SEARCH_DEFAULT_LIMIT = 60
SEARCH_MAX_LIMIT = 1000
# Scans of one user that wait for one of their CONVOS_SCANS_PER_USER slots; more answer 429.
SCAN_QUEUE = 4


def parse_ts(value: str | None, path: str) -> datetime | None:
    """An ISO 8601 timestamp as UTC; Convos' own timestamps have no zone and are UTC."""
    if value is None or value == "":
        return None
    text = value.strip().replace(" ", "T", 1)
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("Does not match date-time format.", path) from None
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def find_conversation(user: User, connection_id: str, conversation_id: str) -> tuple[Connection, Conversation]:
    conn = user.get_connection(connection_id)
    conv = conn.get_conversation(conversation_id) if conn else None
    if conn is None or conv is None:
        raise NotFound("Conversation not found.")
    return conn, conv


def _limit(value: Any, default: int, maximum: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or value < 1:
        raise InvalidInput("Must be a positive integer.", "/limit")
    return min(value, maximum)


async def messages(core: Core, user: User, connection_id: str, conversation_id: str,
                   params: dict[str, Any], *, max_limit: int | None = None) -> dict[str, Any]:
    """A page of a conversation; at most 200 messages (the API's §3.1), or `max_limit`."""
    _, conv = find_conversation(user, connection_id, conversation_id)
    query = {
        "after": parse_ts(params.get("after"), "/after"),
        "before": parse_ts(params.get("before"), "/before"),
        "around": parse_ts(params.get("around"), "/around"),
        # message ids: exact cursors, opaque here (the store reads them)
        "after_id": params.get("after_id") or None,
        "before_id": params.get("before_id") or None,
        "around_id": params.get("around_id") or None,
        "limit": params.get("limit"),
        "match": params.get("match") or None,
    }
    if max_limit is not None:
        query["max_limit"] = max_limit
    try:
        async with core.scan_slots.hold(user.email):
            page = await core.store.read_messages(user.email, connection_id, conv.conversation_id, **query)
    except QueryError as err:
        raise InvalidInput(str(err), err.path) from None
    return page.to_dict()


@dataclass(slots=True)
class SearchQuery:
    match: str = ""
    from_: str = ""
    connection_id: str = ""
    conversation_id: str = ""

    @classmethod
    def parse(cls, params: dict[str, Any]) -> SearchQuery:
        """`#chan` and `@nick` words in `match` become filters unless given explicitly (spec §3.6)."""
        q = cls(connection_id=params.get("connection_id") or "", conversation_id=params.get("conversation_id") or "",
                from_=params.get("from") or "")
        text = str(params.get("match") or "")
        if not q.conversation_id:
            channels = re.findall(r"(?:^|\s)(#\S+)", text)
            if channels:
                q.conversation_id = channels[-1]
                text = re.sub(r"(?:^|\s)#\S+", " ", text)
        if not q.from_:
            nicks = re.findall(r"(?:^|\s)@(\S+)", text)
            if nicks:
                q.from_ = nicks[-1]
                text = re.sub(r"(?:^|\s)@\S+", " ", text)
        q.match = text.strip()
        return q

    @property
    def empty(self) -> bool:
        return not (self.match or self.from_ or self.connection_id or self.conversation_id)


async def search(core: Core, user: User, params: dict[str, Any]) -> dict[str, Any]:
    """Matches across the user's conversations, newest first; `before` pages further back."""
    q = SearchQuery.parse(params)
    limit = _limit(params.get("limit"), SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT)
    after = parse_ts(params.get("after"), "/after")
    before = parse_ts(params.get("before"), "/before")
    if q.empty:
        return {"messages": [], "end": True}
    if after is None:
        after = datetime.fromtimestamp(time.time() - core.config.default_search_after, UTC)
    if before is not None and after >= before:
        raise InvalidInput('Must be before "/after".', "/before")

    connections = user.sorted_connections()
    if q.connection_id:
        conn = user.get_connection(q.connection_id)
        if conn is None:
            raise NotFound("Connection not found.")
        connections = [conn]
    targets = []
    for conn in connections:
        if q.conversation_id:
            conv = conn.get_conversation(q.conversation_id)
            if conv is not None and conv.conversation_id:
                targets.append((conn.connection_id, conv.conversation_id))
        else:
            targets.extend((conn.connection_id, c.conversation_id) for c in conn.sorted_conversations())
    if not targets:
        return {"messages": [], "end": True}

    query: dict[str, Any] = {"after": after, "before": before, "before_id": params.get("before_id") or None,
                             "match": q.match or None, "from_": q.from_ or None}
    try:
        async with core.scan_slots.hold(user.email):
            found, cursor, cursor_id = await core.store.search_messages(user.email, targets, limit=limit, **query)
    except QueryError as err:
        raise InvalidInput(str(err), err.path) from None
    out = []
    for connection_id, conversation_id, msg in found:
        item = msg.to_dict()
        item["connection_id"] = connection_id
        item["conversation_id"] = conversation_id
        out.append(item)
    body: dict[str, Any] = {"messages": out, "end": cursor is None}
    if cursor is not None:
        body["before"] = cursor
    if cursor_id is not None:
        body["before_id"] = cursor_id
    return body


async def notifications(core: Core, user: User, params: dict[str, Any]) -> dict[str, Any]:
    limit = _limit(params.get("limit"), 40, 1000)
    async with core.scan_slots.hold(user.email):
        found = await core.store.read_notifications(user.email, limit)
    return {"messages": [n.to_dict() for n in found], "end": None}


# A download of history covers at most this many days (a month is one request).
EXPORT_MAX_DAYS = 366
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _day(value: str, path: str) -> datetime:
    m = _DAY.fullmatch(value)
    try:
        if m is None:
            raise ValueError
        return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
    except ValueError:
        raise InvalidInput("Expected a date: YYYY-MM-DD.", path) from None


def export_range(params: dict[str, Any]) -> tuple[datetime, datetime, str]:
    """(start, end, label) of a download: `month` (YYYY-MM), or `from` and `to` (whole days, UTC,
    both included). End is exclusive."""
    month, first, last = params.get("month") or "", params.get("from") or "", params.get("to") or ""
    if month:
        if first or last:
            raise InvalidInput("Give either a month or a date range.", "/month")
        m = _MONTH.fullmatch(month)
        if m is None or not 1 <= int(m[2]) <= 12 or int(m[1]) < 1:
            raise InvalidInput("Expected a month: YYYY-MM.", "/month")
        year, mon = int(m[1]), int(m[2])
        start = datetime(year, mon, 1, tzinfo=UTC)
        end = datetime(year + 1, 1, 1, tzinfo=UTC) if mon == 12 else datetime(year, mon + 1, 1, tzinfo=UTC)
        return start, end, month
    if not first or not last:
        raise InvalidInput("Missing property.", "/month" if not (first or last) else ("/to" if first else "/from"))
    start, stop = _day(first, "/from"), _day(last, "/to")
    if stop < start:
        raise InvalidInput("The end is before the start.", "/to")
    if (stop - start).days >= EXPORT_MAX_DAYS:
        raise InvalidInput(f"At most {EXPORT_MAX_DAYS} days at a time.", "/to")
    return start, stop + timedelta(days=1), first if first == last else f"{first}_{last}"


def export_filename(connection_id: str, conversation_id: str, label: str) -> str:
    """A file name a browser keeps: the conversation and the dates, nothing else."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{connection_id}-{conversation_id or 'server'}").strip("._") or "log"
    return f"{name[:100]}-{label}.txt"


def export(core: Core, user: User, connection_id: str, conversation_id: str, start: datetime, end: datetime
           ) -> AsyncIterator[bytes]:
    """The conversation's log between start and end as plain text blocks (the caller holds a scan slot)."""
    _, conv = find_conversation(user, connection_id, conversation_id)
    return core.store.export_messages(user.email, connection_id, conv.conversation_id, start, end)
