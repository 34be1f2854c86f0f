"""The memory store: every capability of the file store, kept in dicts, for tests and tools.

Nothing touches the disk, nothing runs in a thread: a core on this store starts in
milliseconds. Records are copied through JSON on the way in and out, as the file store's
are, so a caller never shares a dict with the store. Chat lines are kept as the log lines the
file store writes, and pages, search and message ids come from the same query code
(`logs.plan_page`, `logs.search_queries`, the `Collector`), so both stores answer a query alike;
t/test_store_contract.py checks that they do.
"""

from __future__ import annotations

import bisect
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from . import logs
from .base import DiskUsage, LogRef, QueryError, Store, StoreError, UploadRecord, UserRecord
from .logs.collect import Collector, Query
from .logs.format import (
    LogMessage,
    Notification,
    format_body,
    format_line,
    format_notification,
    parse_notification,
    split_line,
)
from .logs.id import conversation_tag, key_id, pos_key
from .logs.seek import epoch_key, line_key, lower_bound, upper_bound
from .uploads import META_KEYS, format_saved, valid_fid

CHUNK = 64 * 1024


def _copy(data: Any) -> Any:
    """A deep copy that only JSON survives, as a save and a load through the file store."""
    return orjson.loads(orjson.dumps(data))


@dataclass(slots=True)
class _Lines:
    """One conversation's log: lines (without their newline) sorted by key (time, then offset).

    A line's offset is where the file store would write it in its month file, so both stores
    give a line the same message id."""

    keys: list[bytes] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    sizes: dict[bytes, int] = field(default_factory=dict)  # bytes per month ("YYYY-MM")

    def append(self, line: bytes) -> bytes | None:
        ts = line_key(line)
        if ts is None:
            return None
        offset = self.sizes.get(ts[:7], 0)
        key = pos_key(ts, offset)
        self.sizes[ts[:7]] = offset + len(line) + 1
        i = bisect.bisect(self.keys, key)
        self.keys.insert(i, key)
        self.lines.insert(i, line)
        return key

    def read(self, q: Query) -> tuple[list[LogMessage], bool, bool]:
        col = Collector(q)
        lo, hi = bisect.bisect_left(self.keys, q.lo_key), bisect.bisect_left(self.keys, q.hi_key)
        for i in range(lo, hi) if q.forward else range(hi - 1, lo - 1, -1):
            col.offer(self.keys[i], self.lines[i])
            if col.done(self.keys[i]):
                break
        messages, more = col.result()
        return messages, more, col.split


class MemoryUploadSink:
    """Bytes of an upload, in memory until it is committed."""

    def __init__(self, email: str) -> None:
        self.email = email
        self.size = 0
        self._data = bytearray()
        self._md5 = hashlib.md5()
        self._open = True

    async def write(self, chunk: bytes) -> None:
        if not self._open:
            raise StoreError("Upload is closed.")
        self._data += chunk
        self._md5.update(chunk)
        self.size += len(chunk)

    async def finish(self) -> str:
        self._open = False
        return self._md5.hexdigest()

    async def discard(self) -> None:
        self._open = False
        self._data.clear()


class MemoryUploadStream:
    """An upload's bytes, in chunks (see base.UploadStream)."""

    def __init__(self, data: bytes, mtime: float) -> None:
        self._data = data
        self.size = len(data)
        self.mtime = mtime

    async def chunks(self, start: int = 0, stop: int | None = None, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        view = memoryview(self._data)[start:stop]
        for i in range(0, len(view), chunk_size):
            yield bytes(view[i:i + chunk_size])

    async def close(self) -> None:
        self._data = b""

    async def __aenter__(self) -> MemoryUploadStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


@dataclass(slots=True)
class _Upload:
    meta: dict[str, Any]
    data: bytes
    mtime: float


def _spool_name_ok(name: str) -> bool:
    return not name.startswith(".") and not name.endswith((".tmp", ".failed"))


class MemoryStore:
    """Implements the store protocols of base.py (`Store`) in memory."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.settings: dict[str, Any] | None = None
        self.legacy_secrets: list[str] = []
        self.users: dict[str, UserRecord] = {}
        self.broken: set[str] = set()
        self.connections: dict[str, dict[str, dict[str, Any]]] = {}
        self.profiles: dict[str, dict[str, Any]] = {}
        self._logs: dict[tuple[str, str, str], _Lines] = {}
        self._notifications: dict[str, list[str]] = {}
        self._uploads: dict[str, dict[str, _Upload]] = {}
        self.bot_configs: dict[str, tuple[bytes, int]] = {}  # email -> (bytes, mtime in ns)
        self.spools: dict[str, dict[str, bytes]] = {}
        self.custom_css: dict[str, str] = {}
        self.preferences: dict[str, dict[str, Any]] = {}

    # --- settings and profiles -------------------------------------------------------

    async def load_settings(self) -> dict[str, Any] | None:
        return _copy(self.settings) if self.settings is not None else None

    async def save_settings(self, data: dict[str, Any]) -> None:
        self.settings = _copy(data)

    async def load_legacy_secrets(self) -> list[str]:
        return list(self.legacy_secrets)

    async def remove_legacy_secrets(self) -> None:
        self.legacy_secrets = []

    async def load_profile(self, profile_id: str) -> dict[str, Any] | None:
        data = self.profiles.get(profile_id)
        return _copy(data) if data is not None else None

    async def load_profiles(self) -> list[tuple[str, dict[str, Any]]]:
        return [(pid, _copy(data)) for pid, data in sorted(self.profiles.items())]

    async def save_profile(self, profile_id: str, data: dict[str, Any]) -> None:
        self.profiles[profile_id] = _copy(data)

    async def delete_profile(self, profile_id: str) -> None:
        self.profiles.pop(profile_id, None)

    async def disk_usage(self) -> DiskUsage | None:
        return None

    async def close(self) -> None:
        pass

    # --- users and connections ------------------------------------------------------

    async def load_users(self) -> list[UserRecord]:
        return [UserRecord(_copy(r.data), r.ctime, await self.load_connections(email))
                for email, r in sorted(self.users.items())]

    def is_broken_user(self, email: str) -> bool:
        return email in self.broken

    async def save_user(self, email: str, data: dict[str, Any]) -> None:
        if email in self.broken:
            raise StoreError(f"Refusing to overwrite unreadable user.json for {email}.")
        old = self.users.get(email)
        self.users[email] = UserRecord(_copy(data), old.ctime if old else self.clock())

    async def delete_user(self, email: str) -> None:
        self.users.pop(email, None)
        self.connections.pop(email, None)
        self._notifications.pop(email, None)
        self._uploads.pop(email, None)
        self.bot_configs.pop(email, None)
        self.spools.pop(email, None)
        for key in [k for k in self._logs if k[0] == email]:
            del self._logs[key]

    async def load_connections(self, email: str) -> list[dict[str, Any]]:
        found = []
        for connection_id, data in sorted(self.connections.get(email, {}).items()):
            data = _copy(data)
            data.setdefault("connection_id", connection_id)
            found.append(data)
        return found

    async def save_connection(self, email: str, connection_id: str, data: dict[str, Any]) -> None:
        self.connections.setdefault(email, {})[connection_id] = _copy(data)

    async def save_connections(self, items: list[tuple[str, str, dict[str, Any]]]) -> None:
        for email, connection_id, data in items:
            await self.save_connection(email, connection_id, data)

    async def delete_connection(self, email: str, connection_id: str) -> None:
        self.connections.get(email, {}).pop(connection_id, None)
        for key in [k for k in self._logs if k[:2] == (email, connection_id)]:
            del self._logs[key]

    def client_cert_paths(self, email: str, connection_id: str) -> tuple[Any, Any]:
        raise StoreError("The memory store keeps no client certificates.")

    # --- the message log ------------------------------------------------------------

    def log_message(
        self, email: str, connection_id: str, conversation_id: str, ts: float, type: str, from_: str,
        message: str, *, highlight: bool = False, is_channel: bool = False,
    ) -> LogRef:
        ref = LogRef()
        try:
            line = format_line(ts, type, from_, message, highlight=highlight, is_channel=is_channel)
        except ValueError as err:
            ref.error = str(err)
            return ref
        if line is None:
            return ref
        lines = self._logs.setdefault((email, connection_id, conversation_id), _Lines())
        key = lines.append(line[:-1].encode("utf-8", "replace"))
        if key is not None:
            ref.id = key_id(key, conversation_tag(connection_id, conversation_id))
        return ref

    def after_logs(self, callback: Callable[[], None]) -> None:
        callback()  # every line is written when it is queued

    def log_notification(
        self, email: str, ts: float, connection_id: str, conversation_id: str, type: str, from_: str, message: str
    ) -> None:
        body = format_body(type, from_, message)
        if body is not None:
            self._notifications.setdefault(email, []).append(
                format_notification(ts, connection_id, conversation_id, body))

    async def flush_logs(self) -> None:
        pass

    async def delete_conversation_logs(self, email: str, connection_id: str, conversation_id: str) -> int:
        lines = self._logs.pop((email, connection_id, conversation_id), None)
        return len(lines.sizes) if lines else 0  # the month files it would be

    async def read_messages(
        self, email: str, connection_id: str, conversation_id: str, **query: Any
    ) -> logs.MessagePage:
        lines = self._logs.get((email, connection_id, conversation_id)) or _Lines()
        try:
            logs.parse_ids(query)
            return logs.plan_page(lines.read, conversation_tag(connection_id, conversation_id), **query)
        except logs.LogQueryError as err:
            raise QueryError(str(err), err.path) from None

    async def search_messages(
        self, email: str, targets: list[tuple[str, str]], *, limit: int, **query: Any
    ) -> tuple[list[tuple[str, str, LogMessage]], str | None, str | None]:
        try:
            logs.parse_ids(query)
            queries = logs.search_queries([conversation_tag(c, cid) for c, cid in targets], limit=limit, **query)
        except logs.LogQueryError as err:
            raise QueryError(str(err), err.path) from None
        found = []
        for (connection_id, cid), q in zip(targets, queries or [], strict=False):
            lines = self._logs.get((email, connection_id, cid)) or _Lines()
            col = Collector(q)
            for i in range(bisect.bisect_left(lines.keys, q.hi_key) - 1, -1, -1):
                if lines.keys[i] < q.lo_key:
                    break
                col.offer(lines.keys[i], lines.lines[i])
                if col.done(lines.keys[i]):
                    break
            found.append(logs.search_result(col))
        if queries is None:
            found = [logs.SearchResult() for _ in targets]
        by_time = query.get("before") is not None and query.get("before_id") is None
        return logs.merge_search(targets, found, limit, by_time=by_time)

    async def count_messages(self, email: str, connection_id: str, conversation_id: str, after: str) -> int:
        try:
            since = datetime.fromisoformat(after.rstrip("Z"))
        except ValueError:
            return 0
        lines = self._logs.get((email, connection_id, conversation_id))
        if lines is None:
            return 0
        return len(lines.keys) - bisect.bisect_left(lines.keys, epoch_key(lower_bound(since, False)))

    async def export_messages(
        self, email: str, connection_id: str, conversation_id: str, start: datetime, end: datetime
    ) -> AsyncIterator[bytes]:
        lines = self._logs.get((email, connection_id, conversation_id)) or _Lines()
        lo, hi = epoch_key(lower_bound(start, True)), epoch_key(upper_bound(end, False))
        out: list[str] = []
        size = 0
        for i in range(bisect.bisect_left(lines.keys, lo), bisect.bisect_left(lines.keys, hi)):
            text = logs.plain_line(lines.lines[i])
            if text is None:
                continue
            out.append(text)
            size += len(text)
            if size >= logs.EXPORT_BLOCK:
                yield "".join(out).encode()
                out, size = [], 0
        if out:
            yield "".join(out).encode()

    async def find_message_id(self, email: str, connection_id: str, conversation_id: str, ts: str,
                              body: str) -> str | None:
        lines = self._logs.get((email, connection_id, conversation_id))
        key = ts.upper().encode()
        if lines is None or len(key) != 19:
            return None
        for i in range(bisect.bisect_left(lines.keys, key), len(lines.keys)):
            if lines.keys[i][:19] != key:
                break
            parts = split_line(lines.lines[i].decode("utf-8", "replace"))
            if parts is not None and parts[2] == body:
                return key_id(lines.keys[i], conversation_tag(connection_id, conversation_id))
        return None

    async def read_notifications(self, email: str, limit: int) -> list[Notification]:
        found = []
        for line in self._notifications.get(email, [])[-limit:] if limit > 0 else []:
            n = parse_notification(line)
            if n is not None:
                n.id = await self.find_message_id(email, n.connection_id, n.conversation_id, n.ts, n.body)
                found.append(n)
        return found

    # --- a user's stylesheet and preferences --------------------------------------------

    async def load_custom_css(self, email: str, max_size: int) -> str:
        return self.custom_css.get(email, "").encode()[:max_size].decode("utf-8", "replace")

    async def save_custom_css(self, email: str, css: str) -> None:
        if css:
            self.custom_css[email] = css
        else:
            self.custom_css.pop(email, None)

    async def load_preferences(self, email: str) -> dict[str, Any]:
        return _copy(self.preferences.get(email, {}))  # type: ignore[no-any-return]

    async def save_preferences(self, email: str, data: dict[str, Any]) -> None:
        self.preferences[email] = _copy(data)

    # --- uploads ----------------------------------------------------------------------

    async def begin_upload(self, email: str) -> MemoryUploadSink:
        return MemoryUploadSink(email)

    async def commit_upload(self, email: str, sink: Any, meta: dict[str, Any]) -> UploadRecord:
        if not isinstance(sink, MemoryUploadSink) or sink.email != email:
            raise StoreError("Upload sink of another user.")
        fid = str(meta["id"])
        if not valid_fid(fid):
            raise StoreError(f"Invalid file id {fid!r}.")
        upload = _Upload(_copy({k: meta[k] for k in META_KEYS}), bytes(sink._data), self.clock())
        self._uploads.setdefault(email, {})[fid] = upload
        await sink.discard()
        return _record(email, fid, upload)

    async def load_upload(self, email: str, fid: str, uid: str = "") -> UploadRecord | None:
        upload = self._uploads.get(email, {}).get(fid)
        return _record(email, fid, upload) if upload else None

    async def list_uploads(self, email: str, uid: str = "") -> list[UploadRecord]:
        found = [_record(email, fid, u) for fid, u in self._uploads.get(email, {}).items()]
        found.sort(key=lambda r: (-int(r.mtime), r.id))
        return found

    async def delete_upload(self, email: str, fid: str) -> bool:
        return self._uploads.get(email, {}).pop(fid, None) is not None

    async def read_upload(self, record: UploadRecord, limit: int) -> bytes:
        upload = self._uploads.get(record.owner, {}).get(record.id)
        return upload.data[:limit] if upload else b""

    async def open_upload(self, record: UploadRecord) -> MemoryUploadStream | None:
        upload = self._uploads.get(record.owner, {}).get(record.id)
        return MemoryUploadStream(upload.data, upload.mtime) if upload else None

    # --- the bot's files ----------------------------------------------------------------

    async def bot_config_stamp(self, email: str) -> tuple[int, int] | None:
        found = self.bot_configs.get(email)
        return (found[1], len(found[0])) if found and found[0] else None

    async def load_bot_config(self, email: str, max_size: int) -> bytes:
        found = self.bot_configs.get(email)
        if found is None:
            raise StoreError("No such file.")
        if len(found[0]) > max_size:
            raise StoreError(f"Larger than {max_size} bytes.")
        return found[0]

    async def open_spool(self, email: str) -> str:
        self.spools.setdefault(email, {})
        return self.bot_file_location(email, "spool")

    async def list_spool(self, email: str, limit: int) -> list[str]:
        return sorted(n for n in self.spools.get(email, {}) if _spool_name_ok(n))[:limit]

    async def load_spool_file(self, email: str, name: str, max_size: int) -> bytes:
        data = self.spools.get(email, {}).get(name)
        if data is None:
            raise StoreError("No such file.")
        if len(data) > max_size:
            raise StoreError(f"Larger than {max_size} bytes.")
        return data

    async def delete_spool_file(self, email: str, name: str) -> None:
        self.spools.get(email, {}).pop(name, None)

    async def set_aside_spool_file(self, email: str, name: str) -> None:
        spool = self.spools.get(email, {})
        if name in spool:
            spool[f"{name}.failed"] = spool.pop(name)

    def bot_file_location(self, email: str, name: str = "") -> str:
        return f"memory:{email}/{name or 'convos-bot.yaml'}"

    # --- for tests: what an admin would put in place ---------------------------------------

    def put_bot_config(self, email: str, data: bytes) -> None:
        self.bot_configs[email] = (data, time.time_ns())

    def put_spool_file(self, email: str, name: str, data: bytes) -> None:
        self.spools.setdefault(email, {})[name] = data


def _record(email: str, fid: str, upload: _Upload) -> UploadRecord:
    meta = upload.meta
    return UploadRecord(
        id=fid, filename=str(meta.get("filename") or ""), ext=str(meta.get("ext") or "bin"),
        saved=str(meta.get("saved") or format_saved(upload.mtime)), uid=str(meta.get("uid") or ""),
        author=str(meta.get("author") or ""), write_only=meta.get("write_only") is True, size=len(upload.data),
        mtime=upload.mtime, owner=email,
    )


if TYPE_CHECKING:  # mypy: the memory store has every capability of the protocols

    def _is_a_store(store: MemoryStore) -> Store:
        return store
