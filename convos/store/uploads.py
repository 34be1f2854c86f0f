"""Uploads as 8.07 keeps them: `<email>/upload/<fid>.data` (bytes) and `<fid>.json` (metadata)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from .base import StoreError, UploadRecord
from .jsonfile import FILE_MODE, atomic_write, decode, encode, make_dirs

log = logging.getLogger(__name__)

# File ids: content checksums (16 word characters), legacy paste ids (digits) or an explicit id
# such as `irc-localhost-key`. Never a dot, never a slash: an id is always one plain file name.
FID_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}", re.ASCII)
# Bytes kept in memory before a write is handed to the thread.
FLUSH_AT = 256 * 1024
# Bytes read at a time when an upload is streamed.
CHUNK = 256 * 1024
META_KEYS = ("author", "ext", "filename", "id", "saved", "uid", "write_only")


def valid_fid(fid: str) -> bool:
    return FID_RE.fullmatch(fid) is not None


def _check_fid(fid: str) -> str:
    if not valid_fid(fid):
        raise StoreError(f"Invalid file id {fid!r}.")
    return fid


def format_saved(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class UploadSink:
    """A temp file in the upload directory that bytes stream into; renamed into place on commit.

    Writes are buffered and handed to a thread, which also keeps a running MD5 of the content,
    so a 40 MB upload is never held in memory, hashed on the loop, or read twice.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.size = 0
        self._md5 = hashlib.md5()
        self._buffer = bytearray()
        self._fh: Any = None
        self.tmp_path: Path | None = None
        self._lock = asyncio.Lock()

    def _open(self) -> None:
        make_dirs(self.directory)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=self.directory)
        self.tmp_path = Path(tmp)
        self._fh = os.fdopen(fd, "wb")

    async def open(self) -> UploadSink:
        await asyncio.to_thread(self._open)
        return self

    async def write(self, chunk: bytes) -> None:
        if self._fh is None:
            raise StoreError("Upload is closed.")
        self._buffer += chunk
        self.size += len(chunk)
        if len(self._buffer) >= FLUSH_AT:
            await self._flush()

    async def _flush(self) -> None:
        if not self._buffer:
            return
        data = bytes(self._buffer)
        self._buffer.clear()
        async with self._lock:
            await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> None:
        self._md5.update(data)
        self._fh.write(data)

    async def finish(self) -> str:
        """Flush, fsync and close the temp file; returns the hex MD5 of everything written."""
        await self._flush()
        await asyncio.to_thread(self._close, True)
        return self._md5.hexdigest()

    def _close(self, sync: bool) -> None:
        if self._fh is None:
            return
        fh, self._fh = self._fh, None
        try:
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            fh.close()

    async def discard(self) -> None:
        """Drop the temp file (after an error or an upload that was refused)."""
        self._buffer.clear()

        def run() -> None:
            self._close(False)
            if self.tmp_path is not None:
                self.tmp_path.unlink(missing_ok=True)

        await asyncio.to_thread(run)


def _record(meta: dict[str, Any], data_path: Path, st: os.stat_result) -> UploadRecord:
    return UploadRecord(
        id=data_path.stem,  # the file name is the id; the copy inside is informative
        filename=str(meta.get("filename") or ""),
        ext=str(meta.get("ext") or "bin"),
        saved=str(meta.get("saved") or format_saved(st.st_mtime)),
        uid=str(meta.get("uid") or ""),
        author=str(meta.get("author") or ""),
        write_only=meta.get("write_only") is True,
        size=st.st_size,
        mtime=st.st_mtime,
    )


class FileUploadStream:
    """An open `<fid>.data`, read in a thread a chunk at a time (see base.UploadStream)."""

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        st = os.fstat(fh.fileno())
        self.size = st.st_size
        self.mtime = st.st_mtime

    @classmethod
    def open(cls, path: Path) -> FileUploadStream | None:
        """Blocking; None when the file is gone."""
        try:
            fh = open(path, "rb")  # noqa: SIM115 -- closed by close()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        return cls(fh)

    def _read(self, start: int, size: int) -> bytes:
        return os.pread(self._fh.fileno(), size, start)

    async def chunks(self, start: int = 0, stop: int | None = None, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        end = self.size if stop is None else min(stop, self.size)
        pos = start
        while pos < end:
            data = await asyncio.to_thread(self._read, pos, min(chunk_size, end - pos))
            if not data:
                return
            pos += len(data)
            yield data

    async def close(self) -> None:
        self._fh.close()

    async def __aenter__(self) -> FileUploadStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def commit(directory: Path, sink: UploadSink, meta: dict[str, Any]) -> UploadRecord:
    """Move a finished sink to `<id>.data` (0600) and write `<id>.json` atomically (blocking)."""
    fid = _check_fid(str(meta["id"]))
    if sink.tmp_path is None:
        raise StoreError("Nothing was written.")
    data_path = directory / f"{fid}.data"
    os.chmod(sink.tmp_path, FILE_MODE)
    # The bytes first: a crash in between leaves an orphan .data, never metadata without content.
    os.replace(sink.tmp_path, data_path)
    sink.tmp_path = None
    atomic_write(directory / f"{fid}.json", encode({k: meta[k] for k in META_KEYS}))
    return _record(meta, data_path, data_path.stat())


def load(directory: Path, fid: str, uid: str = "") -> UploadRecord | None:
    """The upload with this id, migrating a legacy paste (of the user `uid`) on first access (blocking)."""
    if not valid_fid(fid):
        return None
    meta = _read_meta(directory / f"{fid}.json")
    if meta is None:
        if not migrate_legacy(directory, fid, uid):
            return None
        meta = _read_meta(directory / f"{fid}.json")
        if meta is None:
            return None
    data_path = directory / f"{fid}.data"
    try:
        st = data_path.stat()
    except FileNotFoundError:
        return None
    return _record(meta, data_path, st)


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        data = decode(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        log.error("Cannot read upload metadata %s: %s", path, err)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("filename"), str):
        log.error("Not upload metadata: %s", path)
        return None
    return data


def legacy_saved(created_at: Any, fallback: float) -> str:
    """`created_at` of a legacy paste (an epoch, maybe as a string, or a date) as `saved`."""
    if isinstance(created_at, (int, float)) and not isinstance(created_at, bool):
        return format_saved(float(created_at))
    if isinstance(created_at, str):
        try:
            return format_saved(float(created_at))
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
        except ValueError:
            return format_saved(fallback)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return format_saved(parsed.timestamp())
    return format_saved(fallback)


def migrate_legacy(directory: Path, fid: str, uid: str = "") -> bool:
    """`upload/<fid>` (JSON with `content`, `created_at`) -> `<fid>.data` + `<fid>.json` (blocking).

    The legacy file is removed only after both new files are in place.
    """
    legacy = directory / _check_fid(fid)
    try:
        st = legacy.stat()
        if not legacy.is_file():
            return False
        data = decode(legacy.read_bytes())
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as err:
        log.error("Cannot read legacy paste %s: %s", legacy, err)
        return False
    if not isinstance(data, dict) or not isinstance(data.get("content"), str):
        return False
    author = str(data.get("author") or directory.parent.name)
    meta = {
        "author": author, "ext": "txt", "filename": "paste.txt", "id": fid,
        "saved": legacy_saved(data.get("created_at"), st.st_mtime), "uid": uid,
        "write_only": False,
    }
    atomic_write(directory / f"{fid}.data", data["content"].encode("utf-8"))
    atomic_write(directory / f"{fid}.json", encode(meta))
    legacy.unlink(missing_ok=True)
    log.info("Migrated legacy paste %s", legacy)
    return True


def list_uploads(directory: Path, uid: str = "") -> list[UploadRecord]:
    """Every upload, newest `.data` first (mtime to the second), ties by id (blocking)."""
    try:
        names = sorted(e.name for e in os.scandir(directory) if e.is_file())
    except FileNotFoundError:
        return []
    present = set(names)
    for name in names:
        # Legacy pastes: a bare id without extension.
        if valid_fid(name) and f"{name}.json" not in present:
            migrate_legacy(directory, name, uid)
    found = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json") or not valid_fid(name[:-5]):
            continue
        record = load(directory, name[:-5], uid)
        if record is not None:
            found.append(record)
    found.sort(key=lambda r: (-int(r.mtime), r.id))
    return found


def delete(directory: Path, fid: str) -> bool:
    """Remove `<fid>.data` and `<fid>.json` (and a legacy paste); False when none existed (blocking)."""
    if not valid_fid(fid):
        return False
    removed = False
    for path in (directory / f"{fid}.json", directory / f"{fid}.data", directory / fid):
        try:
            path.unlink()
            removed = True
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            pass
    return removed
