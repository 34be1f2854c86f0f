"""The file store: everything lives under CONVOS_HOME in the original Convos layout."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import shutil
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from . import botfiles, logs, uploads
from .base import DiskUsage, LogRef, QueryError, StoreError, UploadRecord, UserRecord
from .jsonfile import (
    JsonWriter,
    atomic_write,
    decode,
    is_user_dir,
    make_dirs,
    read_bytes,
    remove_temp_entries,
    remove_temp_files,
    remove_temp_files_in,
)
from .logs.format import LogMessage
from .logs.id import conversation_tag, message_id
from .pushfile import PushFileMethods

log = logging.getLogger(__name__)
T = TypeVar("T")

# A user directory is named by the lower-cased email; refuse anything that could
# step outside CONVOS_HOME or hide as a dot file.
_SAFE_SEGMENT = re.compile(r"^[^/\\\x00-\x1f]+$")
_WORD_START = re.compile(r"\w")


def safe_segment(name: str) -> str:
    if not name or name in (".", "..") or name.startswith(".") or not _SAFE_SEGMENT.match(name):
        raise StoreError(f"Invalid name {name!r}.")
    return name


def _is_safe_segment(name: str) -> bool:
    try:
        safe_segment(name)
    except StoreError:
        return False
    return True


# Threads for log scans (pages, search, notifications, counts): their own, so that however
# many scans run, JSON saves and password checks in the default pool never wait behind them.
SCAN_THREADS = 4


async def _cancellable(pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A log scan in the scan pool; if the caller is cancelled, the scan (and its grep) stops too."""
    cancel = threading.Event()
    try:
        return await _in_pool(pool, fn, *args, cancel=cancel, **kwargs)
    except asyncio.CancelledError:
        cancel.set()
        raise


async def _in_pool(pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args, **kwargs))


_NO_KWARGS: dict[str, Any] = {}


def _write_message(
    writer: logs.LogWriter, ref: LogRef, conn_dir: Path, conversation_id: str, ts: float, type: str, from_: str,
    message: str, highlight: bool, is_channel: bool,
) -> None:
    """In the log thread: write a line queued by `FileStore.log_message`, and give `ref` its id
    (or the reason it could not be written, without the path, for the user to see).
    `_run_batch` writes these lines per file instead (`_write_lines`), from the same arguments."""
    try:
        written = writer.write_message(conn_dir, conversation_id, ts, type, from_, message, highlight=highlight,
                                       is_channel=is_channel)
    except OSError as err:
        ref.error = err.strerror or err.__class__.__name__
        raise
    except ValueError as err:
        ref.error = str(err)
        raise
    if written is not None:
        ref.id = message_id(int(ts // 1), written[1], conversation_tag(conn_dir, conversation_id))


def _reason(err: Exception) -> str:
    return (err.strerror or err.__class__.__name__) if isinstance(err, OSError) else str(err)


def _write_lines(lines: dict[str, list[tuple[str, tuple[Any, ...]]]]) -> None:
    """In the log thread: the message lines of a batch (`_write_message`'s arguments), per file
    and in order, each file's in one write; every ref gets its line's id, or why not."""
    for path, items in lines.items():
        writer, _, conn_dir, conversation_id = items[0][1][:4]
        tag = conversation_tag(conn_dir, conversation_id)
        try:
            results: list[int | str] = writer.append_lines(path, [line for line, _ in items])
        except Exception as err:  # not the OS's (append_lines says those per line): a bug
            log.exception("Could not write %d log lines", len(items))
            results = [_reason(err)] * len(items)
        for (_, args), result in zip(items, results, strict=True):
            if isinstance(result, int):
                args[1].id = message_id(int(args[4] // 1), result, tag)
            else:
                args[1].error = result


class FileStore(PushFileMethods):
    def __init__(self, home: Path, *, scan_threads: int = SCAN_THREADS, spool_dir: Path | None = None,
                 clean_temp_files: bool = False) -> None:
        self.home = Path(home)
        # The bot's spool (CONVOS_BOT_SPOOL_DIR); None: `<home>/<bot email>/spool`.
        self.spool_dir = spool_dir
        # The daemon's store removes the temp files a killed daemon left (jsonfile.remove_temp_files)
        # while it reads the users, in the same walk; `recover`, which may run beside a daemon, never.
        self._sweep = clean_temp_files
        self._scans = ThreadPoolExecutor(max_workers=max(1, scan_threads), thread_name_prefix="convos-scan")
        self._writer = JsonWriter()
        self._broken: dict[str, str] = {}
        # Log appends go through one worker thread: FIFO keeps every line in arrival order
        # without a thread hop per line on the caller's side.
        self._logs = logs.LogWriter(max_open=128)
        self._log_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="convos-log")
        self._pending: set[Future[Any]] = set()
        self._batch: list[Any] = []
        self._inflight = 0  # batches handed to the log thread whose callbacks have not run
        self._done: deque[list[Any]] = deque()  # written batches whose callbacks wait their turn
        self._releasing = False  # a `_release` is scheduled
        self._conn_dirs: dict[tuple[str, str], Path] = {}

    # --- paths -------------------------------------------------------------

    def user_dir(self, email: str) -> Path:
        return self.home / safe_segment(email)

    @property
    def settings_path(self) -> Path:
        return self.home / "settings.json"

    # --- settings ----------------------------------------------------------

    async def load_settings(self) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._read_json, self.settings_path)

    async def save_settings(self, data: dict[str, Any]) -> None:
        await self._writer.save(self.settings_path, data)

    async def load_legacy_secrets(self) -> list[str]:
        """Pre-2020 homes kept secrets in `<home>/secrets`, split on U+201A; read once, then removed."""

        def read() -> list[str]:
            path = self.home / "secrets"
            try:
                text = path.read_text("utf-8")
            except FileNotFoundError:
                return []
            secrets = [s.strip() for s in text.split("\u201a") if s.strip()]
            return secrets

        return await asyncio.to_thread(read)

    async def remove_legacy_secrets(self) -> None:
        await asyncio.to_thread(lambda: (self.home / "secrets").unlink(missing_ok=True))

    # --- users -------------------------------------------------------------

    async def load_users(self) -> list[UserRecord]:
        """Every user, with their connections: one thread job for the whole home."""
        return await asyncio.to_thread(self._load_users)

    def _load_users(self) -> list[UserRecord]:
        # Strings, not Paths, and one pass: thousands of files (bench/bench_scale.py).
        make_dirs(self.home)
        removed: list[Path] = []
        sweep, self._sweep = self._sweep, False  # once, before anything is written
        if sweep:
            removed = remove_temp_files(self.home, users=False)
        records = []
        for entry in sorted(os.scandir(self.home), key=lambda e: e.name):
            if not is_user_dir(entry.name) or not entry.is_dir():
                continue
            path = os.path.join(entry.path, "user.json")
            try:
                raw = read_bytes(path)
                if raw is None:
                    if sweep:
                        remove_temp_files_in(entry.path, removed)
                    continue
                data = decode(raw)
                if not isinstance(data, dict) or not isinstance(data.get("email"), str):
                    raise StoreError("not a user object")
                record = UserRecord(data=data, ctime=os.stat(path).st_ctime)
            except (OSError, ValueError, StoreError) as err:
                # Keep serving everyone else; remember the name so nothing overwrites the file.
                self._broken[entry.name] = str(err)
                log.error("Skipping user %s: cannot read %s: %s", entry.name, path, err)
                if sweep:
                    remove_temp_files_in(entry.path, removed)
                continue
            self._writer.known(path, raw)
            if entry.name == str(data["email"]).strip().lower():
                record.connections = self._read_connections(entry.name, entry.path, removed if sweep else None)
            elif sweep:  # the core asks for the connections under the email's own name
                remove_temp_files_in(entry.path, removed)
            records.append(record)
        if removed:
            log.info("Removed %d temp files left by an earlier crash.", len(removed))
        return records

    def is_broken_user(self, email: str) -> bool:
        return email in self._broken

    async def save_user(self, email: str, data: dict[str, Any]) -> None:
        if email in self._broken:
            raise StoreError(f"Refusing to overwrite unreadable user.json for {email}.")
        await self._writer.save(self.user_dir(email) / "user.json", data)

    async def delete_user(self, email: str) -> None:
        path = self.user_dir(email)
        self._writer.forget(path / "user.json")
        await asyncio.to_thread(shutil.rmtree, path, True)

    # --- connections -------------------------------------------------------

    def connection_dir(self, email: str, connection_id: str) -> Path:
        return self.user_dir(email) / safe_segment(connection_id)

    def client_cert_paths(self, email: str, connection_id: str) -> tuple[Path, Path]:
        d = self.connection_dir(email, connection_id)
        return d / f"{connection_id}.cert", d / f"{connection_id}.key"

    async def load_connections(self, email: str) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._load_connections, email)

    def _load_connections(self, email: str) -> list[dict[str, Any]]:
        return self._read_connections(email, str(self.user_dir(email)), None)

    def _read_connections(self, email: str, user_dir: str, removed: list[Path] | None) -> list[dict[str, Any]]:
        """The user's connection.json records; with `removed`, temp files in the user's directory
        and the directories in it are removed too (and listed there)."""
        found = []
        try:
            entries = sorted(os.scandir(user_dir), key=lambda e: e.name)
        except FileNotFoundError:
            return []
        if removed is not None:
            remove_temp_entries(entries, removed)
        for entry in entries:
            if removed is not None and entry.name[:1] != "." and entry.is_dir(follow_symlinks=False):
                remove_temp_files_in(entry.path, removed, subdirs=False)  # upload/ among them
            # Connection directories start with a word character (skips upload/, dot files...).
            if not _WORD_START.match(entry.name) or not entry.is_dir():
                continue
            path = os.path.join(entry.path, "connection.json")
            try:
                raw = read_bytes(path)
                data = None if raw is None else decode(raw)
            except (OSError, ValueError) as err:
                log.error("Skipping connection %s of %s: cannot read %s: %s", entry.name, email, path, err)
                self._broken[f"{email}/{entry.name}"] = str(err)
                continue
            if not isinstance(data, dict):
                continue
            assert raw is not None
            self._writer.known(path, raw)
            data.setdefault("connection_id", entry.name)
            found.append(data)
        return found

    async def save_connection(self, email: str, connection_id: str, data: dict[str, Any]) -> None:
        if f"{email}/{connection_id}" in self._broken:
            raise StoreError(f"Refusing to overwrite unreadable connection.json of {email}/{connection_id}.")
        await self._writer.save(self.connection_dir(email, connection_id) / "connection.json", data)

    async def save_connections(self, items: list[tuple[str, str, dict[str, Any]]]) -> None:
        files = []
        for email, connection_id, data in items:
            if f"{email}/{connection_id}" in self._broken or email in self._broken:
                continue  # never overwritten (save_connection says so to whoever asked)
            files.append((self.connection_dir(email, connection_id) / "connection.json", data))
        for path, err in await self._writer.save_many(files):
            log.error("Could not save %s: %s", path, err)

    async def delete_connection(self, email: str, connection_id: str) -> None:
        path = self.connection_dir(email, connection_id)
        self._writer.forget(path / "connection.json")
        await asyncio.to_thread(shutil.rmtree, path, True)

    # --- a user's own stylesheet ------------------------------------------------

    async def load_custom_css(self, email: str, max_size: int) -> str:
        """`<user>/custom.css` (at most `max_size` bytes of it), or "" when there is none."""
        path = self.user_dir(email) / "custom.css"

        def read() -> str:
            try:
                with open(path, "rb") as fh:
                    return fh.read(max_size).decode("utf-8", "replace")
            except (FileNotFoundError, NotADirectoryError):
                return ""

        return await asyncio.to_thread(read)

    async def save_custom_css(self, email: str, css: str) -> None:
        """Write it atomically; an empty text removes the file."""
        path = self.user_dir(email) / "custom.css"
        if css:
            await asyncio.to_thread(atomic_write, path, css.encode())
        else:
            await asyncio.to_thread(path.unlink, True)

    async def load_preferences(self, email: str) -> dict[str, Any]:
        """`<user>/preferences.json` (the app's settings kept with the account), or {}."""
        data = await asyncio.to_thread(self._read_json, self.user_dir(email) / "preferences.json")
        return data if isinstance(data, dict) else {}

    async def save_preferences(self, email: str, data: dict[str, Any]) -> None:
        await self._writer.save(self.user_dir(email) / "preferences.json", data)

    # --- chat history --------------------------------------------------------

    async def read_messages(
        self, email: str, connection_id: str, conversation_id: str, **query: Any
    ) -> logs.MessagePage:
        conn_dir = self.connection_dir(email, connection_id)
        try:
            logs.parse_ids(query)
            return await _cancellable(self._scans, logs.read_messages, conn_dir, conversation_id, **query)
        except logs.LogQueryError as err:
            raise QueryError(str(err), err.path) from None

    async def search_messages(
        self, email: str, targets: list[tuple[str, str]], *, limit: int, **query: Any
    ) -> tuple[list[tuple[str, str, LogMessage]], str | None, str | None]:
        """Newest-first matches across conversations, and the `before` and `before_id` cursors
        of the next page (None when nothing older exists)."""
        dirs = [(self.connection_dir(email, connection_id), cid) for connection_id, cid in targets]
        try:
            logs.parse_ids(query)
            found = await _cancellable(self._scans, logs.search_conversations, dirs, limit=limit, **query)
        except logs.LogQueryError as err:
            raise QueryError(str(err), err.path) from None
        by_time = query.get("before") is not None and query.get("before_id") is None
        return logs.merge_search(targets, found, limit, by_time=by_time)

    async def export_messages(
        self, email: str, connection_id: str, conversation_id: str, start: datetime, end: datetime
    ) -> AsyncIterator[bytes]:
        """The log between `start` (inclusive) and `end` as plain text, a block at a time: each
        block is read in a scan thread, so a download never holds a log in memory nor reads
        on the loop. Closing the iterator (a client that went away) closes the file."""
        lines = logs.export_lines(self.connection_dir(email, connection_id), conversation_id, start, end)
        step: Future[bytes | None] | None = None
        try:
            while True:
                step = self._scans.submit(next, lines, None)
                block = await asyncio.wrap_future(step)
                if block is None:
                    return
                yield block
        finally:
            # Close the file in the pool once the step in progress (if any) is over: a generator
            # cannot be closed while a thread runs it.
            if step is None or step.done():
                self._close_in_pool(lines)
            else:
                step.add_done_callback(lambda _: self._close_in_pool(lines))

    def _close_in_pool(self, lines: Any) -> None:
        try:
            self._scans.submit(lines.close)
        except RuntimeError:  # the pool is shut down (the daemon stops): close it here
            lines.close()

    def log_message(
        self, email: str, connection_id: str, conversation_id: str, ts: float, type: str, from_: str,
        message: str, *, highlight: bool = False, is_channel: bool = False,
    ) -> LogRef:
        """Queue a line for the log; lines are written in the order they are queued. The ref
        gets the line's message id when it is written (see `after_logs`)."""
        key = (email, connection_id)
        conn_dir = self._conn_dirs.get(key)
        if conn_dir is None:
            conn_dir = self._conn_dirs[key] = self.connection_dir(email, connection_id)
        ref = LogRef()
        # A plain function and a tuple, not a closure: a closure's cells are a dozen more objects
        # per line for the garbage collector, which made a flood cost about a third more CPU.
        self._batch.append((_write_message, (self._logs, ref, conn_dir, conversation_id, ts, type, from_, message,
                                             highlight, is_channel), _NO_KWARGS))
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_soon(self._submit_batch)
        return ref

    def after_logs(self, callback: Callable[[], None]) -> None:
        if not self._batch and not self._inflight:
            callback()
            return
        self._batch.append((None, callback, None))
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_soon(self._submit_batch)

    def log_notification(
        self, email: str, ts: float, connection_id: str, conversation_id: str, type: str, from_: str, message: str
    ) -> None:
        self._queue(self._logs.log_notification, self.user_dir(email), ts, connection_id, conversation_id,
                    type, from_, message)

    def _queue(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        # One hand-off to the log thread per loop iteration, not per line: the lines of a
        # burst go over together, still in order.
        self._batch.append((fn, args, kwargs))
        if len(self._batch) == 1:
            asyncio.get_running_loop().call_soon(self._submit_batch)

    def _submit_batch(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        loop = asyncio.get_running_loop()
        fut = self._log_thread.submit(self._run_batch, batch)
        self._pending.add(fut)
        self._inflight += 1
        fut.add_done_callback(lambda f: self._written(f, loop, batch))

    @staticmethod
    def _run_batch(batch: list[Any]) -> None:
        # Message lines are written per file, each file's lines in one os.write. A syscall per
        # line let the loop thread, which holds the GIL, slow this thread down so much that a
        # flood piled up in memory waiting to be written.
        lines: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}
        for fn, args, kwargs in batch:
            if fn is None:  # a callback for the loop, after the lines before it
                continue
            if fn is _write_message:
                try:
                    found = args[0].message_line(*args[2:8], highlight=args[8], is_channel=args[9])
                except (OSError, ValueError) as err:
                    args[1].error = _reason(err)
                    log.error("Could not write a log line: %s", err)
                    continue
                if found is not None:
                    lines.setdefault(found[0], []).append((found[1], args))
                continue
            if lines:  # anything else comes after the lines queued before it
                _write_lines(lines)
                lines = {}
            try:
                fn(*args, **kwargs)
            except Exception as err:
                log.error("Could not write a log line: %s", err)
        if lines:
            _write_lines(lines)

    def _written(self, fut: Future[Any], loop: asyncio.AbstractEventLoop, batch: list[Any]) -> None:
        """In the log thread: the batch is written; its callbacks run on the loop, in order."""
        self._pending.discard(fut)
        err = fut.exception()
        if err is not None:
            log.error("Could not write a log line: %s", err)
        try:
            loop.call_soon_threadsafe(self._batch_done, batch)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _batch_done(self, batch: list[Any]) -> None:
        # The callbacks of one batch per loop iteration, so that the websockets send between
        # the bursts of events they publish. When the log thread finished several batches while
        # the loop was busy, running them all at once queued thousands of events before any was
        # sent, and a flood closed the browser's socket (more than 1000 waiting, 1013).
        self._done.append(batch)
        if not self._releasing:
            self._releasing = True
            asyncio.get_running_loop().call_soon(self._release)

    def _release(self) -> None:
        batch = self._done.popleft()
        self._inflight -= 1
        try:
            for fn, callback, _ in batch:
                if fn is None:
                    try:
                        callback()
                    except Exception:
                        log.exception("A callback after the log failed")
        finally:
            if self._done:
                asyncio.get_running_loop().call_soon(self._release)
            else:
                self._releasing = False

    async def flush_logs(self) -> None:
        """Wait until every queued line is on disk (in the OS)."""
        self._submit_batch()
        await asyncio.wrap_future(self._log_thread.submit(lambda: None))

    async def delete_conversation_logs(self, email: str, connection_id: str, conversation_id: str) -> int:
        conn_dir = self.connection_dir(email, connection_id)
        self._submit_batch()  # lines queued before the delete are written (and deleted) first
        fut = self._log_thread.submit(self._logs.delete_conversation_logs, conn_dir, conversation_id)
        deleted: int = await asyncio.wrap_future(fut)
        return deleted

    async def close(self) -> None:
        await self.flush_logs()
        await asyncio.to_thread(self._logs.close)
        self._log_thread.shutdown(wait=True)
        self._scans.shutdown(wait=False, cancel_futures=True)

    # --- connection profiles ---------------------------------------------------

    @property
    def profiles_dir(self) -> Path:
        return self.home / "settings" / "connections"

    async def load_profile(self, profile_id: str) -> dict[str, Any] | None:
        path = self.profiles_dir / f"{safe_segment(profile_id)}.json"
        try:
            data = await asyncio.to_thread(self._read_json, path)
        except (OSError, ValueError) as err:
            log.error("Cannot read connection profile %s: %s", path, err)
            return None
        return data if isinstance(data, dict) else None

    async def load_profiles(self) -> list[tuple[str, dict[str, Any]]]:
        """Every readable profile file as (id, data); the id is the file's name."""

        def read() -> list[tuple[str, dict[str, Any]]]:
            try:
                names = sorted(os.listdir(self.profiles_dir))
            except (FileNotFoundError, NotADirectoryError):
                return []
            found = []
            for name in names:
                if not name.endswith(".json") or name.startswith("."):
                    continue
                try:
                    data = self._read_json(self.profiles_dir / name)
                except (OSError, ValueError) as err:
                    log.error("Cannot read connection profile %s: %s", name, err)
                    continue
                if isinstance(data, dict):
                    found.append((name[:-5], data))
            return found

        return await asyncio.to_thread(read)

    async def save_profile(self, profile_id: str, data: dict[str, Any]) -> None:
        await self._writer.save(self.profiles_dir / f"{safe_segment(profile_id)}.json", data)

    async def delete_profile(self, profile_id: str) -> None:
        path = self.profiles_dir / f"{safe_segment(profile_id)}.json"
        self._writer.forget(path)
        await asyncio.to_thread(path.unlink, True)

    async def count_messages(self, email: str, connection_id: str, conversation_id: str, after: str) -> int:
        """Messages after `after` (for legacy `last_read`), without a cap."""
        conn_dir = self.connection_dir(email, connection_id)
        try:
            since = datetime.fromisoformat(after.rstrip("Z"))
        except ValueError:
            return 0

        return await _in_pool(self._scans, logs.count_messages, conn_dir, conversation_id, after=since)

    async def find_message_id(self, email: str, connection_id: str, conversation_id: str, ts: str,
                              body: str) -> str | None:
        """The id of the first line of a conversation with this timestamp and body, or None."""
        conn_dir = self.connection_dir(email, connection_id)
        return await _in_pool(self._scans, logs.find_message_id, conn_dir, conversation_id, ts, body)

    async def read_notifications(self, email: str, limit: int) -> list[Any]:
        user_dir = self.user_dir(email)
        return await _in_pool(self._scans, logs.read_notifications, user_dir / "notifications.log", limit,
                              user_dir)

    # --- uploads (formats and rules in uploads.py) ---------------------------

    def upload_dir(self, email: str) -> Path:
        return self.user_dir(email) / "upload"

    async def begin_upload(self, email: str) -> uploads.UploadSink:
        return await uploads.UploadSink(self.upload_dir(email)).open()

    async def commit_upload(self, email: str, sink: Any, meta: dict[str, Any]) -> UploadRecord:
        if not isinstance(sink, uploads.UploadSink) or sink.directory != self.upload_dir(email):
            raise StoreError("Upload sink of another user.")
        record = await asyncio.to_thread(uploads.commit, self.upload_dir(email), sink, meta)
        record.owner = email
        return record

    async def load_upload(self, email: str, fid: str, uid: str = "") -> UploadRecord | None:
        record = await asyncio.to_thread(uploads.load, self.upload_dir(email), fid, uid)
        if record is not None:
            record.owner = email
        return record

    async def list_uploads(self, email: str, uid: str = "") -> list[UploadRecord]:
        records = await asyncio.to_thread(uploads.list_uploads, self.upload_dir(email), uid)
        for record in records:
            record.owner = email
        return records

    async def delete_upload(self, email: str, fid: str) -> bool:
        return await asyncio.to_thread(uploads.delete, self.upload_dir(email), fid)

    async def read_upload(self, record: UploadRecord, limit: int) -> bytes:
        stream = await self.open_upload(record)
        if stream is None:
            return b""
        async with stream:
            return b"".join([chunk async for chunk in stream.chunks(0, limit, limit or 1)])

    async def open_upload(self, record: UploadRecord) -> uploads.FileUploadStream | None:
        if not uploads.valid_fid(record.id):
            return None
        path = self.upload_dir(record.owner) / f"{record.id}.data"
        return await asyncio.to_thread(uploads.FileUploadStream.open, path)

    # --- the bot's files (formats and rules in botfiles.py) -------------------

    def _spool(self, email: str) -> Path:
        return self.spool_dir or self.user_dir(email) / botfiles.SPOOL_NAME

    async def bot_config_stamp(self, email: str) -> tuple[int, int] | None:
        return await asyncio.to_thread(botfiles.stamp, self.user_dir(email) / botfiles.CONFIG_NAME)

    async def load_bot_config(self, email: str, max_size: int) -> bytes:
        return await asyncio.to_thread(botfiles.read, self.user_dir(email) / botfiles.CONFIG_NAME, max_size)

    async def open_spool(self, email: str) -> str:
        directory = self._spool(email)
        await asyncio.to_thread(botfiles.make_spool, directory)
        return str(directory)

    async def list_spool(self, email: str, limit: int) -> list[str]:
        return await asyncio.to_thread(botfiles.spool_names, self._spool(email), limit, _is_safe_segment)

    async def load_spool_file(self, email: str, name: str, max_size: int) -> bytes:
        return await asyncio.to_thread(botfiles.read, self._spool(email) / safe_segment(name), max_size)

    async def delete_spool_file(self, email: str, name: str) -> None:
        await asyncio.to_thread(botfiles.remove, self._spool(email) / safe_segment(name))

    async def set_aside_spool_file(self, email: str, name: str) -> None:
        await asyncio.to_thread(botfiles.set_aside, self._spool(email) / safe_segment(name))

    def bot_file_location(self, email: str, name: str = "") -> str:
        if name:
            return str(self._spool(email) / name)
        return str(self.user_dir(email) / botfiles.CONFIG_NAME)

    # --- disk usage --------------------------------------------------------

    async def disk_usage(self) -> DiskUsage | None:
        return await asyncio.to_thread(self._disk_usage)

    def _disk_usage(self) -> DiskUsage | None:
        try:
            st = os.statvfs(self.home)
        except OSError:
            return None
        return DiskUsage(
            dev=_device_of(self.home),
            block_size=st.f_frsize,
            blocks_total=st.f_blocks,
            blocks_used=st.f_blocks - st.f_bfree,
            blocks_free=st.f_bavail,
            inodes_total=st.f_files,
            inodes_used=st.f_files - st.f_ffree,
            inodes_free=st.f_favail,
        )

    # --- helpers -----------------------------------------------------------

    @staticmethod
    def _read_json(path: Path) -> Any:
        raw = FileStore._read_raw(path)
        return None if raw is None else decode(raw)

    @staticmethod
    def _read_raw(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None


def _device_of(path: Path) -> str:
    """The mounted device holding `path`, as `df` would name it."""
    best, dev = "", ""
    try:
        target = str(path.resolve())
        with open("/proc/mounts", encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 2:
                    continue
                mount = parts[1].replace("\\040", " ")
                inside = target == mount or target.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) >= len(best):
                    best, dev = mount, parts[0]
    except OSError:
        pass
    return dev
