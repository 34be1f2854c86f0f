"""A real terminal IRC client from Debian (catgirl, in tmux) attaches to the IRC listener of a real
daemon over TLS with SASL, sees #convos, a line typed in it reaches ngircd and the browser app
(Chromium), and after quitting it gets the line it missed when it attaches again. catgirl logs what it shows (-l), which is what the test reads.

Fixtures: `ui_daemon`, `page` (t/browser.py), `irc_client` (t/ircd.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from playwright.async_api import expect
from test_ui_chat import EMAIL, PASSWORD, log_of, register_first_user


def require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        msg = f"{binary} is not installed: run bin/convos-test as root, or apt-get install {binary}"
        if os.environ.get("CI"):
            pytest.fail(msg + "; CI is set, so this is an error, not a skip")
        pytest.skip(msg)
    return path


class Tmux:
    """One tmux server of its own (-L), so the test never touches anyone else's sessions."""

    def __init__(self, name: str) -> None:
        self.socket = name

    async def run(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            require("tmux"), "-L", self.socket, *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
        return out.decode(errors="replace")

    async def keys(self, *keys: str) -> None:
        await self.run("send-keys", "-t", "client", *keys)

    async def screen(self) -> str:
        return await self.run("capture-pane", "-p", "-t", "client")


@pytest.fixture
async def tmux() -> AsyncIterator[Tmux]:
    t = Tmux(f"convos-test-{os.getpid()}-{free_port()}")
    yield t
    await t.run("kill-server")


async def wait_for_text(path_glob: tuple[Path, str], text: str, tmux: Tmux, timeout: float = 30) -> str:
    """Wait until a file under `path_glob` (catgirl's logs) contains `text`; its content."""
    base, pattern = path_glob
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for path in base.glob(pattern):
            content = path.read_text(errors="replace")
            if text in content:
                return content
        if loop.time() > deadline:
            found = {str(p): p.read_text(errors="replace") for p in base.glob("**/*") if p.is_file()}
            raise AssertionError(f"{text!r} not in catgirl's logs {found}; screen:\n{await tmux.screen()}")
        await asyncio.sleep(0.1)  # polling a file another process writes, with a deadline


async def wait_for_screen(tmux: Tmux, text: str, timeout: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in await tmux.screen():
        assert loop.time() < deadline, f"{text!r} not on the screen:\n{await tmux.screen()}"
        await asyncio.sleep(0.1)  # polling another process's screen, with a deadline


async def wait_for_file(path: Path, text: str, timeout: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in (path.read_text() if path.exists() else ""):
        assert loop.time() < deadline, f"{text!r} not in {path}"
        await asyncio.sleep(0.1)  # polling a file the daemon writes, with a deadline


async def test_catgirl_over_tls_with_sasl(ui_daemon: Any, page: Any, irc_client: Any, tmux: Tmux,
                                          tmp_path: Path) -> None:
    catgirl = require("catgirl")
    port = free_port()
    home = tmp_path / "ui-home"
    d = await ui_daemon(home, env={"CONVOS_IRC_LISTEN": f"ircs://127.0.0.1:{port}"})
    await register_first_user(page, d.url)
    await expect(page).to_have_url(re.compile(r"/chat/irc-localhost/%23convos$"))
    jimmy = await irc_client("jimmy")
    await jimmy.join("#convos")

    data = tmp_path / "catgirl-data"
    config = tmp_path / "catgirl-config"
    config.mkdir()
    (data / "catgirl" / "log").mkdir(parents=True)  # it makes the files, not the directories
    command = " ".join([
        f"XDG_DATA_HOME={data}", f"XDG_CONFIG_HOME={config}", "TERM=xterm",
        catgirl, "-h", "127.0.0.1", "-p", str(port), "-t", str(home / "listen" / "server-cert.pem"),
        "-a", f"'{EMAIL}/irc-localhost@laptop:{PASSWORD}'", "-n", "superman", "-l",
        # When it ends, the pane stays to show why (the tmux server goes at the end of the test).
        "; echo catgirl exited $?; sleep 600",
    ])
    await tmux.run("new-session", "-d", "-s", "client", "-x", "160", "-y", "40", command)
    logs = (data / "catgirl" / "log", "**/*.log")

    # Attached: catgirl is in #convos (the listener's JOIN burst) and shows what the network says.
    await wait_for_text(logs, "superman arrives in #convos", tmux)
    await jimmy.privmsg("#convos", "hello catgirl")
    content = await wait_for_text(logs, "hello catgirl", tmux)
    assert "jimmy" in content

    # A line typed in catgirl: on ngircd, and in the browser.
    await tmux.keys("/window #convos", "Enter")
    await tmux.keys("typed in catgirl", "Enter")
    got = await jimmy.expect(lambda m: m.command == "PRIVMSG" and m.text == "typed in catgirl", 20)
    assert got.nick == "superman" and got.params[0] == "#convos"
    line = log_of(page).locator(".msg", has_text="typed in catgirl")
    await expect(line).to_be_visible()
    await expect(line.locator(".msg__from")).to_have_text("superman")

    # catgirl quits (the connection stays), misses a line, and gets it when it comes back: it has
    # no draft/chathistory, so the listener replays what "laptop" missed.
    await tmux.keys("/quit", "Enter")
    await wait_for_screen(tmux, "catgirl exited")
    # The listener has let it go once it wrote down where "laptop" got to (a line relayed to a
    # client that is still closing counts as sent).
    await wait_for_file(home / EMAIL / "user.json", '"irc-localhost\\/laptop"')
    await jimmy.privmsg("#convos", "said while catgirl was away")
    await expect(log_of(page).get_by_text("said while catgirl was away")).to_be_visible()
    # A second session (killing the only one would stop the tmux server under the new one).
    await tmux.run("new-session", "-d", "-s", "again", "-x", "160", "-y", "40", command)
    content = await wait_for_text(logs, "said while catgirl was away", tmux)
    assert content.count("said while catgirl was away") == 1
