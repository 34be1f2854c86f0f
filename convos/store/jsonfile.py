"""JSON files as the original writes them, saved atomically (temp, fsync, rename)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

DIR_MODE = 0o700
FILE_MODE = 0o600


def encode(data: Any) -> bytes:
    """One line, sorted keys, `/` as `\\/`, no final newline: byte for byte what 8.07 writes.

    A `/` can only occur inside JSON strings, so escaping every byte is safe.
    """
    raw = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    raw = raw.replace(b"/", b"\\/")
    # Mojo::JSON escapes these two so the output is also valid JavaScript.
    return raw.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")


def decode(raw: bytes) -> Any:
    return orjson.loads(raw)


def make_dirs(path: Path) -> None:
    """Create missing parents with mode 0700 (existing ones are left alone)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass


def atomic_write(path: Path, payload: bytes, mode: int = FILE_MODE) -> None:
    """Write to a unique temp file in the same directory, fsync, rename over `path`.

    A crash at any point leaves either the old or the new file, never a torn one.
    """
    make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".swap", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _is_temp_file(name: str) -> bool:
    """What `atomic_write` (`.<name>.<random>.swap`) and an upload (`.upload-<random>.part`) leave
    behind when the process dies half way."""
    return name.startswith(".") and (name.endswith(".swap") or (name.startswith(".upload-") and name.endswith(".part")))


def remove_temp_files(home: Path) -> list[Path]:
    """Remove the temp files a killed daemon left where JSON files and uploads are written:
    `home`, `home/settings/connections`, each user's directory and the directories in it (its
    connections and `upload`); log directories are not walked. Only while no daemon runs."""
    dirs = [home]
    for user in _subdirs(home):  # `settings` among them, for settings/connections
        dirs.append(user)
        dirs.extend(_subdirs(user))
    removed = []
    for directory in dirs:
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        for entry in entries:
            if _is_temp_file(entry.name) and entry.is_file(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
                except FileNotFoundError:
                    pass
    return removed


def _subdirs(path: Path) -> list[Path]:
    try:
        return [Path(e.path) for e in os.scandir(path) if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


@dataclass(slots=True)
class _PathState:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    version: int = 0
    written: int = 0
    payload: bytes = b""


class JsonWriter:
    """Serialises saves per path and coalesces bursts: the newest snapshot wins.

    Each call encodes its snapshot immediately; when a burst of saves queues up
    behind one in flight, the next write carries the newest payload and the rest
    return without touching the disk again.
    """

    def __init__(self) -> None:
        self._states: dict[Path, _PathState] = {}

    async def save(self, path: Path, data: Any) -> None:
        state = self._states.setdefault(path, _PathState())
        state.version += 1
        mine = state.version
        state.payload = encode(data)
        async with state.lock:
            if state.written >= mine:
                return
            version, payload = state.version, state.payload
            await asyncio.to_thread(atomic_write, path, payload)
            state.written = version

    def forget(self, path: Path) -> None:
        self._states.pop(path, None)
