"""What the core needs from storage: protocols and plain records, no paths."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


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
    # Opaque handle to the bytes, for streaming responses (a pathlib.Path in the file store).
    data_path: Any = None


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


class Store(BotFiles, Protocol):
    async def load_settings(self) -> dict[str, Any] | None: ...

    async def save_settings(self, data: dict[str, Any]) -> None: ...

    async def load_legacy_secrets(self) -> list[str]: ...

    async def load_key(self, name: str, make: Callable[[], bytes]) -> bytes:
        """The secret key `<home>/<name>.key`, made with `make()` (mode 0600) when missing."""
        ...

    async def load_users(self) -> list[UserRecord]: ...

    def is_broken_user(self, email: str) -> bool: ...

    async def save_user(self, email: str, data: dict[str, Any]) -> None: ...

    async def delete_user(self, email: str) -> None: ...

    async def disk_usage(self) -> DiskUsage | None: ...

    # Connections: connection.json records under the user's directory.
    async def load_connections(self, email: str) -> list[dict[str, Any]]: ...

    async def save_connection(self, email: str, connection_id: str, data: dict[str, Any]) -> None: ...

    async def save_connections(self, items: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Save several connections (email, connection_id, data) at once, for what changes by
        itself (unread counters, topics): in one go, only those that changed, and less durably
        than `save_connection` (a power failure may bring back the previous file, whole).
        Failures are logged, not raised."""
        ...

    async def delete_connection(self, email: str, connection_id: str) -> None: ...

    def client_cert_paths(self, email: str, connection_id: str) -> tuple[Any, Any]: ...

    # Chat history. Results are records with `to_dict()`; see store/logfile.py.
    async def read_messages(self, email: str, connection_id: str, conversation_id: str, **query: Any) -> Any: ...

    async def search_messages(
        self, email: str, targets: list[tuple[str, str]], *, limit: int, **query: Any
    ) -> tuple[list[Any], str | None, str | None]: ...

    async def count_messages(self, email: str, connection_id: str, conversation_id: str, after: str) -> int: ...

    async def read_notifications(self, email: str, limit: int) -> list[Any]: ...

    def log_message(
        self, email: str, connection_id: str, conversation_id: str, ts: float, type: str, from_: str,
        message: str, *, highlight: bool = False, is_channel: bool = False,
    ) -> LogRef: ...

    def after_logs(self, callback: Callable[[], None]) -> None:
        """Call `callback` on the loop once every line queued so far is written (at once if none
        is pending), in the order of these calls."""
        ...

    def log_notification(
        self, email: str, ts: float, connection_id: str, conversation_id: str, type: str, from_: str, message: str
    ) -> None: ...

    async def flush_logs(self) -> None: ...

    async def delete_conversation_logs(self, email: str, connection_id: str, conversation_id: str) -> int: ...

    async def close(self) -> None: ...

    # Connection profiles: settings/connections/<id>.json.
    async def load_profile(self, profile_id: str) -> dict[str, Any] | None: ...

    async def load_profiles(self) -> list[tuple[str, dict[str, Any]]]: ...

    async def save_profile(self, profile_id: str, data: dict[str, Any]) -> None: ...

    async def delete_profile(self, profile_id: str) -> None: ...

    # Uploads: <email>/upload/<fid>.data and <fid>.json (see store/uploads.py). `uid` is the
    # owner's, written into legacy pastes when they are migrated on first access.
    async def begin_upload(self, email: str) -> UploadSink: ...

    async def commit_upload(self, email: str, sink: UploadSink, meta: dict[str, Any]) -> UploadRecord: ...

    async def load_upload(self, email: str, fid: str, uid: str = "") -> UploadRecord | None: ...

    async def list_uploads(self, email: str, uid: str = "") -> list[UploadRecord]: ...

    async def delete_upload(self, email: str, fid: str) -> bool: ...

    async def read_upload(self, record: UploadRecord, limit: int) -> bytes: ...
