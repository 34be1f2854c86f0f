"""CHATHISTORY (IRCv3 draft/chathistory) from the logs, by the store's paging: range seeks by
message id or timestamp, never a whole file; at most MAX_LIMIT lines an answer."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..core import history
from ..errors import ConvosError
from ..store.logs.id import MessagePos, parse_message_id
from .lines import format_line, parse_time

if TYPE_CHECKING:
    from ..core.connection import Connection
    from ..core.core import Core
    from ..core.user import User

# The most lines one answer has, read in one pass of the store (the API's pages stop at 200);
# advertised as CHATHISTORY=<n> in 005. bench/bench_listen.py times 500 deep in a 300 MB month.
MAX_LIMIT = 500
# Conversations TARGETS looks at, at most (each costs one short read of its newest month).
MAX_TARGETS_SCANNED = 200
_batch_ids = itertools.count(1)


class HistoryError(Exception):
    """A FAIL CHATHISTORY answer: `code` and what it is about."""

    def __init__(self, code: str, context: str, text: str) -> None:
        super().__init__(text)
        self.code, self.context, self.text = code, context, text


@dataclass(frozen=True, slots=True)
class Ref:
    """A message reference: `msgid=...`, `timestamp=...` or `*`."""

    msgid: str = ""
    ts: float | None = None

    @property
    def pos(self) -> MessagePos | None:
        return parse_message_id(self.msgid) if self.msgid else None

    def iso(self) -> str:
        assert self.ts is not None
        return datetime.fromtimestamp(self.ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ref(text: str) -> Ref | None:
    if text == "*":
        return Ref()
    if text.startswith("msgid="):
        value = text[len("msgid="):]
        return Ref(msgid=value) if parse_message_id(value) is not None else None
    if text.startswith("timestamp="):
        ts = parse_time(text)
        return Ref(ts=ts) if ts is not None else None
    return None


def _limit(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise HistoryError("INVALID_PARAMS", "*", "Invalid limit")
    return min(int(text), MAX_LIMIT)


def _after(ref: Ref) -> dict[str, str]:
    return {"after_id": ref.msgid} if ref.msgid else {"after": ref.iso()}


def _before(ref: Ref) -> dict[str, str]:
    return {"before_id": ref.msgid} if ref.msgid else {"before": ref.iso()}


def _key(message: dict[str, Any]) -> tuple[int, int, int]:
    pos = parse_message_id(message.get("id"))
    return (pos.epoch, pos.offset, pos.tag) if pos else (0, 0, 0)


def _ref_key(ref: Ref) -> tuple[int, int, int] | float:
    pos = ref.pos
    return (pos.epoch, pos.offset, pos.tag) if pos else (ref.ts or 0.0)


def _is_after(message: dict[str, Any], ref: Ref) -> bool:
    if ref.msgid:
        return _key(message) > _ref_key(ref)  # type: ignore[operator]
    return _message_ts(message) > (ref.ts or 0.0)


def _message_ts(message: dict[str, Any]) -> float:
    return parse_time(str(message.get("ts") or "")) or 0.0


class History:
    """Answers CHATHISTORY for one connection of one user."""

    def __init__(self, core: Core, user: User, conn: Connection) -> None:
        self.core, self.user, self.conn = core, user, conn

    async def _page(self, conversation_id: str, params: dict[str, Any], *, newest: bool = False,
                    trim: bool = True) -> list[dict[str, Any]]:
        """A page of the store; at most `limit` lines, the newest ones when `newest` (a timestamp
        cursor is widened to its whole second by the store, which may give more). Without `trim`
        as the store gives it (`around` gives up to `limit` on each side)."""
        try:
            page = await history.messages(self.core, self.user, self.conn.connection_id, conversation_id, params,
                                          max_limit=MAX_LIMIT)
        except ConvosError as err:
            raise HistoryError("MESSAGE_ERROR", conversation_id,
                               err.errors[0].message if err.errors else str(err)) from None
        messages = list(page.get("messages") or [])
        limit = int(params.get("limit") or MAX_LIMIT)
        if not trim:
            return messages
        return messages[-limit:] if newest else messages[:limit]

    async def query(self, params: list[str]) -> tuple[str, list[dict[str, Any]]]:
        """(target, messages oldest first) of LATEST/BEFORE/AFTER/AROUND/BETWEEN."""
        sub = params[0].upper() if params else ""
        if sub not in ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN") or len(params) < 4:
            raise HistoryError("INVALID_PARAMS", sub or "*", "Unknown subcommand or missing parameters")
        target = params[1]
        conv = self.conn.get_conversation(target)
        if conv is None or not conv.conversation_id:
            return target, []
        cid = conv.conversation_id
        first = parse_ref(params[2])
        if first is None:
            raise HistoryError("INVALID_PARAMS", sub, "Invalid message reference")
        if sub == "BETWEEN":
            second = parse_ref(params[3]) if len(params) > 4 else None
            if second is None or first == Ref() or second == Ref():
                raise HistoryError("INVALID_PARAMS", sub, "BETWEEN needs two message references and a limit")
            return target, await self._between(cid, first, second, _limit(params[4]))
        limit = _limit(params[3])
        if sub == "LATEST":
            messages = await self._page(cid, {"limit": limit}, newest=True)
            if first != Ref():
                messages = [m for m in messages if _is_after(m, first)]
            return target, messages
        if first == Ref():
            raise HistoryError("INVALID_PARAMS", sub, "A message reference is needed")
        if sub == "BEFORE":
            return target, await self._page(cid, {"limit": limit, **_before(first)}, newest=True)
        if sub == "AFTER":
            return target, await self._page(cid, {"limit": limit, **_after(first)})
        around = {"around_id": first.msgid} if first.msgid else {"around": first.iso()}
        messages = await self._page(cid, {"limit": limit, **around}, trim=False)
        # Centred on the reference: half before it, the rest from it on.
        older = [m for m in messages if not _is_after(m, first) and m.get("id") != first.msgid]
        newer = messages[len(older):]
        keep_older = min(len(older), max(limit // 2, limit - len(newer)))
        return target, (older[len(older) - keep_older:] + newer)[:limit]

    async def _between(self, cid: str, first: Ref, second: Ref, limit: int) -> list[dict[str, Any]]:
        if _ref_key(first) <= _ref_key(second):  # type: ignore[operator]
            return await self._page(cid, {"limit": limit, **_after(first), **_before(second)})
        # Reversed bounds: the lines nearest the first (later) one.
        messages = await self._page(cid, {"limit": limit, **_before(first)}, newest=True)
        return [m for m in messages if _is_after(m, second)]

    async def targets(self, params: list[str]) -> list[tuple[str, float]]:
        """TARGETS: conversations with lines between two timestamps, by their latest line."""
        if len(params) < 4:
            raise HistoryError("INVALID_PARAMS", "TARGETS", "TARGETS needs two timestamps and a limit")
        a, b = parse_ref(params[1]), parse_ref(params[2])
        if a is None or b is None or a.ts is None or b.ts is None:
            raise HistoryError("INVALID_PARAMS", "TARGETS", "TARGETS needs two timestamps")
        limit = _limit(params[3])
        lo, hi = sorted((a, b), key=lambda r: r.ts or 0.0)
        found: list[tuple[str, float]] = []
        for conv in self.conn.sorted_conversations()[:MAX_TARGETS_SCANNED]:
            newest = await self._page(conv.conversation_id, {"limit": 1, "before": hi.iso()})
            if newest and _is_after(newest[-1], lo):
                found.append((conv.name, _message_ts(newest[-1])))
        found.sort(key=lambda item: item[1])
        return found[:limit]


def batch_lines(batch_type: str, params: list[str], body: list[str], *, tagged: bool) -> list[str]:
    """`BATCH +ref type params`, the lines with `@batch=ref`, `BATCH -ref` (plain lines without batch)."""
    if not tagged:
        return body
    ref = f"h{next(_batch_ids)}"
    out = [format_line("BATCH", f"+{ref}", batch_type, *params)]
    for line in body:
        if line.startswith("@"):
            out.append(f"@batch={ref};{line[1:]}")
        else:
            out.append(f"@batch={ref} {line}")
    out.append(format_line("BATCH", f"-{ref}"))
    return out
