"""The log thread writes a batch's lines per file, each file's lines in one write."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

from convos.store.file import FileStore
from convos.store.logs import LogWriter, read_messages
from convos.store.logs import id as logid
from convos.store.logs.format import log_relpath

NOW = datetime(2024, 3, 21, 12, 0, 0, tzinfo=UTC)


def test_append_lines_gives_each_line_its_offset(tmp_path) -> None:
    path = tmp_path / "a" / "2024" / "03" / "#x.log"
    lines = [f"2024-03-21T12:00:0{i} 0 <bob> line {i}\n" for i in range(3)]
    with LogWriter() as w:
        assert w.append(path, "2024-03-21T11:59:59 0 <bob> before\n") == 0
        got = w.append_lines(path, [lines[0], "no newline", lines[1], "two\nnewlines\n", lines[2]])
    data = path.read_bytes()
    assert got[1] == got[3] == "A log line must end with its only newline."
    offsets = [got[0], got[2], got[4]]
    assert all(isinstance(o, int) for o in offsets)
    assert [data[o : data.index(b"\n", o) + 1].decode() for o in offsets] == lines  # type: ignore[arg-type]
    assert data.count(b"\n") == 4


def test_append_lines_says_why_when_the_file_cannot_be_opened(tmp_path) -> None:
    path = tmp_path / "2024" / "03" / "#x.log"
    path.mkdir(parents=True)
    with LogWriter() as w:
        assert w.append_lines(path, ["2024-03-21T12:00:00 0 <bob> a\n"] * 2) == ["Is a directory"] * 2


async def test_a_batch_of_lines_to_several_files_gets_exact_ids(tmp_path) -> None:
    store = FileStore(tmp_path)
    conn_dir = store.connection_dir("a@example.com", "irc-x")
    (conn_dir / log_relpath(NOW, "#broken")).mkdir(parents=True)
    ts = NOW.timestamp()
    refs = []
    for i in range(300):  # queued in one loop iteration: one batch, three files
        cid = ("#a", "#b", "#broken")[i % 3]
        refs.append((cid, store.log_message("a@example.com", "irc-x", cid, ts + i // 7, "private", "bob", f"m{i}")))
    released = asyncio.Event()
    store.after_logs(released.set)
    await asyncio.wait_for(released.wait(), 10)
    for cid in ("#a", "#b"):
        page = read_messages(conn_dir, cid, now=NOW + timedelta(hours=1), limit=200)
        assert [m.id for m in page.messages] == [ref.id for c, ref in refs if c == cid]
        assert [m.message for m in page.messages] == [f"m{i}" for i, (c, _) in enumerate(refs) if c == cid]
    assert all(ref.id is None and ref.error == "Is a directory" for c, ref in refs if c == "#broken")
    pos = logid.parse_message_id(refs[0][1].id)
    assert pos is not None and pos.offset == 0 and pos.tag == logid.conversation_tag(conn_dir, "#a")
    assert os.path.getsize(conn_dir / log_relpath(NOW, "#a")) > 0
    await store.close()
