"""Users API: register, login, logout, update, delete, list and invite (spec §4.4, §9 facts 1–28)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import orjson
from conftest import core_of, csrf_of, register

from convos.store.jsonfile import decode


async def test_first_user_is_admin_and_uid_is_a_string(client, home):
    res = await client.post("/api/user/register", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    text = await res.text()
    assert '"uid":"1"' in text
    body = orjson.loads(text)
    assert body["roles"] == ["admin"]
    assert "password" not in body
    assert re.match(r"^[\d-]+T[\d:]+Z$", body["registered"])
    stored = decode((home / "superman@example.com" / "user.json").read_bytes())
    assert stored["password"].startswith("$argon2id$v=19$m=65536,t=3,p=1$")
    assert stored["uid"] == "1"
    # Registration logged us in.
    res = await client.get("/api/user")
    assert res.status == 200
    assert (await res.json())["email"] == "superman@example.com"


async def test_get_user_shape(client):
    await register(client, "superman@example.com")
    res = await client.get("/api/user")
    body = await res.json()
    assert set(body) == {
        "email", "forced_connection", "default_connection", "highlight_keywords", "registered",
        "remote_address", "roles", "uid", "unread", "video_service",
    }
    assert body["default_connection"] == "irc://irc.libera.chat:6697/%23convos"
    assert body["forced_connection"] is False
    assert body["remote_address"] == "127.0.0.1"
    assert body["video_service"] == "https://meet.jit.si/"
    res = await client.get("/api/user?connections=true&conversations=true")
    body = await res.json()
    # Every new user starts with a connection to the default server and its channel.
    assert [c["connection_id"] for c in body["connections"]] == ["irc-libera"]
    assert body["connections"][0]["url"] == "irc://irc.libera.chat:6697/%23convos"
    assert body["connections"][0]["state"] == "disconnected"
    assert [(c["conversation_id"], c["frozen"]) for c in body["conversations"]] == [("#convos", "")]
    res = await client.get("/api/user?connections=false")
    assert "connections" not in await res.json()


async def test_short_password_and_trimming(client):
    res = await client.post("/api/user/register", json={"email": "a@example.com", "password": "tooshort0"})
    assert res.status == 400
    body = await res.json()
    assert body["errors"][0]["path"] == "/body/password"
    assert body["errors"][0]["message"] == "String is too short: 9/10."
    # Long enough before trimming, too short after.
    res = await client.post("/api/user/register", json={"email": "a@example.com", "password": "  short1   "})
    assert res.status == 400
    assert (await res.json())["errors"][0]["path"] == "/body/password"
    await register(client, "a@example.com", "  longenough ")
    client.session.cookie_jar.clear()
    res = await client.post("/api/user/login", json={"email": "a@example.com", "password": "longenough"})
    assert res.status == 200


async def test_email_is_trimmed_and_lowercased(client, home):
    res = await client.post("/api/user/register", json={"email": "JhtHorsen@cpan.org", "password": "longenough"})
    assert res.status == 200
    assert (await res.json())["email"] == "jhthorsen@cpan.org"
    assert (home / "jhthorsen@cpan.org" / "user.json").is_file()


async def test_email_validated_before_trimming(client):
    res = await client.post("/api/user/register", json={"email": "a@b.c ", "password": "longenough"})
    assert res.status == 400
    assert (await res.json())["errors"][0]["path"] == "/body/email"


async def test_registration_closed_and_invites(client, anon):
    await register(client, "superman@example.com")
    other = await anon(client)
    res = await other.post("/api/user/register", json={"email": "lois@example.com", "password": "longenough"})
    assert res.status == 401
    assert (await res.json())["errors"][0]["message"] == "Convos registration is not open to public."

    res = await client.post("/api/user/lois@example.com/invite")
    assert res.status == 200
    inv = await res.json()
    assert inv["existing"] is False
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", inv["expires"])
    q = {k: v[0] for k, v in parse_qs(urlsplit(inv["url"]).query).items()}
    assert set(q) == {"email", "exp", "token"}

    bad = "Invalid token. You have to ask your Convos admin for a new link."
    res = await other.post("/api/user/register",
                           json={"email": "lois@example.com", "password": "longenough", "token": q["token"]})
    assert (res.status, (await res.json())["errors"][0]["message"]) == (401, bad)
    res = await other.post("/api/user/register", json={**q, "email": "clark@example.com", "password": "longenough"})
    assert res.status == 401
    q2 = {**q, "email": "lois@example.com"}
    res = await other.post("/api/user/register", json={"password": "longenough", **q2})
    assert res.status == 200
    body = await res.json()
    assert body["roles"] == [] and body["uid"] == "2"
    assert (await other.get("/api/user")).status == 200


async def test_open_to_public_and_email_taken(client, anon):
    await register(client, "superman@example.com")
    core = core_of(client)
    core.settings.open_to_public = True
    other = await anon(client)
    res = await other.post("/api/user/register", json={"email": "SUPERMAN@example.com", "password": "longenough"})
    assert res.status == 401
    assert (await res.json())["errors"][0]["message"] == "Email is taken."
    res = await other.post("/api/user/register", json={"email": "lois@example.com", "password": "longenough"})
    assert res.status == 200


async def test_recovery_link_resets_password_once(client, anon):
    await register(client, "superman@example.com")
    core = core_of(client)
    inv = core.invite("superman@example.com")
    assert inv.existing
    other = await anon(client)
    body = {"email": "superman@example.com", "password": "brandnewpassword", **{k: v for k, v in inv.query().items() if k != "email"}}
    res = await other.post("/api/user/register", json=body)
    assert res.status == 200
    # The password is part of the token, so the same link no longer works.
    res = await other.post("/api/user/register", json={**body, "password": "anotherpassword"})
    assert res.status == 401
    fresh = await anon(client)
    res = await fresh.post("/api/user/login", json={"email": "superman@example.com", "password": "brandnewpassword"})
    assert res.status == 200


async def test_expired_invite_is_refused(client, anon):
    await register(client, "superman@example.com")
    core = core_of(client)
    inv = core.invite("lois@example.com", hours=-1)
    other = await anon(client)
    res = await other.post("/api/user/register",
                           json={"password": "longenough", **inv.query()})
    assert res.status == 401
    res = await other.get("/register", params=inv.query())
    assert res.status == 410
    good = core.invite("lois@example.com").query()
    res = await other.get("/register", params={**good, "token": good["token"][:-1]})
    assert res.status == 400
    assert 'name="convos:status" content="400"' in await res.text()
    res = await other.get("/register", params=good)
    assert res.status == 200
    assert 'name="convos:existing_user" content="no"' in await res.text()
    res = await other.get("/register", params={**good, "exp": "xyz"})
    assert res.status == 410


async def test_login(client, anon):
    await register(client, "superman@example.com")
    other = await anon(client)
    res = await other.post("/api/user/login")
    assert res.status == 400
    assert (await res.json())["errors"] == [{"message": "Missing property.", "path": "/body"}]
    res = await other.post("/api/user/login", json={"email": "xyz", "password": "x"})
    assert (await res.json())["errors"][0] == {"message": "Does not match email format.", "path": "/body/email"}
    res = await other.post("/api/user/login", json={"email": "superman@example.com"})
    assert (await res.json())["errors"][0]["path"] == "/body/password"
    res = await other.post("/api/user/login", json={"email": "superman@example.com", "password": "wrongpassword"})
    assert res.status == 400
    assert await res.json() == {"errors": [{"message": "Invalid email or password.", "path": "/"}], "status": 400}
    res = await other.post("/api/user/login", json={"email": "nobody@example.com", "password": "wrongpassword"})
    assert res.status == 400
    res = await other.post("/api/user/login", json={"email": " Superman@Example.com", "password": "longenough"})
    assert res.status == 400  # validated before trimming, as in the original
    res = await other.post("/api/user/login", json={"email": "Superman@Example.com", "password": "longenough"})
    assert res.status == 200
    assert re.match(r"^[\d-]+T[\d:]+Z$", (await res.json())["registered"])


async def test_session_cookie_flags(client):
    res = await client.post("/api/user/register", json={"email": "superman@example.com", "password": "longenough"})
    cookie = res.headers["Set-Cookie"]
    assert cookie.startswith("convos=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert "Max-Age=604800" in cookie
    # The cookie is encrypted: the email is not readable in it.
    assert "superman" not in cookie


async def test_secure_cookie_when_configured(make_client):
    client = await make_client({"CONVOS_SECURE_COOKIES": "1"})
    res = await client.post("/api/user/register", json={"email": "superman@example.com", "password": "longenough"})
    assert "Secure" in res.headers["Set-Cookie"]


async def test_logout_needs_csrf(client):
    await register(client, "superman@example.com")
    res = await client.get("/api/user/logout")
    assert res.status == 400
    assert (await res.json())["errors"][0]["path"] == "/csrf"
    res = await client.get("/api/user/logout", params={"csrf": "nope"})
    assert res.status == 400
    assert (await client.get("/api/user")).status == 200
    csrf = await csrf_of(client)
    res = await client.get("/logout", params={"csrf": csrf}, allow_redirects=False)
    assert res.status == 302
    assert res.headers["Location"] == "/login"
    assert (await client.get("/api/user")).status == 401


async def test_api_logout_redirects(client):
    await register(client, "superman@example.com")
    csrf = await csrf_of(client)
    res = await client.get("/api/user/logout.json", params={"csrf": csrf}, allow_redirects=False)
    assert res.status == 302
    assert (await client.get("/api/user")).status == 401


async def test_anonymous_is_401(client):
    for method, path in [("GET", "/api/user"), ("POST", "/api/user/a@example.com"),
                         ("DELETE", "/api/user/a@example.com")]:
        res = await client.request(method, path, json={})
        assert res.status == 401, path
        assert await res.json() == {"errors": [{"message": "Need to log in first.", "path": "/"}]}


async def test_update_user(client, home, anon):
    await register(client, "superman@example.com")
    res = await client.post("/api/user/superman@example.com",
                            json={"highlight_keywords": [" ", "-", ".", "  ,", "    ", "foo "]})
    assert res.status == 200
    assert (await res.json())["highlight_keywords"] == ["foo"]
    stored = decode((home / "superman@example.com" / "user.json").read_bytes())
    assert stored["highlight_keywords"] == ["foo"]
    res = await client.post("/api/user/superman@example.com", json={})
    assert res.status == 200
    res = await client.post("/api/user/superman@example.com",
                            json={"password": "“12345678”xx", "current_password": "longenough"})
    assert res.status == 200
    other = await anon(client)
    res = await other.post("/api/user/login", json={"email": "superman@example.com", "password": "“12345678”xx"})
    assert res.status == 200
    res = await client.post("/api/user/superman@example.com", json={"password": "short"})
    assert res.status == 400
    res = await client.post("/api/user/nobody@example.com", json={})
    assert res.status == 404
    assert (await res.json())["errors"][0]["message"] == "No such user."


async def test_roles_only_by_admin(client, anon):
    await register(client, "superman@example.com")
    core = core_of(client)
    core.settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    res = await lois.post("/api/user/lois@example.com", json={"roles": ["admin"]})
    assert res.status == 200
    assert (await res.json())["roles"] == []
    res = await lois.post("/api/user/superman@example.com", json={"highlight_keywords": ["x"]})
    assert res.status == 403
    assert (await res.json())["errors"][0]["message"] == "Only admins can update other users."
    res = await lois.delete("/api/user/superman@example.com")
    assert res.status == 403
    assert (await res.json())["errors"][0]["message"] == "Only admins can delete other users."
    res = await client.post("/api/user/lois@example.com", json={"roles": ["admin"]})
    assert (await res.json())["roles"] == ["admin"]


async def test_delete_user(client, home, anon):
    await register(client, "superman@example.com")
    res = await client.delete("/api/user/superman@example.com")
    assert res.status == 400
    assert (await res.json())["errors"][0]["message"] == "You are the only user left."
    core_of(client).settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    res = await client.delete("/api/user/nobody@example.com")
    assert (res.status, await res.json()) == (404, {"errors": [{"message": "No such user.", "path": "/"}]})
    res = await lois.delete("/api/user/lois@example.com")
    assert (res.status, await res.json()) == (200, {"message": "Deleted."})
    res = await client.delete("/api/user/lois@example.com")  # twice: nothing left to delete
    assert (res.status, (await res.json())["errors"][0]["message"]) == (404, "No such user.")
    assert not (home / "lois@example.com").exists()
    assert (await lois.get("/api/user")).status == 401
    assert core_of(client).get_user("lois@example.com") is None


async def test_get_users(client, anon):
    await register(client, "superman@example.com")
    core_of(client).settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    res = await lois.get("/api/users")
    assert res.status == 403
    assert (await res.json())["errors"][0]["message"] == "Only admins can list users."
    assert (await (await anon(client)).get("/api/users")).status == 401
    res = await client.get("/api/users")
    users = (await res.json())["users"]
    assert [u["email"] for u in users] == ["lois@example.com", "superman@example.com"]
    assert users[1]["roles"] == ["admin"]
    assert all("password" not in u for u in users)


async def test_invite_permissions(client, anon):
    await register(client, "superman@example.com")
    other = await anon(client)
    res = await other.post("/api/user/lois@example.com/invite")
    assert (res.status, (await res.json())["errors"][0]["message"]) == (401, "Need to log in first.")
    res = await other.post("/api/user/lois@example.com/invite", headers={"X-Local-Secret": "abc"})
    assert res.status == 401
    secret = core_of(client).settings.local_secret
    res = await other.post("/api/user/lois@example.com/invite.html", headers={"X-Local-Secret": secret})
    assert res.status == 200
    text = await res.text()
    assert text.startswith("---\nExisting: 0\nExpires: ")
    url = re.search(r"URL: (\S+)", text).group(1)
    assert set(parse_qs(urlsplit(url).query)) == {"email", "exp", "token"}
    # An admin with a wrong local secret is not an admin for that request.
    res = await client.post("/api/user/lois@example.com/invite", headers={"X-Local-Secret": "wrong"})
    assert res.status == 401
    res = await client.post("/api/user/superman@example.com/invite.json")
    body = await res.json()
    assert body["existing"] is True and body["url"].startswith("http")


async def test_local_secret_refused_from_other_address(make_client, anon):
    client = await make_client({"CONVOS_LOCAL_ADMIN_REMOTE_ADDR": "10.9.9.9"})
    await register(client, "superman@example.com")
    secret = core_of(client).settings.local_secret
    other = await anon(client)
    res = await other.post("/api/user/lois@example.com/invite", headers={"X-Local-Secret": secret})
    assert res.status == 401


async def test_legacy_recover_route_is_gone(client):
    res = await client.get("/user/recover/superman@example.com")
    assert res.status == 404
