"""What the core needs from storage: protocols and plain records, no paths."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, Self


class StoreError(Exception):
    """A record could not be read or written."""


class QueryError(ValueError):
    """A history query the store cannot run; `path` names the offending parameter."""

    def __init__(self, message: str, path: str = "/") -> None:
        super().__init__(message)
        self.path = path


@dataclass(slots=True)
class LogRef:
    """A chat line queued for the log: `id` is its message id once it is written (None if it
    is not logged, or could not be written: then `error` says why)."""

    id: str | None = None
    error: str = ""


@dataclass(slots=True)
class UserRecord:
    """A user.json as stored, plus the file's ctime for ordering legacy users; `connections`:
    the user's connection.json records, when the store read them with the user (else None)."""

    data: dict[str, Any]
    ctime: float = 0.0
    connections: list[dict[str, Any]] | None = None


@dataclass(slots=True)
class DiskUsage:
    dev: str
    block_size: int
    blocks_total: int
    blocks_used: int
    blocks_free: int
    inodes_total: int
    inodes_used: int
    inodes_free: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "block_size": self.block_size,
            "blocks_free": self.blocks_free,
            "blocks_total": self.blocks_total,
            "blocks_used": self.blocks_used,
            "dev": self.dev,
            "inodes_free": self.inodes_free,
            "inodes_total": self.inodes_total,
            "inodes_used": self.inodes_used,
        }


@dataclass(slots=True)
class UploadRecord:
    """An uploaded file's metadata as stored, plus what the filesystem says about its bytes."""

    id: str
    filename: str
    ext: str
    saved: str
    uid: str
    author: str
    write_only: bool = False
    size: int = 0
    mtime: float = 0.0
    owner: str = ""  # the email of the user whose files hold it (set by the store)


class UploadStream(Protocol):
    """An open upload: its bytes are read in chunks as they are iterated, never all at once.
    Open, it keeps the bytes it had when opened (a delete does not cut a download short);
    close it (or use it as an async context manager) when done."""

    size: int  # bytes of the whole upload
    mtime: float

    def chunks(self, start: int = 0, stop: int | None = None, chunk_size: int = ...) -> AsyncIterator[bytes]:
        """The bytes from `start` to `stop` (None: the end), in chunks of at most `chunk_size`."""
        ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...


class UploadSink(Protocol):
    """Where an upload's bytes stream to before it is committed under its id."""

    size: int

    async def write(self, chunk: bytes) -> None: ...

    async def finish(self) -> str:
        """Close the sink; returns the hex MD5 of everything written."""
        ...

    async def discard(self) -> None: ...


@dataclass(slots=True)
class LoadReport:
    """Users that could not be loaded; they are skipped and never overwritten."""

    broken: dict[str, str] = field(default_factory=dict)


class BotFiles(Protocol):
    """The bot's own files (docs/bot.md): its config and a spool of messages to send, by the bot's
    email and a file name, never a path. Contents are bytes; the bot parses them."""

    async def bot_config_stamp(self, email: str) -> tuple[int, int] | None:
        """(modification time in ns, size) of the bot's non-empty config, or None without one."""
        ...

    async def load_bot_config(self, email: str, max_size: int) -> bytes:
        """The config's bytes; StoreError when it cannot be read or is larger than `max_size`."""
        ...

    async def open_spool(self, email: str) -> str:
        """Make the spool if missing; returns where it is, for the log."""
        ...

    async def list_spool(self, email: str, limit: int) -> list[str]:
        """Names of the waiting spool files in name order: not dot files, `*.tmp` or `*.failed`."""
        ...

    async def load_spool_file(self, email: str, name: str, max_size: int) -> bytes:
        """A spool file's bytes; StoreError when it cannot be read or is larger than `max_size`."""
        ...

    async def delete_spool_file(self, email: str, name: str) -> None: ...

    async def set_aside_spool_file(self, email: str, name: str) -> None:
        """Keep a bad file for the admin (as `<name>.failed`), out of the way of the next run."""
        ...

    def bot_file_location(self, email: str, name: str = "") -> str:
        """Where the config (no name) or a spool file is, for log lines only."""
        ...


class LogRecord(Protocol):
    """A logged message (of a page or a search) or a notification: the API shows `to_dict()`."""

    @property
    def id(self) -> str | None: ...

    @property
    def ts(self) -> str: ...

    def to_dict(self) -> dict[str, object]: ...


class LogPage(Protocol):
    """A page of a conversation, oldest first, and the cursors of the pages beside it."""

    @property
    def messages(self) -> Sequence[LogRecord]: ...

    @property
    def before_id(self) -> str | None: ...

    @property
    def after_id(self) -> str | None: ...

    def to_dict(self) -> dict[str, object]: ...


# --- the capabilities -------------------------------------------------------------------------
# Each consumer asks for the few it uses; `Store` is all of them, for the composition root.


class SettingsStore(Protocol):
    """settings.json, the secrets of pre-2020 homes, and the connection profiles."""

    async def load_settings(self) -> dict[str, Any] | None: ...

    async def save_settings(self, data: dict[str, Any]) -> None: ...

    async def load_legacy_secrets(self) -> list[str]: ...

    async def remove_legacy_secrets(self) -> None: ...

    # Connection profiles: settings/connections/<id>.json in the file store.
    async def load_profile(self, profile_id: str) -> dict[str, Any] | None: ...

    async def load_profiles(self) -> list[tuple[str, dict[str, Any]]]: ...

    async def save_profile(self, profile_id: str, data: dict[str, Any]) -> None: ...

    async def delete_profile(self, profile_id: str) -> None: ...


class UserStore(Protocol):
    """The users' records (user.json); deleting a user deletes everything they own."""

    async def load_users(self) -> list[UserRecord]: ...

    def is_broken_user(self, email: str) -> bool:
        """A record that could not be read: it is never overwritten."""
        ...

    async def save_user(self, email: str, data: dict[str, Any]) -> None: ...

    async def delete_user(self, email: str) -> None: ...


class ConnectionStore(Protocol):
    """A user's connections (connection.json); deleting one deletes its logs too."""

    async def load_connections(self, email: str) -> list[dict[str, Any]]: ...

    async def save_connection(self, email: str, connection_id: str, data: dict[str, Any]) -> None: ...

    async def save_connections(self, items: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Save several connections (email, connection_id, data) at once, for what changes by
        itself (unread counters, topics): in one go, only those that changed, and less durably
        than `save_connection` (a power failure may bring back the previous file, whole).
        Failures are logged, not raised."""
        ...

    async def delete_connection(self, email: str, connection_id: str) -> None: ...

    def client_cert_paths(self, email: str, connection_id: str) -> tuple[Any, Any]:
        """Where the TLS library finds the connection's client certificate and key."""
        ...


class MessageLog(Protocol):
    """Chat history: lines are queued in order and written in that order; pages, search,
    counts and notifications read them back (docs/logs.md).

    Query keywords of `read_messages`: `after`, `before`, `around` (datetimes: whole seconds, a
    page widened to its boundary second), `after_id`, `before_id`, `around_id` (message ids:
    exact), `limit`, `match`, `from_`; `search_messages`: `after`, `before`, `before_id`,
    `match`, `from_`. A query the store cannot run raises QueryError naming the parameter."""

    def log_message(
        self, email: str, connection_id: str, conversation_id: str, ts: float, type: str, from_: str,
        message: str, *, highlight: bool = False, is_channel: bool = False,
    ) -> LogRef:
        """Queue a line; the ref gets its message id once it is written (see `after_logs`)."""
        ...

    def after_logs(self, callback: Callable[[], None]) -> None:
        """Call `callback` on the loop once every line queued so far is written (at once if none
        is pending), in the order of these calls."""
        ...

    def log_notification(
        self, email: str, ts: float, connection_id: str, conversation_id: str, type: str, from_: str, message: str
    ) -> None: ...

    async def flush_logs(self) -> None: ...

    async def read_messages(self, email: str, connection_id: str, conversation_id: str, **query: Any) -> LogPage: ...

    async def search_messages(
        self, email: str, targets: list[tuple[str, str]], *, limit: int, **query: Any
    ) -> tuple[Sequence[tuple[str, str, LogRecord]], str | None, str | None]:
        """Newest-first (connection_id, conversation_id, message) across `targets`, and the
        `before` and `before_id` cursors of the next page (None when nothing older exists)."""
        ...

    async def find_message_id(self, email: str, connection_id: str, conversation_id: str, ts: str,
                              body: str) -> str | None:
        """The id of the first line with this timestamp and logged body, or None."""
        ...

    async def count_messages(self, email: str, connection_id: str, conversation_id: str, after: str) -> int: ...

    def export_messages(
        self, email: str, connection_id: str, conversation_id: str, start: datetime, end: datetime
    ) -> AsyncIterator[bytes]:
        """Plain text of the log lines with start <= ts < end, oldest first, in blocks of about
        64 KiB, each read in a scan thread (docs/logs.md)."""
        ...

    async def read_notifications(self, email: str, limit: int) -> Sequence[LogRecord]:
        """The newest `limit` notifications, oldest first, each with its message's id."""
        ...

    async def delete_conversation_logs(self, email: str, connection_id: str, conversation_id: str) -> int: ...


class UploadStore(Protocol):
    """Uploaded files and pastes, by the owner's email and the file id; never a path. `uid` is
    the owner's, written into legacy pastes when they are migrated on first access."""

    async def begin_upload(self, email: str) -> UploadSink: ...

    async def commit_upload(self, email: str, sink: UploadSink, meta: dict[str, Any]) -> UploadRecord: ...

    async def load_upload(self, email: str, fid: str, uid: str = "") -> UploadRecord | None: ...

    async def list_uploads(self, email: str, uid: str = "") -> list[UploadRecord]: ...

    async def delete_upload(self, email: str, fid: str) -> bool: ...

    async def read_upload(self, record: UploadRecord, limit: int) -> bytes:
        """The first `limit` bytes (for sniffing and the viewer page)."""
        ...

    async def open_upload(self, record: UploadRecord) -> UploadStream | None:
        """The upload's bytes to stream; None when they are gone."""
        ...


class AppearanceStore(Protocol):
    """A user's own stylesheet and the browser app's preferences, kept in the user's directory."""

    async def load_custom_css(self, email: str, max_size: int) -> str:
        """At most `max_size` bytes of it; "" when there is none."""
        ...

    async def save_custom_css(self, email: str, css: str) -> None:
        """Written atomically; an empty text removes it."""
        ...

    async def load_preferences(self, email: str) -> dict[str, Any]: ...

    async def save_preferences(self, email: str, data: dict[str, Any]) -> None: ...


class Store(SettingsStore, UserStore, ConnectionStore, MessageLog, UploadStore, AppearanceStore, BotFiles, Protocol):
    """Every capability, and the store's own life: what the composition root hands the core."""

    async def disk_usage(self) -> DiskUsage | None: ...

    async def close(self) -> None:
        """Write what is queued and stop the store's threads."""
        ...
