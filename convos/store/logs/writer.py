"""Appending chat log lines: crash-safe, whole lines per `os.write`, a capped cache of open files.

Synchronous and thread-safe; see docs/logs.md ("Writing", "A torn last line").
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections import OrderedDict
from datetime import datetime
from pathlib import Path

from .format import escape_conversation_id, format_body, format_line, format_notification
from .seek import complete_end, conversation_log_path, list_log_months

log = logging.getLogger(__name__)


class LogWriter:
    """Appends log lines, keeping up to `max_open` files open (least recently used is closed).

    Every line goes out in a single `os.write` on an O_APPEND descriptor. Before the first
    append to a file, a torn last line left by a crash (bytes after the last `\\n`) is cut off,
    so the next line starts on a fresh line and the fragment never shows up as a message.
    Directories are created 0700 and files 0600. One writer per process is enough; it is
    thread-safe, and callers keep their own lines in order.
    """

    def __init__(self, max_open: int = 64) -> None:
        self.max_open = max(1, max_open)
        self._fds: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def open_files(self) -> list[str]:
        with self._lock:
            return list(self._fds)

    def append(self, path: Path | str, line: str) -> int:
        """Append one complete line (must end with its only `\\n`); returns the offset where
        it starts in the file (its message id is made from it)."""
        if not line.endswith("\n") or line.count("\n") != 1:
            raise ValueError("A log line must end with its only newline.")
        data = line.encode("utf-8", "replace")
        key = os.fspath(path)
        with self._lock:
            fd = self._fd(key)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)  # excludes a concurrent torn-tail repair only
                try:
                    written = os.write(fd, data)
                    # O_APPEND moved this descriptor's offset to the end of what it just wrote
                    end = os.lseek(fd, 0, os.SEEK_CUR)
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            except OSError:
                self._drop(key)
                raise
            if written != len(data):
                # The torn tail is invisible to readers and cut off when the file is reopened.
                self._drop(key)
                raise OSError(f"Short write to {key}: {written} of {len(data)} bytes.")
        return end - written

    def append_lines(self, path: Path | str, lines: list[str]) -> list[int | str]:
        """Append complete lines (as `append`) with one `os.write`: for each line, the offset
        where it starts, or why it was not written (the OS's reason, without the path).

        After a short write the file is reopened, which cuts the torn line, and the lines from
        that one on are written again."""
        out: list[int | str] = []
        datas: list[bytes] = []
        todo: list[int] = []  # indexes in `out` of the lines in `datas`
        for line in lines:
            if not line.endswith("\n") or line.count("\n") != 1:
                out.append("A log line must end with its only newline.")
                continue
            todo.append(len(out))
            out.append("")
            datas.append(line.encode("utf-8", "replace"))
        key = os.fspath(path)
        i = 0
        with self._lock:
            while i < len(datas):
                data = b"".join(datas[i:])
                try:
                    fd = self._fd(key)
                    fcntl.flock(fd, fcntl.LOCK_SH)  # excludes a concurrent torn-tail repair only
                    try:
                        written = os.write(fd, data)
                        end = os.lseek(fd, 0, os.SEEK_CUR)  # O_APPEND: the end of what was written
                    finally:
                        fcntl.flock(fd, fcntl.LOCK_UN)
                except OSError as err:
                    self._drop(key)
                    log.error("Could not write %d log lines to %s: %s", len(datas) - i, key, err)
                    for j in todo[i:]:
                        out[j] = err.strerror or err.__class__.__name__
                    break
                pos, first = end - written, i
                while i < len(datas) and pos + len(datas[i]) <= end:
                    out[todo[i]] = pos
                    pos += len(datas[i])
                    i += 1
                if written != len(data):
                    self._drop(key)  # reopening cuts the torn line
                    log.error("Short write to %s: %d of %d bytes.", key, written, len(data))
                    if i == first:  # not even one line: give up on the rest
                        for j in todo[i:]:
                            out[j] = "Short write"
                        break
        return out

    def message_line(
        self,
        conn_dir: Path,
        conversation_id: str,
        ts: float | datetime,
        type: str,
        from_: str,
        message: str,
        *,
        highlight: bool = False,
        is_channel: bool = False,
    ) -> tuple[str, str] | None:
        """The file and the line for a message, or None when the type is not logged."""
        line = format_line(ts, type, from_, message, highlight=highlight, is_channel=is_channel)
        if line is None:
            return None
        # the line starts with its UTC timestamp, whose year and month name the file
        # (plain strings: pathlib costs more than the write itself)
        leaf = ".log" if conversation_id == "" else f"/{escape_conversation_id(conversation_id)}.log"
        return f"{os.fspath(conn_dir)}/{line[0:4]}/{line[5:7]}{leaf}", line

    def log_message(
        self,
        conn_dir: Path,
        conversation_id: str,
        ts: float | datetime,
        type: str,
        from_: str,
        message: str,
        *,
        highlight: bool = False,
        is_channel: bool = False,
    ) -> str | None:
        """Format and append a message; returns the line, or None when the type is not logged."""
        written = self.write_message(conn_dir, conversation_id, ts, type, from_, message, highlight=highlight,
                                     is_channel=is_channel)
        return None if written is None else written[0]

    def write_message(
        self,
        conn_dir: Path,
        conversation_id: str,
        ts: float | datetime,
        type: str,
        from_: str,
        message: str,
        *,
        highlight: bool = False,
        is_channel: bool = False,
    ) -> tuple[str, int] | None:
        """`log_message`, returning the line and its offset in its file."""
        found = self.message_line(conn_dir, conversation_id, ts, type, from_, message, highlight=highlight,
                                  is_channel=is_channel)
        if found is None:
            return None
        path, line = found
        return line, self.append(path, line)

    def log_notification(
        self,
        user_dir: Path,
        ts: float | datetime,
        connection_id: str,
        conversation_id: str,
        type: str,
        from_: str,
        message: str,
    ) -> str | None:
        body = format_body(type, from_, message)
        if body is None:
            return None
        line = format_notification(ts, connection_id, conversation_id, body)
        self.append(Path(user_dir) / "notifications.log", line)
        return line

    def delete_conversation_logs(self, conn_dir: Path, conversation_id: str) -> int:
        """`/clear history`: remove every month file of a conversation; returns how many."""
        with self._lock:
            paths = _conversation_log_files(Path(conn_dir), conversation_id)
            for path in paths:
                self._drop(os.fspath(path))
            removed = 0
            for path in paths:
                try:
                    os.unlink(path)
                    removed += 1
                except FileNotFoundError:
                    pass
            return removed

    def close(self) -> None:
        with self._lock:
            while self._fds:
                _, fd = self._fds.popitem(last=False)
                os.close(fd)

    # Callers hold self._lock.

    def _fd(self, key: str) -> int:
        fd = self._fds.get(key)
        if fd is not None:
            self._fds.move_to_end(key)
            return fd
        fd = _open_for_append(key)
        self._fds[key] = fd
        while len(self._fds) > self.max_open:
            _, old = self._fds.popitem(last=False)
            os.close(old)
        return fd

    def _drop(self, key: str) -> None:
        fd = self._fds.pop(key, None)
        if fd is not None:
            os.close(fd)


def _make_dirs(path: str) -> None:
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for p in reversed(missing):
        try:
            os.mkdir(p, 0o700)
        except FileExistsError:
            pass


def _open_for_append(path: str) -> int:
    _make_dirs(os.path.dirname(path))
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                end = complete_end(fd, size)
                log.warning("Cutting a torn last line (%d bytes) off %s", size - end, path)
                os.ftruncate(fd, end)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _conversation_log_files(conn_dir: Path, conversation_id: str) -> list[Path]:
    return [
        conversation_log_path(conn_dir, conversation_id, y, m)
        for y, m in list_log_months(conn_dir, conversation_id)
    ]


def delete_conversation_logs(conn_dir: Path, conversation_id: str, writer: LogWriter | None = None) -> int:
    """Remove a conversation's logs; pass the writer so it drops its open handles first."""
    if writer is not None:
        return writer.delete_conversation_logs(conn_dir, conversation_id)
    removed = 0
    for path in _conversation_log_files(Path(conn_dir), conversation_id):
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
