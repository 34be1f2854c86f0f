"""JSON files as the original writes them, saved atomically (temp, fsync, rename)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
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


def atomic_write(path: Path, payload: bytes, mode: int = FILE_MODE, *, sync_dir: bool = True) -> None:
    """Write to a unique temp file in the same directory, fsync, rename over `path`.

    A crash at any point leaves either the old or the new file, never a torn one. Without
    `sync_dir` the rename itself is not made durable: after a power failure the old file may
    be back (whole), which is fine for data that is saved again anyway.
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
    if not sync_dir:
        return
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_bytes(path: str) -> bytes | None:
    """A file's bytes, or None when it does not exist (leaner than Path.read_bytes, for thousands of files)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _is_temp_file(name: str) -> bool:
    """What `atomic_write` (`.<name>.<random>.swap`) and an upload (`.upload-<random>.part`) leave
    behind when the process dies half way."""
    return name.startswith(".") and (name.endswith(".swap") or (name.startswith(".upload-") and name.endswith(".part")))


def remove_temp_files(home: Path, *, users: bool = True) -> list[Path]:
    """Remove the temp files a killed daemon left where JSON files and uploads are written:
    `home`, `home/settings/connections`, each user's directory and the directories in it (its
    connections and `upload`); log directories are not walked. Only while no daemon runs.
    Without `users`, user directories (a name with an `@`) are left to the file store, which
    sweeps each while it reads it."""
    removed: list[Path] = []
    for sub in _subdirs(home):  # `settings` among them, for settings/connections
        if users or not is_user_dir(sub.name):
            remove_temp_files_in(sub, removed)
    remove_temp_files_in(home, removed, subdirs=False)
    return removed


def is_user_dir(name: str) -> bool:
    return "@" in name[1:-1] and not name.startswith(".")


def remove_temp_files_in(directory: str | Path, removed: list[Path], *, subdirs: bool = True) -> None:
    """Temp files in `directory` and (with `subdirs`) the directories in it; each removed goes into `removed`."""
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return
    remove_temp_entries(entries, removed)
    if subdirs:
        for entry in entries:
            if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False):
                remove_temp_files_in(entry.path, removed, subdirs=False)


def remove_temp_entries(entries: list[os.DirEntry[str]], removed: list[Path]) -> None:
    """Remove the temp files among a directory's entries (see `remove_temp_files`); each goes into `removed`."""
    for entry in entries:
        if _is_temp_file(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except FileNotFoundError:
                pass


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
    payload: bytes = b""  # the newest snapshot, until it is written
    on_disk: bytes = b""  # what the file holds (as read or last written): an equal save is skipped


class JsonWriter:
    """Serialises saves per path and coalesces bursts: the newest snapshot wins.

    Each call encodes its snapshot immediately; when a burst of saves queues up
    behind one in flight, the next write carries the newest payload and the rest
    return without touching the disk again. A snapshot equal to what the file holds
    is not written at all.
    """

    def __init__(self) -> None:
        self._states: dict[str, _PathState] = {}  # by os.fspath(path)

    def known(self, path: str | Path, raw: bytes) -> None:
        """`path` holds `raw` (just read): saving the same bytes again is skipped."""
        key = os.fspath(path)
        state = self._states.get(key)
        if state is None:
            self._states[key] = _PathState(on_disk=raw)
        elif not state.lock.locked():
            state.on_disk = raw

    async def save(self, path: Path, data: Any) -> None:
        state = self._states.setdefault(os.fspath(path), _PathState())
        state.version += 1
        state.payload = encode(data)
        await self._write(path, state, state.version, sync_dir=True)

    async def _write(self, path: Path, state: _PathState, mine: int, *, sync_dir: bool) -> None:
        async with state.lock:
            if state.written >= mine:
                return
            version, payload = state.version, state.payload
            if payload != state.on_disk:
                await asyncio.to_thread(atomic_write, path, payload, sync_dir=sync_dir)
                state.on_disk = payload
            self._written(state, version)

    @staticmethod
    def _written(state: _PathState, version: int) -> None:
        state.written = max(state.written, version)
        if state.written >= state.version:
            state.payload = b""  # nothing newer waits: the bytes live on in on_disk only

    async def save_many(self, items: list[tuple[Path, Any]]) -> list[tuple[Path, Exception]]:
        """Save several files in one thread job, each fsynced but not its directory (see
        `atomic_write`): for data that is saved again anyway. Only files whose snapshot differs
        from what they hold are written; a file with a save in flight is written after that
        one, on its own. Returns the failures."""
        batch: list[tuple[Path, _PathState, int, bytes]] = []
        behind: list[tuple[Path, _PathState, int]] = []
        for path, data in items:
            state = self._states.setdefault(os.fspath(path), _PathState())
            state.version += 1
            state.payload = payload = encode(data)
            if state.lock.locked():
                behind.append((path, state, state.version))
            elif payload == state.on_disk:
                self._written(state, state.version)
            else:
                batch.append((path, state, state.version, payload))
        failed: list[tuple[Path, Exception]] = []
        taken: list[_PathState] = []
        try:
            for _, state, _, _ in batch:
                await state.lock.acquire()  # free a moment ago: taken at once
                taken.append(state)
            todo = [(path, payload) for path, state, version, payload in batch if state.written < version]
            if todo:
                # Waited for even when cancelled: the locks are released only after the last write.
                writing = asyncio.ensure_future(asyncio.to_thread(_write_many, todo))
                try:
                    errors = await asyncio.shield(writing)
                except asyncio.CancelledError:
                    await asyncio.wait([writing])
                    raise
                done = {path: err for (path, _), err in zip(todo, errors, strict=True)}
                for path, state, version, payload in batch:
                    if path not in done:
                        continue
                    err = done[path]
                    if err is None:
                        state.on_disk = payload
                        self._written(state, version)
                    else:
                        failed.append((path, err))
        finally:
            for state in taken:
                state.lock.release()
        for path, state, version in behind:
            try:
                await self._write(path, state, version, sync_dir=False)
            except Exception as err:
                failed.append((path, err))
        return failed

    def forget(self, path: Path) -> None:
        self._states.pop(os.fspath(path), None)


# Files of one batch written at once: the journal commits their fsyncs together (1,000 files:
# 5.5 s one after the other, 0.7 s sixteen at a time, on the VM of docs/performance.md).
WRITE_THREADS = 16


def _write_one(item: tuple[Path, bytes]) -> Exception | None:
    try:
        atomic_write(item[0], item[1], sync_dir=False)
    except Exception as err:
        return err
    return None


def _write_many(items: list[tuple[Path, bytes]]) -> list[Exception | None]:
    """Write a batch (in a thread of its own): each file fsynced, several at a time."""
    if len(items) < 2:
        return [_write_one(item) for item in items]
    with ThreadPoolExecutor(min(WRITE_THREADS, len(items)), thread_name_prefix="convos-save") as pool:
        return list(pool.map(_write_one, items))
