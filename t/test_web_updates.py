"""checkForUpdates against a local stand-in for the release index (spec §4.11)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from argon2 import PasswordHasher
from conftest import free_port, register

from convos import __version__
from convos.config import Config
from convos.core import passwords
from convos.web import updates
from convos.web.keys import UPDATE_CHECKER
from convos.web.updates import FAILURE_TTL, SUCCESS_TTL, parse_version, version_number

RUNNING = version_number(parse_version(__version__) or (0, 0, 0))


@dataclass
class ReleaseIndex:
    """What the fake index answers, and what it saw."""

    body: bytes = b'{"info": {"version": "99.1.2"}}'
    status: int = 200
    hang: bool = False
    requests: list[dict[str, str]] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""


@pytest.fixture
async def index(aiohttp_server: Any) -> ReleaseIndex:
    state = ReleaseIndex()

    async def handler(request: web.Request) -> web.StreamResponse:
        state.requests.append(dict(request.headers))
        try:
            if state.hang:
                await state.release.wait()  # never set: only the client giving up ends this
            return web.Response(body=state.body, status=state.status, content_type="application/json")
        finally:
            state.ended.set()  # the test server cancels the handler when the client hangs up

    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/pypi/convos/json")

    app = web.Application()
    app.router.add_get("/pypi/convos/json", handler)
    app.router.add_get("/moved", moved)
    server = await aiohttp_server(app)
    state.url = str(server.make_url("/pypi/convos/json"))
    return state


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real Argon2id with cheap parameters: each test logs in once, and passwords are not the point here.
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def logged_in(make_client: Any, url: str, **env: str) -> Any:
    client = await make_client({"CONVOS_UPDATE_URL": url, **env})
    await register(client, "superman@example.com")
    return client


async def check(client: Any) -> dict[str, Any]:
    res = await client.get("/api/check-for-updates")
    assert res.status == 200
    return await res.json()


def test_versions_become_ordered_numbers():
    assert parse_version("0.1.0") == (0, 1, 0)
    assert parse_version("8.07") == (8, 7, 0)
    assert parse_version("v2") == (2, 0, 0)
    assert parse_version(" 1.2.3.post1 ") == (1, 2, 3)
    for bad in ["", "1.2.3rc1", "1.0.0a1", "1.0.dev3", "latest", "1.2.3.4", None, 3, "1." + "9" * 50]:
        assert parse_version(bad) is None, bad
    assert version_number((8, 7, 0)) == 8.07
    assert version_number((0, 1, 0)) == 0.01
    assert version_number((1, 2, 3)) == 1.0203
    ordered = ["0.1.0", "0.1.1", "0.1.10", "0.2.0", "0.10.0", "0.99.99", "1.0.0", "8.07", "10.0.1"]
    numbers = [version_number(parse_version(v)) for v in ordered]  # type: ignore[arg-type]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_config_reads_the_url():
    assert Config.from_env({"CONVOS_HOME": "/x"}).update_url == ""
    assert Config.from_env({"CONVOS_HOME": "/x", "CONVOS_UPDATE_URL": " https://pypi.org/pypi/x/json "}).update_url \
        == "https://pypi.org/pypi/x/json"


async def test_needs_login(make_client, index):
    client = await make_client({"CONVOS_UPDATE_URL": index.url})
    res = await client.get("/api/check-for-updates")
    assert res.status == 401
    assert (await res.json())["errors"][0]["message"] == "Need to log in first."
    assert index.requests == []


async def test_disabled_by_default(make_client):
    client = await logged_in(make_client, "")
    assert await check(client) == {"check": "off", "running": RUNNING, "running_version": __version__}


async def test_newer_release(make_client, index):
    client = await logged_in(make_client, index.url)
    body = await check(client)
    assert body == {"check": "done", "running": RUNNING, "running_version": __version__,
                    "available": 99.0102, "available_version": "99.1.2"}
    assert len(index.requests) == 1
    headers = index.requests[0]
    assert headers["X-Convos-Version"] == __version__
    assert headers["User-Agent"].startswith(f"Convos/{__version__}")
    assert "Cookie" not in headers
    # .json suffix, and the cache: the index is asked once.
    res = await client.get("/api/check-for-updates.json")
    assert (await res.json())["available_version"] == "99.1.2"
    assert len(index.requests) == 1


async def test_older_or_equal_release_reports_the_running_version(make_client, index):
    index.body = b'{"info": {"version": "0.0.1"}, "releases": {}}'
    client = await logged_in(make_client, index.url)
    assert await check(client) == {"check": "done", "running": RUNNING, "running_version": __version__,
                                   "available": RUNNING, "available_version": __version__}


async def test_follows_a_redirect(make_client, index):
    client = await logged_in(make_client, index.url.replace("/pypi/convos/json", "/moved"))
    assert (await check(client))["available_version"] == "99.1.2"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 200),
        (b"<html>Bad gateway</html>", 200),
        (b'{"info": {"version": "99.0.0"}}', 500),
        (b'{"info": {"version": "99.0.0"}}', 404),
        (b'["info", "version"]', 200),
        (b'{"info": {"version": 99}}', 200),
        (b'{"info": "99.0.0"}', 200),
        (b'{"info": {"version": "99.0.0rc1"}}', 200),
        (b'{"info": {"version": "' + b"9" * 100 + b'"}}', 200),
        (b"\xff\xfe\x00", 200),
        (b"", 200),
        (b'{"info": {"version": "99.0.0"}, "pad": "' + b"x" * (updates.MAX_BODY + 10) + b'"}', 200),
    ],
    ids=["bad-json", "html", "http-500", "http-404", "array", "number-version", "string-info", "pre-release",
         "huge-number", "binary", "empty", "too-large"],
)
async def test_a_broken_answer_means_unknown(make_client, index, caplog, body, status):
    index.body, index.status = body, status
    client = await logged_in(make_client, index.url)
    with caplog.at_level(logging.INFO, logger="convos.web.updates"):
        assert await check(client) == {"check": "failed", "running": RUNNING, "running_version": __version__}
    assert len(index.requests) == 1
    assert "Update check at" in caplog.text


async def test_top_level_version_is_accepted(make_client, index):
    index.body = b'{"version": "99.0.0"}'
    client = await logged_in(make_client, index.url)
    assert (await check(client))["available"] == 99.0


async def test_a_hanging_index_is_given_up_on(make_client, index):
    index.hang = True
    client = await logged_in(make_client, index.url)
    client.server.app[UPDATE_CHECKER].timeout = 0.3
    body = await check(client)
    assert body == {"check": "failed", "running": RUNNING, "running_version": __version__}
    # The lookup was abandoned, not left running: the index saw the request end.
    await asyncio.wait_for(index.ended.wait(), 5)
    assert len(index.requests) == 1


async def test_no_network(make_client):
    # Nothing listens on this port: the connection is refused at once.
    client = await logged_in(make_client, f"http://127.0.0.1:{free_port()}/pypi/convos/json")
    assert await check(client) == {"check": "failed", "running": RUNNING, "running_version": __version__}


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "not a url", "http://", "file:///etc/passwd", "http://[::1"])
async def test_odd_urls_mean_unknown(make_client, url):
    client = await logged_in(make_client, url)
    assert await check(client) == {"check": "failed", "running": RUNNING, "running_version": __version__}


async def test_cache_lifetimes(make_client, index):
    index.body = b"garbage"
    client = await logged_in(make_client, index.url)
    clock = client.server.app[UPDATE_CHECKER].clock = Clock()
    assert "available" not in await check(client)
    index.body = b'{"info": {"version": "99.0.0"}}'
    clock.now += FAILURE_TTL - 1
    assert "available" not in await check(client)  # a failure is remembered for a while
    assert len(index.requests) == 1
    clock.now += 2
    assert (await check(client))["available_version"] == "99.0.0"
    assert len(index.requests) == 2
    index.body = b'{"info": {"version": "99.5.0"}}'
    clock.now += SUCCESS_TTL - 1
    assert (await check(client))["available_version"] == "99.0.0"
    clock.now += 2
    assert (await check(client))["available_version"] == "99.5.0"
    assert len(index.requests) == 3


async def test_concurrent_requests_share_one_lookup(make_client, index):
    client = await logged_in(make_client, index.url)
    bodies = await asyncio.gather(*(check(client) for _ in range(10)))
    assert {b["available_version"] for b in bodies} == {"99.1.2"}
    assert len(index.requests) == 1
