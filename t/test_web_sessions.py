"""Sessions can be revoked: logout ends one, a password change, "log out everywhere" and deleting
the user end all of them; an old cookie never comes back (issue 10, item 2)."""

from __future__ import annotations

from typing import Any

import aiohttp
from conftest import PERL_HOME, core_of, register
from test_web_events import connect, recv, recv_close

from convos.store.jsonfile import decode

EMAIL = "superman@example.com"
PASSWORD = "longenough"


def cookie_of(res: Any) -> str:
    """The session cookie a response set."""
    morsel = res.cookies.get("convos")
    assert morsel is not None and morsel.value, dict(res.headers)
    return morsel.value


async def status_with(client: Any, cookie: str) -> int:
    """GET /api/user with exactly this cookie, in a fresh browser."""
    async with aiohttp.ClientSession(base_url=str(client.make_url("/"))) as s:
        res = await s.get("/api/user", headers={"Cookie": f"convos={cookie}"})
        return res.status


async def login_session(client: Any, anon: Any, email: str = EMAIL, password: str = PASSWORD) -> tuple[Any, str]:
    """Another browser logged in as `email`: (session, its cookie)."""
    s = await anon(client)
    res = await s.post("/api/user/login", json={"email": email, "password": password})
    assert res.status == 200, await res.text()
    return s, cookie_of(res)


async def logout(s: Any, path: str = "/api/user/logout") -> None:
    res = await s.get("/")
    csrf = (await res.text()).split('<meta name="csrf" content="', 1)[1].split('"', 1)[0]
    res = await s.get(path, params={"csrf": csrf}, allow_redirects=False)
    assert res.status == 302, await res.text()


async def test_logout_ends_this_session_and_not_the_others(client: Any, anon: Any) -> None:
    await register(client, EMAIL)
    first, first_cookie = await login_session(client, anon)
    second, second_cookie = await login_session(client, anon)
    # `first` keeps a copy of its cookie and logs out.
    await logout(first)
    # The copy of the logged-out cookie is refused, even though it has not expired.
    assert await status_with(client, first_cookie) == 401
    # Every other session of the same user goes on.
    assert await status_with(client, second_cookie) == 200
    assert (await second.get("/api/user")).status == 200
    assert (await client.get("/api/user")).status == 200


async def test_the_logout_page_ends_the_session_too(client: Any, anon: Any) -> None:
    await register(client, EMAIL)
    s, cookie = await login_session(client, anon)
    await logout(s, "/logout")
    assert await status_with(client, cookie) == 401
    assert (await client.get("/api/user")).status == 200


async def test_password_change_needs_the_current_password_and_ends_the_other_sessions(
        client: Any, anon: Any, home: Any) -> None:
    await register(client, EMAIL)
    other, other_cookie = await login_session(client, anon)
    url = f"/api/user/{EMAIL}"
    res = await client.post(url, json={"password": "brandnewpassword"})
    assert res.status == 400
    assert (await res.json())["errors"][0]["path"] == "/body/current_password"
    res = await client.post(url, json={"password": "brandnewpassword", "current_password": "wrongpassword"})
    assert res.status == 400
    assert (await res.json())["errors"] == [{"message": "Invalid current password.", "path": "/body/current_password"}]
    assert (await other.get("/api/user")).status == 200  # nothing changed yet
    res = await client.post(url, json={"password": "brandnewpassword", "current_password": PASSWORD,
                                       "highlight_keywords": ["kryptonite"]})
    assert res.status == 200, await res.text()
    new_cookie = cookie_of(res)
    # The session that changed it stays logged in with a new cookie; every other one is over.
    assert (await client.get("/api/user")).status == 200
    assert await status_with(client, new_cookie) == 200
    assert await status_with(client, other_cookie) == 401
    assert (await other.get("/api/user")).status == 401
    res = await (await anon(client)).post("/api/user/login", json={"email": EMAIL, "password": "brandnewpassword"})
    assert res.status == 200
    stored = decode((home / EMAIL / "user.json").read_bytes())
    assert stored["highlight_keywords"] == ["kryptonite"]
    assert isinstance(stored["sessions"]["generation"], str)


async def test_admin_changes_another_users_password_without_hers(client: Any, anon: Any) -> None:
    await register(client, EMAIL)
    core_of(client).settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    res = await client.post("/api/user/lois@example.com", json={"password": "chosenbyadmin"})
    assert res.status == 200, await res.text()
    assert (await lois.get("/api/user")).status == 401
    assert (await client.get("/api/user")).status == 200
    # Lois herself needs her current password, like everyone changing their own.
    lois, _ = await login_session(client, anon, "lois@example.com", "chosenbyadmin")
    res = await lois.post("/api/user/lois@example.com", json={"password": "loisownpassword"})
    assert res.status == 400


async def test_recovery_link_ends_every_session_and_logs_in(client: Any, anon: Any) -> None:
    await register(client, EMAIL)
    _other, other_cookie = await login_session(client, anon)
    inv = core_of(client).invite(EMAIL)
    fresh = await anon(client)
    res = await fresh.post("/api/user/register", json={"password": "recoveredpassword", **inv.query()})
    assert res.status == 200, await res.text()
    assert (await fresh.get("/api/user")).status == 200
    assert await status_with(client, other_cookie) == 401
    assert (await client.get("/api/user")).status == 401


async def test_log_out_everywhere(client: Any, anon: Any) -> None:
    await register(client, EMAIL)
    other, other_cookie = await login_session(client, anon)
    ws = await connect(other)
    res = await client.delete("/api/user/sessions")
    assert res.status == 200, await res.text()
    assert (await client.get("/api/user")).status == 401
    assert await status_with(client, other_cookie) == 401
    # The open websocket of an ended session is closed (1008: the app does not reconnect).
    assert await recv_close(ws) == 1008
    res = await client.delete("/api/user/sessions")
    assert res.status == 401


async def test_logout_closes_the_websocket_of_that_session_only(client: Any, anon: Any) -> None:
    await register(client, EMAIL)
    other, other_cookie = await login_session(client, anon)
    mine = await connect(client)
    theirs = await connect(other)
    await logout(other)
    assert await recv_close(theirs) == 1008
    await mine.send_json({"method": "ping", "id": "still"})
    assert (await recv(mine))["id"] == "still"
    # The ended cookie cannot open a new socket either.
    async with aiohttp.ClientSession(base_url=str(client.make_url("/"))) as s:
        ws = await s.ws_connect("/events", headers={"Cookie": f"convos={other_cookie}"})
        assert (await recv(ws))["event"] == "handshake"
        assert await recv_close(ws) == 1008


async def test_password_change_keeps_this_sessions_websocket(client: Any, anon: Any) -> None:
    await register(client, EMAIL)
    other, _ = await login_session(client, anon)
    mine = await connect(client)
    theirs = await connect(other)
    res = await client.post(f"/api/user/{EMAIL}", json={"password": "brandnewpassword", "current_password": PASSWORD})
    assert res.status == 200
    assert await recv_close(theirs) == 1008
    await mine.send_json({"method": "ping", "id": "still"})
    assert (await recv(mine))["id"] == "still"


async def test_a_recreated_user_does_not_take_the_deleted_users_cookies(client: Any, anon: Any) -> None:
    await register(client, EMAIL)
    core_of(client).settings.open_to_public = True
    lois = await anon(client)
    res = await lois.post("/api/user/register", json={"email": "lois@example.com", "password": PASSWORD})
    lois_cookie = cookie_of(res)
    ws = await connect(lois)
    res = await client.delete("/api/user/lois@example.com")
    assert res.status == 200
    assert await recv_close(ws) is not None
    again = await anon(client)
    await register(again, "lois@example.com")
    assert await status_with(client, lois_cookie) == 401
    assert (await again.get("/api/user")).status == 200


async def test_sessions_survive_a_restart_and_8_07_users_load(make_client: Any, perl_home: Any, anon: Any) -> None:
    before = (perl_home / "lois@example.com" / "user.json").read_bytes()
    client = await make_client(home_dir=perl_home)
    _s, cookie = await login_session(client, anon, "lois@example.com", "loissecret1")
    after = decode((perl_home / "lois@example.com" / "user.json").read_bytes())
    # Only the new key was added; every 8.07 key is as it was.
    assert {k: v for k, v in after.items() if k != "sessions"} == decode(before)
    assert set(after["sessions"]) == {"generation", "revoked"}
    assert (PERL_HOME / "lois@example.com" / "user.json").read_bytes() == before
    await client.close()
    client = await make_client(home_dir=perl_home)
    assert await status_with(client, cookie) == 200


async def test_revoked_list_is_bounded(client: Any, anon: Any, monkeypatch: Any) -> None:
    from convos.core import sessions

    monkeypatch.setattr(sessions, "MAX_REVOKED", 3)
    await register(client, EMAIL)
    user = core_of(client).get_user(EMAIL)
    _keep, keep_cookie = await login_session(client, anon)
    for _ in range(3):
        s, _cookie = await login_session(client, anon)
        await logout(s)
        assert await status_with(client, keep_cookie) == 200
    assert len(user.sessions.revoked) == 3
    # One more than the list holds: every session ends instead of forgetting a revoked one.
    s, _cookie = await login_session(client, anon)
    await logout(s)
    assert await status_with(client, keep_cookie) == 401
    assert user.sessions.revoked == {}
