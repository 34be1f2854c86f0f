"""Shared fixtures: a CONVOS_HOME per test, an app client, and a real daemon process."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from convos.cli import build_app, build_core
from convos.config import Config
from convos.web.keys import CORE, WEBHOOKS

# IRC fixtures: ircd, ircd_factory, irc_client (t/ircd.py) and irc_peer (t/irc_peer.py); the IRC
# listener's: convos and native (t/listen_client.py).
# push_stub: the local push service of the Web Push tests and its fixtures.
# irc_peer must come first: ircd imports it, and pytest must load it first to rewrite its asserts.
pytest_plugins = ["irc_peer", "ircd", "browser", "push_stub", "slapd", "oidc_idp", "listen_client"]

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
PERL_HOME = DATA / "perl-8.07-home"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "convos-home"


def copy_home(src: Path, dst: Path) -> Path:
    """Copy a read-only fixture home and make the copy writable, as a real install would be."""
    shutil.copytree(src, dst)
    for dirpath, _dirs, filenames in os.walk(dst):
        os.chmod(dirpath, 0o700)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o600)
    return dst


@pytest.fixture
def perl_home(tmp_path: Path) -> Path:
    if not PERL_HOME.is_dir():
        pytest.fail(f"missing compatibility fixture {PERL_HOME}")
    return copy_home(PERL_HOME, tmp_path / "perl-home")


MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(aiohttp_client: Any, home: Path) -> MakeClient:
    """Build a core + app on a home directory and return an aiohttp test client."""

    async def make(env: dict[str, str] | None = None, *, home_dir: Path | None = None, **overrides: Any) -> TestClient:
        # The tests' IRC servers (ngircd, the scripted peer) listen on 127.0.0.1, which users may
        # not reach by default: allowed here explicitly. Tests of that guard pass "0".
        base_env = {"CONVOS_HOME": str(home_dir or home), "CONVOS_SKIP_CONNECT": "1", "CONVOS_IRC_ALLOW_PRIVATE": "1"}
        base_env.update(env or {})
        config = Config.from_env(base_env, **overrides)
        core = build_core(config)
        await core.load_settings()
        app = build_app(core, config)  # as the daemon builds it: with the bot when CONVOS_BOT_EMAIL is set
        client = await aiohttp_client(app)
        await asyncio.wait_for(core.ready_event.wait(), 10)
        return client

    return make


@pytest.fixture
async def client(make_client: MakeClient) -> TestClient:
    return await make_client()


@pytest.fixture
async def anon() -> AsyncIterator[Callable[..., Awaitable[aiohttp.ClientSession]]]:
    """More browsers on the same server, each with its own cookie jar."""
    sessions: list[aiohttp.ClientSession] = []

    async def make(on: TestClient) -> aiohttp.ClientSession:
        base = str(on.make_url("/"))
        s = aiohttp.ClientSession(base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        await s.close()


def core_of(client: TestClient) -> Any:
    return client.server.app[CORE]


def bot_of(client: TestClient) -> Any:
    """The bot cli.build_app wired beside the core (it takes the app's webhooks)."""
    return client.server.app[WEBHOOKS]


async def register(client: TestClient, email: str, password: str = "longenough", **extra: Any) -> dict[str, Any]:
    res = await client.post("/api/user/register", json={"email": email, "password": password, **extra})
    body = await res.json()
    assert res.status == 200, body
    return body


async def csrf_of(client: TestClient) -> str:
    res = await client.get("/")
    text = await res.text()
    match = re.search(r'<meta name="csrf" content="([^"]+)"', text)
    assert match, text
    return match.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Daemon:
    """`bin/convos daemon` as a real process, on a free port on 127.0.0.1."""

    def __init__(self, home: Path, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "CONVOS_HOME": str(home), "CONVOS_LOG_LEVEL": "info",
                    "CONVOS_SKIP_CONNECT": "1", "CONVOS_NO_ROOT_WARNING": "1",
                    "CONVOS_IRC_ALLOW_PRIVATE": "1",  # the test IRC servers are on 127.0.0.1 (see make_client)
                    **(env or {})}
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._ready = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 20) -> Daemon:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bin" / "convos"), "daemon", "--listen", self.url,
            env=self.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"daemon did not become ready: {self.output()}") from None
        return self

    async def _read(self) -> None:
        assert self.proc and self.proc.stdout
        async for raw in self.proc.stdout:
            line = raw.decode(errors="replace")
            self.lines.append(line)
            # Both lines are printed once the port is open and the users are loaded.
            if ("Core ready" in line and any("Web application available" in x for x in self.lines)) or ("Web application available" in line and any("Core ready" in x for x in self.lines)):
                self._ready.set()
        self._ready.set()  # the process ended; start() then fails on the first request

    def output(self) -> str:
        return "".join(self.lines)

    async def stop(self, sig: int = 15, timeout: float = 10) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader:
            await asyncio.wait_for(self._reader, timeout)
        return code


@pytest.fixture
async def daemon(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Daemon]]]:
    started: list[Daemon] = []

    async def start(home: Path | None = None, env: dict[str, str] | None = None) -> Daemon:
        d = Daemon(home or tmp_path / "daemon-home", env)
        started.append(d)
        return await d.start()

    yield start
    for d in started:
        if d.proc and d.proc.returncode is None:
            await d.stop(9)
