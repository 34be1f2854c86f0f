"""Link previews cost one user a bounded share: a few in progress per user (then 429), and a page's
parse stops when the request gives up (issue 10, item 4)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from conftest import register

from convos.cli import build_core
from convos.config import Config
from convos.core import passwords
from convos.embed import Embedder, Limits
from convos.embed import fetch as embed_module
from convos.web.app import create_app
from convos.web.keys import EMBEDDER

T = 15
# A megabyte of tiny tags in the head: html.parser needs about a second for it.
HEAVY = ("<html><head>" + "<i>" * 350_000).encode()


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


class Site:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.server: TestServer | None = None

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def app(self) -> web.Application:
        async def slow(request: web.Request) -> web.Response:
            await asyncio.wait_for(self.release.wait(), 30)
            return web.Response(text="<title>Slow</title>", content_type="text/html")

        async def fast(request: web.Request) -> web.Response:
            return web.Response(text="<title>Fast</title>", content_type="text/html")

        async def heavy(request: web.Request) -> web.Response:
            return web.Response(body=HEAVY, content_type="text/html")

        app = web.Application()
        app.router.add_get("/slow", slow)
        app.router.add_get("/fast", fast)
        app.router.add_get("/heavy", heavy)
        return app


@pytest.fixture
async def site(aiohttp_server: Any) -> AsyncIterator[Site]:
    s = Site()
    s.server = await aiohttp_server(s.app())
    yield s
    s.release.set()


@pytest.fixture
def embed_client(aiohttp_client: Any, home: Path) -> Callable[[Embedder], Awaitable[TestClient]]:
    async def make(embedder: Embedder) -> TestClient:
        config = Config.from_env({"CONVOS_HOME": str(home), "CONVOS_SKIP_CONNECT": "1"})
        core = build_core(config)
        await core.load_settings()
        app = create_app(core, config)
        app[EMBEDDER] = embedder
        client = await aiohttp_client(app)
        await asyncio.wait_for(core.ready_event.wait(), 10)
        await register(client, "alice@example.com")
        core.settings.open_to_public = True
        return client

    return make


async def test_one_user_has_a_few_embeds_in_progress_then_429(embed_client: Any, anon: Any, site: Site) -> None:
    client = await embed_client(Embedder(allow_private=True))
    # 4 in progress and 16 waiting are alice's share; the 21st is refused at once.
    tasks = [asyncio.create_task(client.get("/api/embed", params={"url": site.url(f"/slow?n={i}")}))
             for i in range(21)]
    done, _ = await asyncio.wait(tasks, timeout=T, return_when=asyncio.FIRST_COMPLETED)
    assert len(done) == 1
    refused = done.pop().result()
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    body = await refused.json()
    assert body["errors"][0]["path"] == "/" and "Try again" in body["errors"][0]["message"]

    # bob is not in alice's line.
    bob = await anon(client)
    await register(bob, "bob@example.com")
    res = await asyncio.wait_for(bob.get("/api/embed", params={"url": site.url("/fast")}), T)
    assert (res.status, (await res.json())["title"]) == (200, "Fast")

    site.release.set()
    answers = await asyncio.wait_for(asyncio.gather(*tasks), T)
    assert sorted(res.status for res in answers) == [200] * 20 + [429]


async def test_the_parse_stops_with_the_504(embed_client: Any, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    times: dict[str, float] = {}
    finished = threading.Event()
    real = embed_module._parse_html

    def parse(*args: Any, **kwargs: Any) -> Any:
        times["started"] = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            times["finished"] = time.perf_counter()
            finished.set()

    t0 = time.perf_counter()
    whole = embed_module._parse_html(HEAVY, None)  # what a whole parse of this page takes here and now
    whole_parse = time.perf_counter() - t0
    assert whole.title == "" and whole_parse > 0.3
    monkeypatch.setattr(embed_module, "_parse_html", parse)
    client = await embed_client(Embedder(allow_private=True, limits=Limits(connect=5, total=0.35)))
    res = await client.get("/api/embed", params={"url": site.url("/heavy")})
    assert res.status == 504
    assert "started" in times, "the page was not fetched within the total limit; nothing to cancel"
    assert await asyncio.to_thread(finished.wait, T)
    # The parse ended with the request (within a piece), long before a whole parse would have.
    assert times["finished"] - times["started"] < 0.6 * whole_parse, (times, whole_parse)
