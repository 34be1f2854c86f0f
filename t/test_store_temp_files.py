"""Temp files a killed daemon leaves behind (`.*.swap`, `.upload-*.part`) are removed at start."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
from test_cli import CONVOS

from convos.store.jsonfile import remove_temp_files


def leftovers(home: Path) -> list[Path]:
    """What `atomic_write` and an upload leave when the process dies between creating and renaming."""
    user = home / "superman@example.com"
    paths = [home / ".settings.json.k2j3h4.swap", home / "settings" / "connections" / ".irc-x.json.abc.swap",
             user / ".user.json.x8y9.swap", user / "irc-localhost" / ".connection.json.q1w2.swap",
             user / "upload" / ".upload-zz99.part", user / "upload" / ".abc.json.r5t6.swap"]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b'{"half')
    return paths


def test_remove_temp_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    temps = leftovers(home)
    kept = [home / "settings.json", home / "superman@example.com" / "irc-localhost" / "2024" / "03" / ".x.swap",
            home / "superman@example.com" / "upload" / "abc.json", home / "superman@example.com" / "notes.swap"]
    for path in kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"{}")
    assert sorted(remove_temp_files(home)) == sorted(temps)
    assert [p for p in temps if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    assert remove_temp_files(tmp_path / "nowhere") == []


async def test_the_daemon_removes_them_at_start_and_recover_does_not(daemon, tmp_path: Path) -> None:
    home = tmp_path / "home"
    d = await daemon(home)
    async with aiohttp.ClientSession(d.url) as http:
        res = await http.post("/api/user/register", json={"email": "superman@example.com", "password": "longenough"})
        assert res.status == 200
    await d.stop(signal.SIGKILL)
    temps = leftovers(home)
    # `recover` may run next to a daemon: it never removes a temp file a save is writing.
    proc = await asyncio.create_subprocess_exec(*CONVOS, "recover", "superman@example.com",
                                                env={**os.environ, "CONVOS_HOME": str(home)},
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    await proc.communicate()
    assert proc.returncode == 0
    assert all(p.exists() for p in temps)
    again = await daemon(home)
    assert [p for p in temps if p.exists()] == []
    assert "Removed 6 temp files" in again.output()
