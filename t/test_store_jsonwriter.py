"""JsonWriter.save_many (store/jsonfile.py): the batches of deferred saves."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from convos.store import jsonfile
from convos.store.jsonfile import JsonWriter, decode


async def test_a_batch_is_written_several_files_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: set[str] = set()
    real = jsonfile.atomic_write

    def atomic_write(path: Path, payload: bytes, *args: Any, **kwargs: Any) -> None:
        threads.add(threading.current_thread().name)
        real(path, payload, *args, **kwargs)

    monkeypatch.setattr(jsonfile, "atomic_write", atomic_write)
    writer = JsonWriter()
    files = [(tmp_path / f"u{i}" / "connection.json", {"n": i}) for i in range(40)]
    assert await writer.save_many(files) == []
    assert [decode(path.read_bytes()) for path, _ in files] == [data for _, data in files]
    assert len(threads) > 1 and all(name.startswith("convos-save") for name in threads)
    assert not list(tmp_path.glob("*/.*.swap"))


async def test_unchanged_files_are_skipped_and_failures_reported(tmp_path: Path) -> None:
    writer = JsonWriter()
    same, blocked = tmp_path / "a" / "connection.json", tmp_path / "b"
    await writer.save(same, {"n": 1})
    blocked.write_text("a file where a directory should be")
    before = same.stat().st_mtime_ns
    failed = await writer.save_many([(same, {"n": 1}), (blocked / "connection.json", {"n": 2})])
    assert same.stat().st_mtime_ns == before  # equal to what it holds: not written again
    assert [path for path, _ in failed] == [blocked / "connection.json"]
