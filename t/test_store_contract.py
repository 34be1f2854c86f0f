"""The store protocols (store/base.py), one set of tests for both stores: FileStore on a temp
directory and MemoryStore. Whatever the core may rely on is asserted here, so a third store
passes these tests or breaks the core."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from convos.store.base import QueryError, Store, StoreError, UploadRecord
from convos.store.file import FileStore
from convos.store.memory import MemoryStore

EMAIL = "a@example.com"
NOW = datetime(2024, 3, 21, 12, 0, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


class Files:
    """What an admin puts in place for the bot, per store."""

    def __init__(self, store: Store, home: Path | None) -> None:
        self.store, self.home = store, home

    def bot_config(self, email: str, data: bytes) -> None:
        if isinstance(self.store, MemoryStore):
            self.store.put_bot_config(email, data)
        else:
            assert self.home is not None
            (self.home / email).mkdir(parents=True, exist_ok=True)
            (self.home / email / "bot.yaml").write_bytes(data)

    def spool_file(self, email: str, name: str, data: bytes) -> None:
        if isinstance(self.store, MemoryStore):
            self.store.put_spool_file(email, name, data)
        else:
            assert self.home is not None
            (self.home / email / "spool" / name).write_bytes(data)


@pytest.fixture(params=["file", "memory"])
async def store(request, tmp_path) -> AsyncIterator[Store]:
    s: Store = FileStore(tmp_path) if request.param == "file" else MemoryStore()
    yield s
    await s.close()


@pytest.fixture
def files(store, tmp_path) -> Files:
    return Files(store, tmp_path if isinstance(store, FileStore) else None)


async def written(store: Store) -> None:
    done = asyncio.Event()
    store.after_logs(done.set)
    await asyncio.wait_for(done.wait(), 10)


# --- settings, users, connections ------------------------------------------------------------


async def test_settings_and_profiles_round_trip(store: Store) -> None:
    assert await store.load_settings() is None
    data = {"contact": "mailto:x@example.com", "nested": {"list": [1, "two", None]}, "unicode": "æøå"}
    await store.save_settings(data)
    data["nested"]["list"].append(3)  # the store kept its own copy
    assert await store.load_settings() == {"contact": "mailto:x@example.com", "nested": {"list": [1, "two", None]},
                                           "unicode": "æøå"}
    assert await store.load_legacy_secrets() == []

    assert await store.load_profile("irc-x") is None
    await store.save_profile("irc-x", {"url": "irc://x.example"})
    await store.save_profile("irc-a", {"url": "irc://a.example"})
    assert await store.load_profile("irc-x") == {"url": "irc://x.example"}
    assert await store.load_profiles() == [("irc-a", {"url": "irc://a.example"}), ("irc-x", {"url": "irc://x.example"})]
    await store.delete_profile("irc-x")
    assert await store.load_profiles() == [("irc-a", {"url": "irc://a.example"})]


async def test_users_round_trip(store: Store) -> None:
    assert await store.load_users() == []
    await store.save_user("b@example.com", {"email": "b@example.com", "uid": "2"})
    await store.save_user(EMAIL, {"email": EMAIL, "uid": "1", "roles": ["admin"]})
    await store.save_user(EMAIL, {"email": EMAIL, "uid": "1", "roles": []})
    records = await store.load_users()
    assert [r.data for r in records] == [{"email": EMAIL, "uid": "1", "roles": []},
                                         {"email": "b@example.com", "uid": "2"}]
    assert all(r.ctime > 0 for r in records)
    assert not store.is_broken_user(EMAIL)
    await store.delete_user("b@example.com")
    assert [r.data["email"] for r in await store.load_users()] == [EMAIL]


async def test_connections_round_trip(store: Store) -> None:
    await store.save_user(EMAIL, {"email": EMAIL})
    assert await store.load_connections(EMAIL) == []
    await store.save_connection(EMAIL, "irc-b", {"url": "irc://b.example"})
    await store.save_connection(EMAIL, "irc-a", {"connection_id": "irc-a", "url": "irc://a.example",
                                                 "conversations": [{"conversation_id": "#x"}]})
    expected = [
        {"connection_id": "irc-a", "url": "irc://a.example", "conversations": [{"conversation_id": "#x"}]},
        {"connection_id": "irc-b", "url": "irc://b.example"},  # the id is the record's name when missing
    ]
    assert await store.load_connections(EMAIL) == expected
    (user,) = await store.load_users()
    assert user.connections in (None, expected)  # a store may read them with the user
    await store.save_connections([(EMAIL, "irc-a", {"url": "irc://a.example", "unread": 1}),
                                  (EMAIL, "irc-c", {"url": "irc://c.example"})])
    assert [c.get("unread") for c in await store.load_connections(EMAIL)] == [1, None, None]
    await store.delete_connection(EMAIL, "irc-c")
    store.log_message(EMAIL, "irc-b", "#x", NOW.timestamp(), "private", "bob", "gone with it")
    await written(store)
    await store.delete_connection(EMAIL, "irc-b")
    assert [c["connection_id"] for c in await store.load_connections(EMAIL)] == ["irc-a"]
    # its logs went with it: a new connection of that name starts empty
    assert (await store.read_messages(EMAIL, "irc-b", "#x", now=LATER)).messages == []


# --- the message log ------------------------------------------------------------------------


async def log_lines(store: Store, count: int, *, start: datetime = NOW, step: float = 1.0,
                    conversation_id: str = "#x") -> list[str]:
    refs = [store.log_message(EMAIL, "irc-a", conversation_id, start.timestamp() + i * step, "private",
                              "bob" if i % 3 else "Alice", f"line {i}" + (" potato" if i % 4 == 0 else ""),
                              highlight=i == 5, is_channel=True)
            for i in range(count)]
    await written(store)
    assert all(ref.id for ref in refs)
    return [ref.id for ref in refs if ref.id]


async def test_append_and_page_by_id(store: Store) -> None:
    ids = await log_lines(store, 10)
    page = await store.read_messages(EMAIL, "irc-a", "#x", now=LATER, limit=4)
    assert [m.message for m in page.messages] == ["line 6", "line 7", "line 8 potato", "line 9"]
    assert [m.id for m in page.messages] == ids[6:]
    assert page.before_id == ids[6] and page.before == "2024-03-21T12:00:06"
    assert page.after_id is None

    older = await store.read_messages(EMAIL, "irc-a", "#x", now=LATER, limit=4, before_id=page.before_id)
    assert [m.id for m in older.messages] == ids[2:6]
    assert older.messages[3].highlight and older.messages[3].from_ == "bob"
    oldest = await store.read_messages(EMAIL, "irc-a", "#x", now=LATER, limit=4, before_id=older.before_id)
    assert [m.id for m in oldest.messages] == ids[:2] and oldest.before_id is None

    newer = await store.read_messages(EMAIL, "irc-a", "#x", now=LATER, limit=3, after_id=ids[2])
    assert [m.id for m in newer.messages] == ids[3:6] and newer.after_id == ids[5]
    around = await store.read_messages(EMAIL, "irc-a", "#x", now=LATER, limit=2, around_id=ids[5])
    assert [m.id for m in around.messages] == ids[3:7]  # two before, and from the cursor on
    assert around.before_id == ids[3] and around.after_id == ids[6]


async def test_page_by_timestamps_and_match(store: Store) -> None:
    await log_lines(store, 10)
    page = await store.read_messages(EMAIL, "irc-a", "#x", now=LATER, after=NOW + timedelta(seconds=2),
                                     before=NOW + timedelta(seconds=6))
    assert [m.message for m in page.messages] == ["line 3", "line 4 potato", "line 5"]
    page = await store.read_messages(EMAIL, "irc-a", "#x", now=LATER, match="potato")
    assert [m.message for m in page.messages] == ["line 0 potato", "line 4 potato", "line 8 potato"]
    page = await store.read_messages(EMAIL, "irc-a", "#x", now=LATER, around=NOW + timedelta(seconds=5), limit=1)
    assert [m.message for m in page.messages] == ["line 4 potato", "line 5"]
    assert (await store.read_messages(EMAIL, "irc-a", "#other", now=LATER)).messages == []


async def test_bad_queries(store: Store) -> None:
    with pytest.raises(QueryError) as err:
        await store.read_messages(EMAIL, "irc-a", "#x", before_id="not an id")
    assert err.value.path == "/before_id"
    with pytest.raises(QueryError) as err:
        await store.read_messages(EMAIL, "irc-a", "#x", limit=0)
    assert err.value.path == "/limit"
    with pytest.raises(QueryError) as err:
        await store.read_messages(EMAIL, "irc-a", "#x", after=LATER, before=NOW)
    assert err.value.path == "/before"


async def test_search_and_find_message_id(store: Store) -> None:
    ids = await log_lines(store, 10)
    other = await log_lines(store, 3, start=NOW + timedelta(seconds=20), conversation_id="#y")
    targets = [("irc-a", "#x"), ("irc-a", "#y")]
    found, before, before_id = await store.search_messages(EMAIL, targets, limit=3, match="line")
    assert [(cid, m.id) for _, cid, m in found] == [("#y", other[2]), ("#y", other[1]), ("#y", other[0])]
    assert before_id == other[0] and before is not None
    found, before, before_id = await store.search_messages(EMAIL, targets, limit=3, match="line",
                                                            before_id=before_id)
    assert [m.id for _, _, m in found] == ids[9:6:-1] and before_id == ids[7]
    found, before, before_id = await store.search_messages(EMAIL, targets, limit=10, match="potato",
                                                           from_="alice")
    assert [(cid, m.message) for _, cid, m in found] == [("#y", "line 0 potato"), ("#x", "line 0 potato")]
    assert before is None and before_id is None
    found, _, _ = await store.search_messages(EMAIL, targets, limit=10, match="line",
                                              after=NOW + timedelta(seconds=7), before=NOW + timedelta(seconds=21))
    assert [m.message for _, _, m in found] == ["line 0 potato", "line 9", "line 8 potato", "line 7"]

    assert await store.find_message_id(EMAIL, "irc-a", "#x", "2024-03-21T12:00:05", "<bob> line 5") == ids[5]
    assert await store.find_message_id(EMAIL, "irc-a", "#x", "2024-03-21T12:00:05", "<bob> nope") is None
    assert await store.find_message_id(EMAIL, "irc-a", "#x", "not a time", "<bob> line 5") is None
    assert await store.count_messages(EMAIL, "irc-a", "#x", "2024-03-21T12:00:06Z") == 3


async def test_notifications_and_delete(store: Store) -> None:
    ids = await log_lines(store, 6)
    store.log_notification(EMAIL, NOW.timestamp() + 5, "irc-a", "#x", "private", "bob", "line 5")
    await written(store)
    (n,) = await store.read_notifications(EMAIL, 10)
    assert n.to_dict() == {"connection_id": "irc-a", "conversation_id": "#x", "from": "bob", "message": "line 5",
                           "ts": "2024-03-21T12:00:05", "type": "private", "id": ids[5]}
    assert await store.delete_conversation_logs(EMAIL, "irc-a", "#x") == 1
    assert (await store.read_messages(EMAIL, "irc-a", "#x", now=LATER)).messages == []


async def test_both_stores_give_the_same_pages(tmp_path) -> None:
    """The same lines, out of order within seconds and across months, in both stores: every
    query gives the same page, ids included."""
    rng = random.Random(7)
    stores: list[Store] = [FileStore(tmp_path), MemoryStore()]
    t = NOW.timestamp()
    for i in range(300):
        t += rng.choice([0, 0, 0.2, 1, 30, 86400 * 3])
        jitter = rng.choice([0, 0, 0, -20])
        nick = rng.choice(["a", "b"]) if i % 2 else "c"
        for s in stores:
            s.log_message(EMAIL, "irc-a", "#x", t + jitter, "private", nick, f"m{i} {'pot' if i % 5 == 0 else ''}")
    for s in stores:
        await written(s)
    now = datetime.fromtimestamp(t, UTC) + timedelta(days=1)
    newest = await stores[1].read_messages(EMAIL, "irc-a", "#x", now=now, limit=200)
    ids = [m.id for m in newest.messages]
    queries: list[dict] = [{}, {"limit": 7}, {"match": "pot", "limit": 5}, {"from_": "a", "limit": 9}]
    for i in range(0, len(ids), 17):
        queries += [{"before_id": ids[i], "limit": 5}, {"after_id": ids[i], "limit": 6},
                    {"around_id": ids[i], "limit": 4}, {"before": newest.messages[i].ts, "limit": 3},
                    {"after": newest.messages[i].ts, "limit": 3}]
    for q in queries:
        q = {k: (datetime.fromisoformat(v).replace(tzinfo=UTC) if k in ("before", "after") else v)
             for k, v in q.items()}
        pages = [await s.read_messages(EMAIL, "irc-a", "#x", now=now, **q) for s in stores]
        assert pages[0] == pages[1], q
        found = [await s.search_messages(EMAIL, [("irc-a", "#x")], limit=4, match="m",
                                         **{k: v for k, v in q.items() if k in ("before", "before_id")})
                 for s in stores]
        assert found[0] == found[1], q
    for s in stores:
        await s.close()


# --- uploads ----------------------------------------------------------------------------------


async def upload(store: Store, data: bytes, fid: str = "abc123") -> UploadRecord:
    sink = await store.begin_upload(EMAIL)
    for i in range(0, len(data), 1000):
        await sink.write(data[i:i + 1000])
    assert sink.size == len(data)
    await sink.finish()
    meta = {"author": EMAIL, "ext": "bin", "filename": "x.bin", "id": fid, "saved": "2024-03-21T12:00:00Z",
            "uid": "1", "write_only": False}
    return await store.commit_upload(EMAIL, sink, meta)


async def test_uploads_write_stream_delete(store: Store) -> None:
    data = os.urandom(600_000)
    record = await upload(store, data)
    assert (record.id, record.filename, record.size, record.uid) == ("abc123", "x.bin", len(data), "1")
    loaded = await store.load_upload(EMAIL, "abc123", "1")
    assert loaded is not None and loaded.size == len(data) and not loaded.write_only
    assert [r.id for r in await store.list_uploads(EMAIL, "1")] == ["abc123"]
    assert await store.read_upload(loaded, 10) == data[:10]

    stream = await store.open_upload(loaded)
    assert stream is not None and stream.size == len(data) and stream.mtime > 0
    async with stream:
        chunks = [c async for c in stream.chunks()]
        assert b"".join(chunks) == data and max(map(len, chunks)) < len(data)  # in chunks, not at once
        assert b"".join([c async for c in stream.chunks(1000, 2000)]) == data[1000:2000]
        assert b"".join([c async for c in stream.chunks(len(data) - 5)]) == data[-5:]

    assert await store.delete_upload(EMAIL, "abc123")
    assert not await store.delete_upload(EMAIL, "abc123")
    assert await store.load_upload(EMAIL, "abc123") is None
    assert await store.open_upload(loaded) is None
    assert await store.list_uploads(EMAIL) == []


async def test_an_upload_can_be_discarded(store: Store) -> None:
    sink = await store.begin_upload(EMAIL)
    await sink.write(b"never mind")
    await sink.discard()
    assert await store.list_uploads(EMAIL) == []
    other = await store.begin_upload("b@example.com")
    await other.write(b"x")
    await other.finish()
    with pytest.raises(StoreError):
        await store.commit_upload(EMAIL, other, {"id": "x1"})


# --- the bot's files --------------------------------------------------------------------------


async def test_bot_files(store: Store, files: Files) -> None:
    bot = "bot@example.com"
    assert await store.bot_config_stamp(bot) is None
    files.bot_config(bot, b"")
    assert await store.bot_config_stamp(bot) is None  # empty: no config
    files.bot_config(bot, b"actions: []\n")
    stamp = await store.bot_config_stamp(bot)
    assert stamp is not None and stamp[1] == 12
    assert await store.load_bot_config(bot, 100) == b"actions: []\n"
    with pytest.raises(StoreError):
        await store.load_bot_config(bot, 5)
    assert "bot.yaml" in store.bot_file_location(bot)

    assert await store.open_spool(bot)
    for name in ("b.json", "a.json", ".c.json", "d.tmp", "e.failed"):
        files.spool_file(bot, name, b"{}")
    assert await store.list_spool(bot, 10) == ["a.json", "b.json"]
    assert await store.list_spool(bot, 1) == ["a.json"]
    assert await store.load_spool_file(bot, "a.json", 10) == b"{}"
    await store.set_aside_spool_file(bot, "a.json")
    await store.delete_spool_file(bot, "b.json")
    assert await store.list_spool(bot, 10) == []
    with pytest.raises(StoreError):
        await store.load_spool_file(bot, "b.json", 10)


# --- downloads, custom CSS, preferences (issue 13) ---------------------------------------------

async def test_export_as_plain_text(store: Store) -> None:
    # In time order, as they come: 12:00 today, 12:00:05, 22:00, 08:00 tomorrow, ...
    for ts, type, nick, text in [(0, "private", "Alice", "line 0 potato"), (5, "action", "bob", "\x02waves\x02"),
                                 (36000, "private", "bob", "line 1"), (72000, "private", "bob", "line 2"),
                                 (108000, "private", "bob", "line 3")]:
        store.log_message(EMAIL, "irc-a", "#x", NOW.timestamp() + ts, type, nick, text, is_channel=True)
    await written(store)

    async def text(start: datetime, end: datetime) -> str:
        return b"".join([block async for block in store.export_messages(EMAIL, "irc-a", "#x", start, end)]).decode()

    assert await text(NOW, NOW + timedelta(days=1)) == (
        "2024-03-21 12:00:00 <Alice> line 0 potato\n"
        "2024-03-21 12:00:05 * bob waves\n"
        "2024-03-21 22:00:00 <bob> line 1\n"
        "2024-03-22 08:00:00 <bob> line 2\n")
    # the end is exclusive, to the second; other conversations and other months are left out
    assert await text(NOW + timedelta(hours=10), NOW + timedelta(hours=20)) == "2024-03-21 22:00:00 <bob> line 1\n"
    assert await text(NOW - timedelta(days=60), NOW) == ""
    assert [b async for b in store.export_messages(EMAIL, "irc-a", "#nope", NOW, LATER)] == []


async def test_custom_css_and_preferences(store: Store) -> None:
    assert await store.load_custom_css(EMAIL, 100) == ""
    await store.save_custom_css(EMAIL, "body { color: red; }")
    assert await store.load_custom_css(EMAIL, 100) == "body { color: red; }"
    assert await store.load_custom_css(EMAIL, 4) == "body"
    await store.save_custom_css(EMAIL, "")
    assert await store.load_custom_css(EMAIL, 100) == ""
    assert await store.load_preferences(EMAIL) == {}
    await store.save_preferences(EMAIL, {"inline_media": False})
    assert await store.load_preferences(EMAIL) == {"inline_media": False}
