"""The `convos` command: help, version, recover, and the daemon as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ROOT

from convos.cli import parse_listen

CONVOS = [sys.executable, str(ROOT / "bin" / "convos")]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CONVOS, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_help_on_every_command():
    for args in [(), ("--help",), ("daemon", "--help"), ("recover", "--help"), ("version", "--help")]:
        res = run(*args)
        assert res.returncode == 0, args
        assert "usage: convos" in res.stdout, args
    assert "--listen" in run("daemon", "--help").stdout


def test_version():
    res = run("version")
    assert res.returncode == 0
    assert re.search(r"Convos\s+\d+\.\d+", res.stdout)
    assert "aiohttp" in res.stdout


def test_bad_listen_url():
    res = run("daemon", "--listen", "ftp://*:21", env={"CONVOS_HOME": "/nonexistent-never-created"})
    assert res.returncode == 2
    assert "Unsupported listen URL" in res.stderr


def test_parse_listen():
    assert parse_listen("http://*:3000") == (None, 3000, None)
    assert parse_listen("http://127.0.0.1:8080") == ("127.0.0.1", 8080, None)
    assert parse_listen("http://[::1]:3000") == ("::1", 3000, None)
    with pytest.raises(ValueError):
        parse_listen("https://*:3443")


async def test_daemon_register_login_and_sigterm(daemon, tmp_path):
    """The README's promise: register -> login -> GET /api/user with curl, then a clean stop."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    d = await daemon(tmp_path / "home")
    jar = tmp_path / "cookies.txt"

    async def curl(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            "curl", "-s", "-b", str(jar), "-c", str(jar), "-w", "\n%{http_code}", *args,
            stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        body, _, code = out.decode().rpartition("\n")
        return int(code), body

    payload = json.dumps({"email": "superman@example.com", "password": "longenough"})
    code, body = await curl("-H", "Content-Type: application/json", "-d", payload, d.url + "/api/user/register")
    assert code == 200, body
    jar.unlink()
    code, body = await curl(d.url + "/api/user")
    assert code == 401
    code, body = await curl("-H", "Content-Type: application/json", "-d", payload, d.url + "/api/user/login")
    assert code == 200, body
    code, body = await curl(d.url + "/api/user")
    assert code == 200
    assert json.loads(body)["email"] == "superman@example.com"
    assert await d.stop(15) == 0
    assert "Shutting down" in d.output()


async def test_daemon_stops_on_sigint(daemon, tmp_path):
    d = await daemon(tmp_path / "home")
    assert await d.stop(2) == 0


async def test_recover_prints_a_working_link(daemon, tmp_path):
    import aiohttp

    home = tmp_path / "home"
    d = await daemon(home)
    async with aiohttp.ClientSession(d.url) as http:
        res = await http.post("/api/user/register", json={"email": "superman@example.com", "password": "longenough"})
        assert res.status == 200
    proc = await asyncio.create_subprocess_exec(
        *CONVOS, "recover", "superman@example.com", env={**os.environ, "CONVOS_HOME": str(home)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err
    text = out.decode()
    assert text.startswith("---\nExisting: 1\nExpires: ")
    url = re.search(r"URL: (\S+)", text).group(1)
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert q["email"] == "superman@example.com"
    async with aiohttp.ClientSession(d.url) as http:
        res = await http.post("/api/user/register", json={**q, "password": "recoveredpass"})
        assert res.status == 200, await res.text()
        res = await http.post("/api/user/login", json={"email": "superman@example.com", "password": "recoveredpass"})
        assert res.status == 200


def test_recover_never_writes(tmp_path):
    home = tmp_path / "home"
    res = run("recover", "a@example.com", env={"CONVOS_HOME": str(home)})
    assert res.returncode == 1
    assert "start the daemon once first" in res.stderr
    assert not (home / "settings.json").exists()


def test_recover_refuses_unreadable_user(perl_home):
    (perl_home / "lois@example.com" / "user.json").write_text("{broken")
    before = (perl_home / "settings.json").read_bytes()
    res = run("recover", "lois@example.com", env={"CONVOS_HOME": str(perl_home)})
    assert res.returncode == 1
    assert "cannot be read" in res.stderr
    res = run("recover", "superman@example.com", env={"CONVOS_HOME": str(perl_home)})
    assert res.returncode == 0
    assert "Existing: 1" in res.stdout
    assert (perl_home / "settings.json").read_bytes() == before


def test_daemon_refuses_corrupt_settings(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text('{"base_url": ')
    res = run("daemon", "--listen", "http://127.0.0.1:1", env={"CONVOS_HOME": str(home), "CONVOS_NO_ROOT_WARNING": "1"})
    assert res.returncode == 1
    assert "cannot read" in res.stderr
    assert (home / "settings.json").read_text() == '{"base_url": '
