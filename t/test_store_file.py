"""The file store: JSON as the original writes it, atomic saves, modes, broken files, crashes."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import aiohttp
import pytest
from conftest import PERL_HOME, core_of, register

from convos.store.base import StoreError
from convos.store.file import FileStore, safe_segment
from convos.store.jsonfile import atomic_write, decode, encode


def test_encode_is_byte_compatible_with_the_original():
    for path in [PERL_HOME / "settings.json", PERL_HOME / "superman@example.com" / "user.json",
                 PERL_HOME / "superman@example.com" / "irc-localhost" / "connection.json",
                 PERL_HOME / "settings" / "connections" / "irc-example.json",
                 PERL_HOME / "superman@example.com" / "upload" / "5ab6PRU4un60r3zH.json"]:
        raw = path.read_bytes()
        assert encode(decode(raw)) == raw, path


def test_encode_escapes():
    assert encode({"b": "a/b", "a": "æ\u2028"}) == b'{"a":"\xc3\xa6\\u2028","b":"a\\/b"}'


def test_atomic_write_modes_and_no_leftovers(tmp_path):
    target = tmp_path / "a" / "b" / "x.json"
    atomic_write(target, b"{}")
    assert target.read_bytes() == b"{}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    atomic_write(target, b'{"v":2}')
    assert os.listdir(target.parent) == ["x.json"]


def test_safe_segment():
    assert safe_segment("a@b.c") == "a@b.c"
    for bad in ["", ".", "..", "../x@y", "a/b@c", ".hidden@x", "a\x00@b", "a\\b@c"]:
        with pytest.raises(StoreError):
            safe_segment(bad)


async def test_corrupt_user_is_skipped_and_never_overwritten(make_client, home, caplog, anon):
    (home / "broken@example.com").mkdir(parents=True)
    (home / "broken@example.com" / "user.json").write_bytes(b'{"email":"broken@exa')
    (home / "list@example.com").mkdir(parents=True)
    (home / "list@example.com" / "user.json").write_bytes(b"[1,2]")
    client = await make_client()
    assert "broken@example.com" in caplog.text
    core = core_of(client)
    assert core.get_user("broken@example.com") is None
    # The daemon serves everyone else: the first real user registers fine...
    await register(client, "superman@example.com")
    core.settings.open_to_public = True
    # ...and nobody can take over the broken account's directory.
    other = await anon(client)
    res = await other.post("/api/user/register", json={"email": "broken@example.com", "password": "longenough"})
    assert res.status == 401
    assert (home / "broken@example.com" / "user.json").read_bytes() == b'{"email":"broken@exa'


async def test_users_are_ordered_and_first_becomes_admin(home):
    from convos.config import Config
    from convos.core.core import Core

    for email, registered in [("b@example.com", "2020-01-02T00:00:00Z"), ("a@example.com", "2020-01-02T00:00:00Z"),
                              ("c@example.com", "2019-01-01T00:00:00Z")]:
        (home / email).mkdir(parents=True)
        (home / email / "user.json").write_text(json.dumps(
            {"email": email, "registered": registered, "uid": 1, "roles": [], "password": ""}))
    core = Core(FileStore(home), Config.from_env({"CONVOS_HOME": str(home)}))
    await core.start()
    assert [u.email for u in core.users] == ["c@example.com", "a@example.com", "b@example.com"]
    assert core.get_user("c@example.com").roles == ["admin"]
    assert core.get_user("a@example.com").uid == "1"  # numbers are read as strings
    assert decode((home / "c@example.com" / "user.json").read_bytes())["roles"] == ["admin"]


async def test_unknown_user_keys_survive_a_round_trip(client, home):
    await register(client, "superman@example.com")
    path = home / "superman@example.com" / "user.json"
    data = decode(path.read_bytes())
    data["future_key"] = {"x": 1}
    path.write_bytes(encode(data))
    from convos.config import Config
    from convos.core.core import Core

    core = Core(FileStore(home), Config.from_env({"CONVOS_HOME": str(home)}))
    await core.start()
    user = core.get_user("superman@example.com")
    user.highlight_keywords = ["x"]
    await core.save_user(user)
    assert decode(path.read_bytes())["future_key"] == {"x": 1}


async def test_two_hundred_concurrent_updates(client, home):
    await register(client, "superman@example.com")
    results = await asyncio.gather(*[
        client.post("/api/user/superman@example.com", json={"highlight_keywords": [f"word{i}"]})
        for i in range(200)
    ])
    assert all(r.status == 200 for r in results)
    data = decode((home / "superman@example.com" / "user.json").read_bytes())
    # The file holds the state of the last update the server applied.
    assert data["highlight_keywords"] == core_of(client).get_user("superman@example.com").highlight_keywords
    assert data["highlight_keywords"][0].startswith("word")
    leftovers = [n for n in os.listdir(home / "superman@example.com")
                 if n != "user.json" and not (home / "superman@example.com" / n).is_dir()]
    assert leftovers == []


async def test_kill_9_during_updates_leaves_parseable_files(daemon, tmp_path):
    home = tmp_path / "crash-home"
    d = await daemon(home)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(d.url, cookie_jar=jar) as http:
        res = await http.post("/api/user/register", json={"email": "superman@example.com", "password": "longenough"})
        assert res.status == 200

        async def hammer(i: int) -> None:
            try:
                await http.post("/api/user/superman@example.com",
                                json={"highlight_keywords": [f"w{i}"], "password": f"password{i:04d}"})
            except aiohttp.ClientError:
                pass

        tasks = [asyncio.create_task(hammer(i)) for i in range(200)]
        # Kill the daemon once it has acknowledged some of the updates.
        for done, fut in enumerate(asyncio.as_completed(tasks), 1):
            await fut
            if done == 20:
                break
        await d.stop(9)
        await asyncio.gather(*tasks, return_exceptions=True)
    data = decode((home / "superman@example.com" / "user.json").read_bytes())
    assert data["email"] == "superman@example.com"
    assert decode((home / "settings.json").read_bytes())["session_secrets"]
    # The daemon starts again on the same files.
    d2 = await daemon(home)
    async with aiohttp.ClientSession(d2.url) as http:
        res = await http.get("/api/user")
        assert res.status == 401
