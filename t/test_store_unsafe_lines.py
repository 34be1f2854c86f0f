"""Lines and names the log files cannot hold as they are: NUL, and names longer than a file name."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from convos.store.file import FileStore
from convos.store.logs import LogWriter, delete_conversation_logs, list_log_months, read_messages
from convos.store.logs.format import MAX_NAME_BYTES, escape_conversation_id, log_relpath, month_relpath

NOW = datetime(2024, 3, 21, 12, 0, 0, tzinfo=UTC)


def test_names_convos_8_07_could_write_keep_their_file_names() -> None:
    assert escape_conversation_id("#convos") == "#convos"
    assert escape_conversation_id("#with/slash") == "#with%2Fslash"
    longest = "#" + "æ" * 125  # 251 bytes
    assert len(longest.encode()) == MAX_NAME_BYTES
    assert escape_conversation_id(longest) == longest


@pytest.mark.parametrize("name", ["#" + "a" * 251, "#" + "æ" * 400, "#" + "/" * 100, "a\0b", "#" + "a" * 5000])
def test_other_names_get_a_bounded_deterministic_file_name(name: str) -> None:
    file_name = escape_conversation_id(name)
    assert file_name == escape_conversation_id(name)
    assert len((file_name + ".log").encode()) <= 255
    assert "/" not in file_name and "\0" not in file_name
    assert file_name.startswith(name[:10].replace("/", "%2F").replace("\0", "%00"))
    # Two names that only differ past the cut do not share a file.
    assert escape_conversation_id(name + "x") != file_name


def test_long_names_and_nul_are_logged_and_read_back(tmp_path) -> None:
    conn = tmp_path / "user" / "irc-x"
    long_name = "#" + "a" * 300
    with LogWriter() as w:
        for name in (long_name, "a\0b", "#convos"):
            assert w.log_message(conn, name, NOW, "private", "nul\0nick", f"in {name[:5]!r}: a\0b") is not None
    assert os.path.isfile(conn / month_relpath(2024, 3, long_name))
    for name in (long_name, "a\0b", "#convos"):
        page = read_messages(conn, name, now=NOW)
        assert [(m.from_, m.message) for m in page.messages] == [("nul\u2400nick", f"in {name[:5]!r}: a\u2400b")]
        assert list_log_months(conn, name) == [(2024, 3)]
    raw = (conn / "2024/03/#convos.log").read_bytes()
    assert b"\0" not in raw  # grep and friends see text
    assert delete_conversation_logs(conn, long_name) == 1
    assert read_messages(conn, long_name, now=NOW).messages == []


async def test_a_line_that_cannot_be_written_says_why(tmp_path) -> None:
    store = FileStore(tmp_path)
    conn_dir = store.connection_dir("a@example.com", "irc-x")
    (conn_dir / log_relpath(NOW, "#broken")).mkdir(parents=True)  # where the file should be
    lost = store.log_message("a@example.com", "irc-x", "#broken", NOW.timestamp(), "private", "bob", "lost?")
    kept = store.log_message("a@example.com", "irc-x", "#fine", NOW.timestamp(), "private", "bob", "kept")
    await store.flush_logs()
    assert (lost.id, lost.error) == (None, "Is a directory")  # no path: the user sees it
    assert kept.id is not None and kept.error == ""
    await store.close()
