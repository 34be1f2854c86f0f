"""The HTTP contract: the OpenAPI document, error envelopes, bad input, readiness, base URL."""

from __future__ import annotations

import asyncio

from conftest import core_of, register

from convos.web.app import create_app

OPERATIONS = {
    "checkForUpdates", "connectionMessages", "conversationMessages", "createConnection", "deleteFiles",
    "deleteSessions", "deleteUser", "embed", "getDictionary", "getFile", "getFiles", "getSettings", "getUser", "getUsers",
    "inviteUser", "listConnectionProfiles", "listConnections", "listConversations", "loginUser",
    "logoutUser", "markAllAsRead", "markConnectionAsRead", "markConversationAsRead", "markNotificationsAsRead",
    "notificationMessages", "registerUser", "removeConnection", "removeConnectionProfile",
    "saveConnectionProfile", "searchMessages", "updateConnection", "updateConversation", "updateSettings", "updateUser",
    "uploadFile", "webhook",
    # Web Push (docs/push.md)
    "getPushKey", "listPushSubscriptions", "addPushSubscription", "removePushSubscription", "testPush",
    "getPushSettings", "updatePushSettings",
    # issue 13: the browser app's tools, themes and preferences
    "embedImage", "exportConversation", "getCustomCss", "getPreferences", "listThemes", "saveCustomCss", "savePreferences",
    # Sign-in (docs/authentication.md)
    "getTwoFactor", "startTwoFactor", "confirmTwoFactor", "removeTwoFactor", "resetTwoFactor", "getAuthProviders",
    # App passwords, for the IRC listener (docs/irc-listener.md)
    "listAppPasswords", "createAppPassword", "revokeAppPassword",
}
# The browser app's tools (issue 13).
OPERATIONS |= {"exportConversation", "listThemes", "getCustomCss", "saveCustomCss", "embedImage", "getPreferences",
               "savePreferences"}


def _is_envelope(body: dict) -> bool:
    return isinstance(body.get("errors"), list) and all(
        isinstance(e.get("message"), str) and isinstance(e.get("path"), str) for e in body["errors"]
    )


async def test_spec_lists_all_operations(client):
    for path in ("/api", "/api.json"):
        res = await client.get(path)
        assert res.status == 200
        doc = await res.json()
        assert doc["swagger"] == "2.0"
        assert doc["host"] == f"127.0.0.1:{client.port}"
        assert doc["basePath"] == "/api"
        assert doc["schemes"] == ["http"]
        ids = {op["operationId"] for item in doc["paths"].values() for op in item.values()
               if isinstance(op, dict) and "operationId" in op}
        assert ids == OPERATIONS


async def test_spec_base_path_behind_proxy(make_client):
    client = await make_client({"CONVOS_REVERSE_PROXY": "1"})
    res = await client.get("/api", headers={"X-Request-Base": "https://example.com/sub"})
    doc = await res.json()
    assert doc["basePath"] == "/sub/api"


async def test_unknown_api_path_is_json_404(client):
    for path in ("/api/nope", "/api/user/login/extra/bits", "/api.nope"):
        res = await client.get(path)
        assert res.status == 404, path
        body = await res.json()
        assert _is_envelope(body)
        assert body["errors"][0]["message"] == "Not Found."


async def test_wrong_method_is_json(client):
    res = await client.put("/api/user")
    assert res.status == 405
    assert _is_envelope(await res.json())


async def test_every_operation_answers_without_500(client):
    # Every operation of the document is built: each answers with its result or a 4xx
    # envelope for this junk input, never 500 and never 501.
    await register(client, "superman@example.com")
    res = await client.get("/api")
    doc = await res.json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            url = "/api" + path.replace("{connection_id}", "irc-x").replace("{conversation_id}", "%23x") \
                .replace("{email}", "x@example.com").replace("{uid}", "1").replace("{fid}", "abc") \
                .replace("{lang}", "en").replace("{id}", "irc-x").replace("{provider_name}", "github")
            if op["operationId"] == "logoutUser":
                continue
            res = await client.request(method.upper(), url, json={})
            assert res.status < 500 or res.status == 503, (op["operationId"], res.status)
            if res.status >= 400 and res.content_type == "application/json":
                assert _is_envelope(await res.json()), op["operationId"]


async def test_malformed_json_and_wrong_types(client):
    cases = [
        (b"{not json", "Invalid JSON."),
        (b"[1,2,3]", "Expected object - got array."),
        (b'"just a string"', "Expected object - got string."),
        (b'{"email": "\\ud800@x.y", "password": "longenough"}', None),
        (b"\xff\xfe garbage", "Invalid JSON."),
    ]
    for raw, message in cases:
        res = await client.post("/api/user/register", data=raw, headers={"Content-Type": "application/json"})
        assert res.status == 400, raw
        body = await res.json()
        assert _is_envelope(body), raw
        if message:
            assert body["errors"][0] == {"message": message, "path": "/body"}, raw
    res = await client.post("/api/user/register", json={"email": 42, "password": ["x"]})
    assert res.status == 400
    paths = {e["path"] for e in (await res.json())["errors"]}
    assert paths == {"/body/email", "/body/password"}


async def test_unicode_oddities_in_email(client):
    for email in ["superman@exa\u0000mple.com", "../@example.com", "a/b@example.com", "x@", "@x.y",
                  "super man@example.com", "\u202esuper@example.com\u202c", "a@b@c.d"]:
        res = await client.post("/api/user/register", json={"email": email, "password": "longenough"})
        assert res.status == 400, email
        assert (await res.json())["errors"][0]["path"] == "/body/email", email


async def test_unicode_password_ascii_email(client, home):
    # Addresses are ASCII, as in the original; passwords may be any text.
    res = await client.post("/api/user/register", json={"email": "æøå@example.com", "password": "pässwörd🚀🚀🚀"})
    assert res.status == 400
    assert (await res.json())["errors"][0]["path"] == "/body/email"
    await register(client, "superman@example.com", "pässwörd🚀🚀🚀")
    client.session.cookie_jar.clear()
    res = await client.post("/api/user/login", json={"email": "superman@example.com", "password": "pässwörd🚀🚀🚀"})
    assert res.status == 200


async def test_oversized_body(make_client):
    client = await make_client({"CONVOS_MAX_UPLOAD_SIZE": "1000"})
    res = await client.post("/api/user/register", json={"email": "a@example.com", "password": "x" * 5000})
    assert res.status == 413
    assert _is_envelope(await res.json())


async def test_deeply_nested_body(client):
    await register(client, "superman@example.com")
    deep = "[" * 10000 + "]" * 10000
    res = await client.post("/api/user/superman@example.com", data='{"highlight_keywords": ' + deep + "}",
                            headers={"Content-Type": "application/json"})
    assert res.status == 400
    assert _is_envelope(await res.json())


async def test_path_traversal_in_email(client, home):
    await register(client, "superman@example.com")
    for email in ["..%2F..%2Fetc@x.y", "%2E%2E@x.y", ".hidden@x.y"]:
        res = await client.delete(f"/api/user/{email}")
        assert res.status in (400, 404), email
    assert (home / "superman@example.com" / "user.json").is_file()


async def test_provider_header(client):
    res = await client.get("/api/user")
    assert res.headers["X-Provider-Name"] == "ConvosApp"


async def test_backend_starting(make_client, aiohttp_client, home):
    client = await make_client()
    core = core_of(client)
    gate = asyncio.Event()
    original = core.store.load_users

    async def slow_load_users():
        await gate.wait()
        return await original()

    # A second app on the same home whose user loading is held back.
    from convos.cli import build_core
    from convos.config import Config

    config = Config.from_env({"CONVOS_HOME": str(home)})
    slow = build_core(config)
    await slow.load_settings()
    slow.store.load_users = slow_load_users  # type: ignore[method-assign]
    starting = await aiohttp_client(create_app(slow, config))
    res = await starting.get("/api/user")
    assert res.status == 503
    assert await res.json() == {"errors": [{"message": "Backend is starting."}]}
    res = await starting.get("/chat")
    assert res.status == 503
    text = await res.text()
    assert "<title>Backend is starting (503) - Convos</title>" in text
    assert '<a class="btn" href="/">Try again</a>' in text
    gate.set()
    await asyncio.wait_for(slow.ready_event.wait(), 5)
    assert (await starting.get("/api/user")).status == 401


async def test_request_base_without_reverse_proxy(client):
    res = await client.get("/api/user", headers={"X-Request-Base": "http://example.com/sub"})
    assert res.status == 400
    assert "CONVOS_REVERSE_PROXY" in (await res.json())["errors"][0]["message"]


async def test_request_base_with_reverse_proxy(make_client):
    client = await make_client({"CONVOS_REVERSE_PROXY": "1"})
    headers = {"X-Request-Base": "http://example.com/sub"}
    await register(client, "superman@example.com")
    await client.get("/api/user", headers=headers)
    assert core_of(client).settings.base_url == "http://example.com/sub/"
    res = await client.post("/api/user/lois@example.com/invite", headers=headers)
    assert (await res.json())["url"].startswith("http://example.com/sub/register?")
    res = await client.get("/logout", params={"csrf": "x"}, headers=headers)
    assert res.status == 400


async def test_request_base_from_env(make_client):
    client = await make_client({"CONVOS_REQUEST_BASE": "https://convos.chat/demo"})
    res = await client.post("/api/user/register", json={"email": "a@example.com", "password": "longenough"})
    assert "Secure" in res.headers["Set-Cookie"]
    assert "Path=/demo/" in res.headers["Set-Cookie"]


async def test_base_url_not_from_anonymous_requests(client, anon):
    core = core_of(client)
    before = core.settings.base_url
    other = await anon(client)
    await other.get("/api/user", headers={"Host": "evil.example.com"})
    assert core.settings.base_url == before
    await register(client, "superman@example.com")
    await client.get("/api/user")
    assert core.settings.base_url == f"http://127.0.0.1:{client.port}/"


async def test_unbuilt_operations_still_need_login(client):
    # Until everything is built, 501 must not tell anonymous callers more than 401 would.
    res = await client.get("/api/check-for-updates")
    assert res.status == 401


async def test_spec_host_from_proxy_base(make_client):
    client = await make_client({"CONVOS_REVERSE_PROXY": "1"})
    res = await client.get("/api.json", headers={"X-Request-Base": "https://chat.example.com/sub"})
    doc = await res.json()
    assert (doc["host"], doc["schemes"], doc["basePath"]) == ("chat.example.com", ["https"], "/sub/api")


async def test_local_secret_not_through_proxy(make_client, anon):
    client = await make_client({"CONVOS_REVERSE_PROXY": "1"})
    await register(client, "superman@example.com")
    secret = core_of(client).settings.local_secret
    other = await anon(client)
    headers = {"X-Local-Secret": secret}
    res = await other.post("/api/user/a@example.com/invite", headers={**headers, "X-Forwarded-For": "1.2.3.4"})
    assert res.status == 401
    res = await other.post("/api/user/a@example.com/invite", headers=headers)
    assert res.status == 200


async def test_base_url_only_from_admins(client, anon):
    await register(client, "superman@example.com")
    core = core_of(client)
    core.settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    core.settings.base_url = "https://chat.example.com/"
    await lois.get("/api/user")
    assert core.settings.base_url == "https://chat.example.com/"
    await client.get("/api/user")
    assert core.settings.base_url == f"http://127.0.0.1:{client.port}/"
