"""The core on the memory store: no files, no aiohttp, no IRC. Each test runs in milliseconds."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from convos.config import Config
from convos.core import core as core_module
from convos.core import history
from convos.core.connection import Connection
from convos.core.core import Core
from convos.core.events import ConversationChanged, Message
from convos.errors import InvalidInput
from convos.store.memory import MemoryStore


class QuietConnection(Connection):
    """A connection of a protocol that never connects: enough for the core's bookkeeping."""


async def fast_hash(password: str) -> str:
    return f"plain:{password}"  # argon2 is a tenth of a second per call: not what these tests are about


@pytest.fixture
async def core(monkeypatch, tmp_path: Path) -> AsyncIterator[Core]:
    monkeypatch.setattr(core_module, "hash_password_async", fast_hash)
    config = Config.from_env({"CONVOS_HOME": str(tmp_path / "never-written"), "CONVOS_SKIP_CONNECT": "1"})
    c = Core(MemoryStore(), config, connection_class=lambda scheme: QuietConnection)
    await c.start()
    yield c
    await c.stop()
    assert not (tmp_path / "never-written").exists()  # the memory store wrote nothing


def test_the_core_and_the_memory_store_load_without_aiohttp() -> None:
    code = ("import sys, convos.core.core, convos.core.history, convos.store.memory; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'aiohttp', 'aiohttp_session', 'pydle'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


async def test_settings_users_and_connections_live_in_the_store(core: Core) -> None:
    store = core.store
    assert isinstance(store, MemoryStore)
    settings = await store.load_settings()
    assert settings is not None and settings["local_secret"]  # secrets made and saved at start

    started = time.monotonic()
    user = await core.create_user("Superman@Example.com", "s3cret")
    conn = await core.connections.create_connection(user, "irc://irc.example.com/%23convos", start=False)
    assert time.monotonic() - started < 0.5
    assert user.email == "superman@example.com" and user.roles == ["admin"]
    assert [r.data["email"] for r in await store.load_users()] == ["superman@example.com"]
    (saved,) = await store.load_connections(user.email)
    assert saved["connection_id"] == conn.connection_id == "irc-example"
    assert [c["conversation_id"] for c in saved["conversations"]] == ["#convos"]
    with pytest.raises(InvalidInput):
        await core.connections.create_connection(user, "irc://irc.example.com", start=False)


async def test_a_chat_line_is_logged_published_and_paged_by_id(core: Core) -> None:
    user = await core.create_user("superman@example.com", "s3cret")
    conn = await core.connections.create_connection(user, "irc://irc.example.com/%23convos", start=False)
    conv = conn.get_conversation("#convos")
    assert conv is not None
    sub = core.events.subscribe(email=user.email, kinds={Message})
    ts = time.time()
    for i in range(5):
        await core.chat.ingest(conn, conv, type="private", from_="bob", message=f"hello {i}", ts=ts + i)
    events = [await asyncio.wait_for(sub.get(), 1) for _ in range(5)]
    assert all(isinstance(e, Message) for e in events)
    ids = [e.id for e in events if isinstance(e, Message)]
    assert [e.message for e in events if isinstance(e, Message)] == [f"hello {i}" for i in range(5)] and all(ids)
    assert conv.unread == 5

    page = await history.messages(core, user, conn.connection_id, "#convos", {"limit": 2})
    assert [m["id"] for m in page["messages"]] == ids[3:] and page["before_id"] == ids[3]
    older = await history.messages(core, user, conn.connection_id, "#convos",
                                   {"limit": 2, "before_id": page["before_id"]})
    assert [m["message"] for m in older["messages"]] == ["hello 1", "hello 2"]
    found = await history.search(core, user, {"match": "hello 4"})
    assert [m["id"] for m in found["messages"]] == [ids[4]]
    with pytest.raises(InvalidInput):
        await history.messages(core, user, conn.connection_id, "#convos", {"before_id": "nope"})


async def test_removing_a_user_removes_their_data(core: Core) -> None:
    await core.create_user("admin@example.com", "s3cret")
    user = await core.create_user("superman@example.com", "s3cret")
    conn = await core.connections.create_connection(user, "irc://irc.example.com/%23convos", start=False)
    conv = conn.get_conversation("#convos")
    assert conv is not None
    await core.chat.ingest(conn, conv, type="private", from_="bob", message="hello")
    await core.remove_user(user)
    store = core.store
    assert isinstance(store, MemoryStore)
    assert [r.data["email"] for r in await store.load_users()] == ["admin@example.com"]
    assert await store.load_connections(user.email) == []
    page = await store.read_messages(user.email, conn.connection_id, "#convos")
    assert page.messages == []


async def test_read_up_to_a_message_leaves_later_lines_unread(core: Core) -> None:
    """A read request that comes after new lines (sent as the user left the conversation) reads
    only what the reader was shown: `last_id`, the newest message of its view."""
    user = await core.create_user("superman@example.com", "s3cret")
    conn = await core.connections.create_connection(user, "irc://irc.example.com/%23convos", start=False)
    conn.info["nick"] = "superman"
    conv = conn.get_conversation("#convos")
    assert conv is not None
    sub = core.events.subscribe(email=user.email, kinds={Message})
    ts = time.time()
    await core.chat.ingest(conn, conv, type="private", from_="bob", message="seen", ts=ts)
    await core.chat.ingest(conn, conv, type="private", from_="superman", message="mine", ts=ts + 1, own=True)
    await core.chat.ingest(conn, conv, type="private", from_="bob", message="superman: unseen", ts=ts + 2)
    await core.chat.ingest(conn, conv, type="private", from_="bob", message="unseen too", ts=ts + 3)
    ids = [e.id for e in [await asyncio.wait_for(sub.get(), 1) for _ in range(4)] if isinstance(e, Message)]
    assert conv.unread == 3 and conv.notifications == 1

    changed = core.events.subscribe(email=user.email, kinds={ConversationChanged})
    await core.chat.mark_read(user, conn, conv, last_id=ids[1])  # shown up to our own line
    assert (conv.unread, conv.notifications, conv.first_unread_id) == (2, 1, ids[2])
    event = await asyncio.wait_for(changed.get(), 1)
    assert isinstance(event, ConversationChanged) and (event.unread, event.first_unread_id) == (2, ids[2])
    await core.chat.mark_read(user, conn, conv, last_id=ids[3])  # shown all
    assert (conv.unread, conv.notifications, conv.first_unread_id) == (0, 0, "")

    await core.chat.ingest(conn, conv, type="private", from_="bob", message="again", ts=ts + 4)
    await core.chat.mark_read(user, conn, conv, last_id="AAAAAAAAAAAAAAAA")  # no such line: all read
    assert conv.unread == 0
    await core.chat.ingest(conn, conv, type="private", from_="bob", message="and again", ts=ts + 5)
    await core.chat.mark_read(user, conn, conv)  # without a position: all read, as in 8.07
    assert conv.unread == 0
