"""Deferred saves of connection.json (core/saves.py): unread counters and what else changes by
itself are written in batches, at most every CONVOS_SAVE_INTERVAL, and on a clean stop.

Against the scripted IRC peer (t/irc_peer.py), through the `start` fixture of test_irc_protocol.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import core_of
from events_helper import is_message
from test_irc_protocol import CID, Start, T, registered
from test_irc_protocol import start as start  # the fixture

from convos.store import jsonfile
from convos.store.jsonfile import decode


class Writes:
    """Every atomic write of a JSON file (in whichever thread), and a way to wait for one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.done: list[tuple[str, bytes]] = []
        self.jobs: list[list[str]] = []  # the files of each batch (one thread job each)
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        real_write, real_many = jsonfile.atomic_write, jsonfile._write_many

        def atomic_write(path: Path, payload: bytes, *args: Any, **kwargs: Any) -> None:
            real_write(path, payload, *args, **kwargs)
            self.done.append((os.fspath(path), payload))
            self._loop.call_soon_threadsafe(self._changed.set)

        def write_many(items: list[tuple[Path, bytes]]) -> list[Exception | None]:
            self.jobs.append([os.fspath(path) for path, _ in items])
            return real_many(items)

        monkeypatch.setattr(jsonfile, "atomic_write", atomic_write)
        monkeypatch.setattr(jsonfile, "_write_many", write_many)

    def of(self, path: Path) -> list[dict[str, Any]]:
        return [decode(payload) for written, payload in self.done if written == os.fspath(path)]

    async def until(self, path: Path, pred: Any, timeout: float = T) -> dict[str, Any]:
        """The first write of `path` whose data matches `pred` (waiting for it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [data for data in self.of(path) if pred(data)]
            if found:
                return found[0]
            self._changed.clear()
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no such write of {path}: {self.of(path)}")
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                pass


def unread(data: dict[str, Any], conversation_id: str = "#convos") -> int:
    return int(next(c["unread"] for c in data["conversations"] if c["conversation_id"] == conversation_id))


def on_disk(path: Path) -> dict[str, Any]:
    return dict(decode(path.read_bytes()))


async def flood(s: Any, count: int, prefix: str = "line") -> None:
    """`count` channel lines from alice; returns once the last one is handled."""
    await s.peer.send(*(f":alice!a@h PRIVMSG #convos :{prefix} {i}" for i in range(count)))
    await s.wait(is_message(message=f"{prefix} {count - 1}"))


async def test_connecting_and_rejoining_writes_connection_json_once(start: Start, home: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """It was written after connecting, before each rejoin and after it: now once, after all of
    them, as a deferred save (the topic and the nick the server gave are not the user's changes)."""
    writes = Writes(monkeypatch)
    s = await registered(start, env={"CONVOS_SAVE_INTERVAL": "0.2"})
    path = home / s.email / CID / "connection.json"
    saved = await writes.until(path, lambda d: any(c["topic"] for c in d["conversations"]))
    assert [c["conversation_id"] for c in saved["conversations"]] == ["#convos"]
    await s.synced()
    # The one write of the rejoin; the registration (POST /api/user/register) wrote the new
    # connection before it connected.
    assert len(writes.of(path)) == 2, writes.of(path)
    assert writes.jobs == [[os.fspath(path)]]  # the deferred one, in a batch of its own


async def test_a_burst_of_messages_costs_one_write(start: Start, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes = Writes(monkeypatch)
    s = await registered(start, env={"CONVOS_SAVE_INTERVAL": "1"})
    path = home / s.email / CID / "connection.json"
    await writes.until(path, lambda d: any(c["topic"] for c in d["conversations"]))  # the rejoin's
    before = len(writes.of(path))
    await flood(s, 1000)
    saved = await writes.until(path, lambda d: unread(d) == 1000)
    # One write for 1,000 messages (two if the save came due half way through the burst).
    assert 1 <= len(writes.of(path)) - before <= 2, [unread(d) for d in writes.of(path)]
    assert saved["conversations"][0]["first_unread_id"]


async def test_what_is_due_together_is_written_in_one_job(start: Start, home: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Two users' connections with new messages: one thread job writes both files."""
    writes = Writes(monkeypatch)
    s = await registered(start, env={"CONVOS_SAVE_INTERVAL": "0.5"})
    s.core.settings.open_to_public = True
    res = await s.client.post("/api/user/register", json={"email": "lois@example.com", "password": "longenough"})
    assert res.status == 200, await res.text()
    lois = await s.server.accept(T)
    await lois.register()  # the default connection names its nick: superman
    await lois.expect("JOIN #convos")
    await lois.transcript("join-convos", nick="superman")
    paths = [home / email / CID / "connection.json" for email in (s.email, "lois@example.com")]
    for path in paths:
        await writes.until(path, lambda d: any(c["topic"] for c in d["conversations"]))
    writes.jobs.clear()
    await s.peer.send(":alice!a@h PRIVMSG #convos :for superman")
    await lois.send(":alice!a@h PRIVMSG #convos :for lois")
    for path in paths:
        await writes.until(path, lambda d: unread(d) == 1)
    assert sorted(writes.jobs[0]) == sorted(os.fspath(p) for p in paths), writes.jobs


async def test_a_clean_stop_saves_pending_counters_in_one_batch(start: Start, home: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    writes = Writes(monkeypatch)
    s = await registered(start, env={"CONVOS_SAVE_INTERVAL": "3600"})
    path = home / s.email / CID / "connection.json"
    await flood(s, 25)
    assert unread(on_disk(path)) == 0  # counted, but not written yet (within the hour)
    assert (await s.conversations())["#convos"]["unread"] == 25
    await s.client.close()  # the daemon stops: core.stop
    assert unread(on_disk(path)) == 25
    assert writes.jobs == [[os.fspath(path)]]


async def test_a_users_own_change_is_saved_at_once(start: Start, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a conversation is the user's change: on disk when the command answers, with the
    counters counted so far, and the deferred save has nothing left to do."""
    writes = Writes(monkeypatch)
    s = await registered(start, env={"CONVOS_SAVE_INTERVAL": "3600"})
    path = home / s.email / CID / "connection.json"
    await flood(s, 3)
    assert await s.send("/query lois") == {**(await s.conversations())["lois"]}
    saved = on_disk(path)
    assert [c["conversation_id"] for c in saved["conversations"]] == ["#convos", "lois"]
    assert unread(saved) == 3
    assert len(s.core.chat.saves) == 0
    count = len(writes.of(path))
    await s.client.close()
    assert len(writes.of(path)) == count  # nothing changed since: the stop writes nothing


async def test_a_conversation_a_message_opens_is_saved_within_a_second(start: Start, home: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A new private conversation is what the user would miss after a crash: it does not wait
    for CONVOS_SAVE_INTERVAL, the counters of a channel do."""
    writes = Writes(monkeypatch)
    s = await registered(start, env={"CONVOS_SAVE_INTERVAL": "3600"})
    path = home / s.email / CID / "connection.json"
    await flood(s, 3)
    assert len(s.core.chat.saves) == 1  # the channel's counters wait
    loop = asyncio.get_running_loop()
    sent = loop.time()
    await s.peer.send(":lois!l@h PRIVMSG superman :are you there?")
    saved = await writes.until(path, lambda d: "lois" in [c["conversation_id"] for c in d["conversations"]])
    assert loop.time() - sent < 3
    assert unread(saved, "lois") == 1 and unread(saved) == 3  # the batch took what was pending
    assert len(s.core.chat.saves) == 0


async def test_unchanged_files_are_not_written_at_stop(make_client: Any, home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A stop with nothing changed writes no connection.json (it wrote every one, one by one)."""
    client = await make_client()
    res = await client.post("/api/user/register", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    res = await client.post("/api/connections", json={"url": "irc://irc.example.com:6667/%23convos"})
    assert res.status == 200, await res.text()
    await client.close()
    files = sorted(home.glob("*/*/connection.json"))
    assert [p.parent.name for p in files] == ["irc-example"] or len(files) >= 1
    writes = Writes(monkeypatch)
    again = await make_client()
    assert len(core_of(again).get_user("superman@example.com").connections) == len(files)
    await again.close()
    assert [path for path, _ in writes.done if path.endswith("connection.json")] == []
