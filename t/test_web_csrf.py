"""Requests from other sites cannot act as the user: JSON bodies need `Content-Type:
application/json`, and state changes need our own Origin or Referer (issue 10, item 3)."""

from __future__ import annotations

from typing import Any

import orjson
from conftest import core_of, csrf_of, register

EMAIL = "superman@example.com"
PASSWORD = "longenough"


def own_origin(client: Any) -> str:
    return str(client.make_url("/")).rstrip("/")


async def test_json_bodies_need_the_json_content_type(client: Any) -> None:
    body = orjson.dumps({"email": EMAIL, "password": PASSWORD})
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""):
        res = await client.post("/api/user/register", data=body, headers={"Content-Type": ctype})
        assert res.status == 415, ctype
        assert await res.json() == {"errors": [{"message": "Expected Content-Type: application/json.",
                                                "path": "/Content-Type"}]}
    assert core_of(client).users == []
    res = await client.post("/api/user/register", data=body,
                            headers={"Content-Type": "Application/JSON; charset=utf-8"})
    assert res.status == 200, await res.text()
    # A text/plain login (what a cross-site form can send) is refused before any password check.
    res = await client.post("/api/user/login", data=body, headers={"Content-Type": "text/plain"})
    assert res.status == 415
    # An operation without a body is not affected.
    res = await client.post("/api/user/login", headers={"Content-Type": "text/plain"})
    assert res.status == 400


async def test_foreign_origin_cannot_change_anything(client: Any) -> None:
    await register(client, EMAIL)
    url = f"/api/user/{EMAIL}"
    change = {"highlight_keywords": ["pwned"]}
    port = client.make_url("/").port
    for origin in ("http://evil.example", f"http://127.0.0.1:{port + 1}", f"https://127.0.0.1:{port}",
                   f"http://sub.127.0.0.1:{port}", "null", "garbage"):
        res = await client.post(url, json=change, headers={"Origin": origin})
        assert res.status == 403, origin
        assert await res.json() == {"errors": [{"message": "Invalid Origin.", "path": "/Origin"}]}
        res = await client.delete(url, headers={"Origin": origin})
        assert res.status == 403, origin
    # Without Origin, the Referer decides.
    res = await client.post(url, json=change, headers={"Referer": "http://evil.example/attack.html"})
    assert res.status == 403
    assert core_of(client).get_user(EMAIL).highlight_keywords == []
    res = await client.post(url, json=change, headers={"Origin": own_origin(client)})
    assert res.status == 200
    res = await client.post(url, json={"highlight_keywords": ["b"]},
                            headers={"Referer": own_origin(client) + "/settings/account"})
    assert res.status == 200
    # Neither header: curl, scripts and API clients keep working.
    res = await client.post(url, json={"highlight_keywords": ["c"]})
    assert res.status == 200
    assert core_of(client).get_user(EMAIL).highlight_keywords == ["c"]
    # Reading is not a state change.
    res = await client.get("/api/user", headers={"Origin": "http://evil.example"})
    assert res.status == 200


async def test_login_csrf_is_refused(client: Any, anon: Any) -> None:
    await register(client, EMAIL)
    victim = await anon(client)
    res = await victim.post("/api/user/login", json={"email": EMAIL, "password": PASSWORD},
                            headers={"Origin": "http://evil.example"})
    assert res.status == 403
    assert "convos" not in res.cookies
    assert (await victim.get("/api/user")).status == 401
    res = await victim.post("/api/user/login", json={"email": EMAIL, "password": PASSWORD},
                            headers={"Origin": own_origin(client)})
    assert res.status == 200


async def test_logout_from_another_site_is_refused(client: Any) -> None:
    await register(client, EMAIL)
    csrf = await csrf_of(client)
    for path in ("/logout", "/api/user/logout"):
        res = await client.get(path, params={"csrf": csrf}, allow_redirects=False,
                               headers={"Referer": "http://evil.example/"})
        assert res.status == 403, path
    assert (await client.get("/api/user")).status == 200
    res = await client.get("/logout", params={"csrf": csrf}, allow_redirects=False,
                           headers={"Referer": own_origin(client) + "/chat"})
    assert res.status == 302


async def test_webhooks_are_exempt(client: Any) -> None:
    await register(client, EMAIL)
    res = await client.post("/api/webhook/github", json={"zen": "hi"}, headers={"Origin": "https://github.com"})
    # No bot here: the webhook itself answers, not the origin check.
    assert res.status == 503
    assert (await res.json())["errors"][0]["message"] == "Unable to accept webhook request."


async def test_behind_a_reverse_proxy(make_client: Any) -> None:
    client = await make_client({"CONVOS_REVERSE_PROXY": "1"})
    proxy = {"X-Request-Base": "https://chat.example.com/convos/", "X-Forwarded-Proto": "https"}
    res = await client.post("/api/user/register", json={"email": EMAIL, "password": PASSWORD},
                            headers={**proxy, "Origin": "https://chat.example.com"})
    assert res.status == 200, await res.text()
    # The cookie is Secure (the public site is https); the test client talks http, so send it by hand.
    proxy["Cookie"] = f"convos={res.cookies['convos'].value}"
    change = {"highlight_keywords": ["x"]}
    url = f"/api/user/{EMAIL}"
    # The proxy's plain http is not the public https site.
    for origin in ("http://chat.example.com", "https://evil.example.com", "https://chat.example.com:8443"):
        res = await client.post(url, json=change, headers={**proxy, "Origin": origin})
        assert res.status == 403, origin
    res = await client.post(url, json=change, headers={**proxy, "Referer": "https://chat.example.com/convos/chat"})
    assert res.status == 200, await res.text()
    assert core_of(client).get_user(EMAIL).highlight_keywords == ["x"]
