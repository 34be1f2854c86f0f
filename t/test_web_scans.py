"""Log scans (search, message pages, notifications) have their own threads and a per-user cap:
one user's searches neither delay another user's login nor their notifications (issue 10, item 4)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from conftest import core_of, register

from convos.core import passwords
from convos.core.slots import UserSlots
from convos.errors import TooManyRequests
from convos.store import logs as logfile

T = 10
BOUND = 3.0  # seconds another user's login or notifications may take while the scans hang


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


class Gate:
    """Holds every search in its thread until opened: a search over a huge home, on demand."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.opened = threading.Event()
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()
        self._changed = asyncio.Event()

    def wrap(self, real: Any) -> Any:
        def search(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.running += 1
                self.most = max(self.most, self.running)
            self.loop.call_soon_threadsafe(self._changed.set)
            try:
                self.opened.wait(30)
                return real(*args, **kwargs)
            finally:
                with self._lock:
                    self.running -= 1

        return search

    async def until_running(self, count: int) -> None:
        async with asyncio.timeout(T):
            while self.running < count:
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def gate(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gate]:
    g = Gate(asyncio.get_running_loop())
    monkeypatch.setattr(logfile, "search_conversations", g.wrap(logfile.search_conversations))
    yield g
    g.opened.set()


async def _two_users(client: TestClient, anon: Any) -> Any:
    await register(client, "alice@example.com")
    conn = next(iter(core_of(client).get_user("alice@example.com").connections.values()))
    res = await client.post(f"/api/connection/{conn.connection_id}", json={"wanted_state": "disconnected"})
    assert res.status == 200
    res = await client.post("/api/settings", json={"open_to_public": True})
    assert res.status == 200
    bob = await anon(client)
    res = await bob.post("/api/user/register", json={"email": "bob@example.com", "password": "longenough"})
    assert res.status == 200
    bob.cookie_jar.clear()
    return bob


async def _timed(request: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    res = await asyncio.wait_for(request, T)
    return time.perf_counter() - started, res


async def test_one_users_searches_do_not_delay_another_users_login(
        make_client: Any, anon: Any, gate: Gate) -> None:
    client = await make_client()
    bob = await _two_users(client, anon)
    alice = core_of(client).get_user("alice@example.com")
    assert any(c.conversations for c in alice.connections.values())  # something to search

    searches = [asyncio.create_task(client.get("/api/search", params={"match": f"word{i}"})) for i in range(40)]
    await gate.until_running(2)

    took, res = await _timed(bob.post("/api/user/login", json={"email": "bob@example.com", "password": "longenough"}))
    assert res.status == 200
    assert took < BOUND, took
    took, res = await _timed(bob.get("/api/notifications"))
    assert res.status == 200
    assert took < BOUND, took
    # bob's own search starts at once (the gate holds it like the others): alice's queue is hers.
    bobs = asyncio.create_task(bob.get("/api/search", params={"match": "hello"}))
    await gate.until_running(3)

    # Message pages and notifications are scans too: alice's are refused while hers are all taken.
    conn = next(iter(alice.connections.values()))
    for path in (f"/api/connection/{conn.connection_id}/messages", "/api/notifications"):
        res = await asyncio.wait_for(client.get(path), T)
        assert res.status == 429, path

    gate.opened.set()
    assert (await asyncio.wait_for(bobs, T)).status == 200
    answers = await asyncio.gather(*searches)
    statuses = sorted(res.status for res in answers)
    assert gate.most <= 3  # alice's two, and bob's one
    refused = [res for res in answers if res.status == 429]
    assert statuses.count(200) == 6 and len(refused) == 34, statuses
    body = await refused[0].json()
    assert body["errors"][0]["path"] == "/" and "Try again" in body["errors"][0]["message"]
    assert int(refused[0].headers["Retry-After"]) >= 1


async def test_user_slots_queue_refuse_and_hand_over() -> None:
    slots = UserSlots(2, 2)
    release = asyncio.Event()
    entered: list[int] = []

    async def use(i: int, owner: str = "alice") -> None:
        async with slots.hold(owner):
            entered.append(i)
            await release.wait()

    tasks = [asyncio.create_task(use(i)) for i in range(4)]
    await asyncio.sleep(0)  # one turn of the loop: each task runs up to its first wait
    assert slots.busy("alice") == 4
    assert entered == [0, 1]
    with pytest.raises(TooManyRequests) as err:
        async with slots.hold("alice"):
            pass
    assert err.value.headers == {"Retry-After": "1"}
    async with slots.hold("bob"):  # someone else is never in alice's line
        pass
    tasks[2].cancel()  # a waiter who gives up leaves the line
    await asyncio.gather(tasks[2], return_exceptions=True)
    assert slots.busy("alice") == 3
    release.set()
    await asyncio.gather(*tasks[:2], tasks[3])
    assert entered == [0, 1, 3]
    assert slots.busy("alice") == 0 and slots._slots == {}
