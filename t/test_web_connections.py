"""Connections and connection profiles over REST (spec §4.5, §4.6, §9 facts 34–43)."""

from __future__ import annotations

from conftest import core_of, register
from events_helper import Events, is_state

from convos.store.jsonfile import atomic_write, decode, encode


async def _admin(client):
    await register(client, "superman@example.com")
    return client


async def test_create_list_and_errors(client):
    await _admin(client)
    res = await client.post("/api/connections", json={"url": "irc://irc.example.com:6667", "wanted_state": "disconnected"})
    assert res.status == 200
    conn = await res.json()
    assert conn == {
        "connection_id": "irc-example", "name": "example", "info": {"authenticated": False, "capabilities": {}},
        "on_connect_commands": [], "service_accounts": ["chanserv", "nickserv"], "state": "disconnected",
        "unread": 0, "url": "irc://irc.example.com:6667", "wanted_state": "disconnected",
    }
    res = await client.post("/api/connections", json={"url": "irc://irc.example.com:6667"})
    assert (res.status, (await res.json())["errors"][0]["message"]) == (400, "Connection already exists.")
    res = await client.post("/api/connections", json={"url": "foo://example.com"})
    assert (res.status, (await res.json())["errors"][0]["message"]) == (400, "Convos::Core::Connection::Foo is not supported.")
    res = await client.post("/api/connections", json={"url": "irc://"})
    assert res.status == 400
    res = await client.post("/api/connections", json={"url": "irc://host:99999"})
    assert res.status == 400
    res = await client.post("/api/connections", json={})
    assert (await res.json())["errors"][0]["path"] == "/body/url"
    body = await (await client.get("/api/connections")).json()
    assert [c["name"] for c in body["connections"]] == ["example", "libera"]  # sorted by name


async def test_create_with_conversation_and_commands(client, home):
    await _admin(client)
    res = await client.post("/api/connections", json={
        "conversation_id": "#convos", "url": "irc://localhost", "wanted_state": "disconnected",
        "on_connect_commands": [" /msg NickServ identify s3cret   ", "  "],
    })
    assert res.status == 200
    stored = decode((home / "superman@example.com" / "irc-localhost" / "connection.json").read_bytes())
    assert stored["wanted_state"] == "disconnected"  # persisted at once (the original saved it late)
    assert stored["on_connect_commands"] == ["/msg NickServ identify s3cret"]
    assert [c["conversation_id"] for c in stored["conversations"]] == ["#convos"]
    body = await (await client.get("/api/conversations")).json()
    assert ("irc-localhost", "#convos") in [(c["connection_id"], c["conversation_id"]) for c in body["conversations"]]


async def test_channel_key_from_url(client, home):
    await _admin(client)
    res = await client.post("/api/connections", json={"url": "irc://irc.example.com/%23secret%20s3cret",
                                                      "wanted_state": "disconnected"})
    assert res.status == 200
    stored = decode((home / "superman@example.com" / "irc-example" / "connection.json").read_bytes())
    assert stored["conversations"][0]["conversation_id"] == "#secret"
    assert stored["conversations"][0]["password"] == "s3cret"


async def test_update_and_remove(client, home):
    await _admin(client)
    await client.post("/api/connections", json={"url": "irc://irc.example.com:6667", "wanted_state": "disconnected"})
    res = await client.post("/api/connection/irc-doesnotexist", json={})
    assert (res.status, (await res.json())["errors"][0]["message"]) == (404, "Connection not found.")
    res = await client.post("/api/connection/irc-example", json={"on_connect_commands": [" /join #a "]})
    assert (await res.json())["on_connect_commands"] == ["/join #a"]
    res = await client.post("/api/connection/irc-example", json={"wanted_state": "sideways"})
    assert res.status == 400
    assert (await res.json())["errors"][0]["message"] == "Not in enum list: connected, disconnected."
    res = await client.delete("/api/connection/irc-doesnotexist")
    assert (res.status, await res.json()) == (404, {"errors": [{"message": "Connection not found.", "path": "/"}]})
    res = await client.delete("/api/connection/irc-example")
    assert (res.status, await res.json()) == (200, {})
    assert not (home / "superman@example.com" / "irc-example").exists()
    assert "irc-example" not in [c["connection_id"] for c in (await (await client.get("/api/connections")).json())["connections"]]
    res = await client.delete("/api/connection/irc-example")  # twice: nothing left to delete
    assert (res.status, (await res.json())["errors"][0]["message"]) == (404, "Connection not found.")


async def test_update_to_unreachable_url_answers_and_the_websocket_says_why(make_client, home):
    client = await make_client({"CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_TIMEOUT": "2", "CONVOS_CONNECT_DELAY": "0.1"})
    atomic_write(home / "settings.json", encode({**decode((home / "settings.json").read_bytes()),
                                                 "default_connection": ""}))
    core_of(client).settings.default_connection = ""
    await _admin(client)
    events = Events(await client.ws_connect("/events"))
    await events.ready()
    res = await client.post("/api/connections", json={"url": "irc://127.0.0.1:1?tls=0", "wanted_state": "disconnected"})
    assert res.status == 200
    # The original answered 424 once the connect had failed; the answer no longer waits for that.
    res = await client.post("/api/connection/irc-localhost", json={"wanted_state": "connected"})
    assert res.status == 200
    assert (await res.json())["wanted_state"] == "connected"
    down = await events.wait(lambda f: is_state("connection", state="disconnected")(f)
                             and "Reconnecting in" in f["message"])
    assert down["connection_id"] == "irc-localhost"
    assert down["message"] != "Disconnected."  # the connect error says why
    res = await client.post("/api/connection/irc-localhost", json={"wanted_state": "disconnected"})
    assert (res.status, (await res.json())["wanted_state"]) == (200, "disconnected")
    await events.ws.close()


async def test_unsupported_scheme_is_424_at_once(make_client, home):
    # Nothing to wait for: no protocol can connect it, and the answer says so.
    client = await make_client()
    await _admin(client)
    stored = {"connection_id": "foo-example", "name": "example", "url": "foo://example.com",
              "wanted_state": "disconnected"}
    atomic_write(home / "superman@example.com" / "foo-example" / "connection.json", encode(stored))
    await client.close()
    client = await make_client()
    res = await client.post("/api/user/login", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    res = await client.post("/api/connection/foo-example", json={"wanted_state": "connected"})
    assert (res.status, await res.json()) == (424, {"errors": [{
        "message": "Convos::Core::Connection::Foo is not supported.", "path": "/wanted_state"}], "status": 424})
    assert (await client.delete("/api/connection/foo-example")).status == 200


async def test_forced_connection(client):
    await _admin(client)
    core = core_of(client)
    core.settings.default_connection = "irc://chat.example.com:1234"
    core.settings.forced_connection = True
    res = await client.post("/api/connections", json={"url": "irc://irc.libera.chat"})
    assert (res.status, (await res.json())["errors"][0]["message"]) == (400, "Will only accept forced connection URL.")
    res = await client.post("/api/connections", json={"url": "irc://chat.example.com:1234?nick=superman&tls=1",
                                                      "wanted_state": "disconnected"})
    assert res.status == 200
    res = await client.post("/api/connection/irc-example", json={
        "url": "irc://irc.perl.org?nick=superduper&tls=0&tls_verify=0"})
    assert (await res.json())["url"] == "irc://chat.example.com:1234?nick=superduper&tls=0&tls_verify=0"


async def test_profiles(client, anon, home):
    await _admin(client)
    res = await client.get("/api/connection-profiles")
    assert (await res.json())["profiles"] == [{
        "created_by": "", "id": "irc-libera", "is_default": True, "is_forced": False, "max_bulk_message_size": 3,
        "max_message_length": 512, "service_accounts": ["chanserv", "nickserv"], "shared": True, "skip_queue": False,
        "url": "irc://irc.libera.chat:6697/%23convos", "webirc_password": "",
    }]
    core_of(client).settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    profiles = (await (await lois.get("/api/connection-profiles")).json())["profiles"]
    assert profiles == [{"id": "irc-libera", "is_default": True, "is_forced": False, "max_bulk_message_size": 3,
                         "max_message_length": 512, "service_accounts": ["chanserv", "nickserv"], "skip_queue": False,
                         "url": "irc://irc.libera.chat:6697/%23convos"}]
    res = await lois.post("/api/connection-profiles", json={"url": "irc://localhost:6697"})
    assert (res.status, (await res.json())["errors"][0]["message"]) == (403, "Only admins can save connection profiles.")
    res = await lois.delete("/api/connection-profiles/irc-libera")
    assert (res.status, (await res.json())["errors"][0]["message"]) == (403, "Only admins can delete connection profiles.")
    res = await client.delete("/api/connection-profiles/irc-libera")
    assert (res.status, (await res.json())["errors"][0]["message"]) == (400, "You cannot delete the default connection.")

    res = await client.post("/api/connection-profiles", json={
        "id": "foo", "url": "irc://localhost:6697/%23convos", "max_message_length": 400, "max_bulk_message_size": 5,
        "service_accounts": ["nickserv"], "skip_queue": True, "webirc_password": "wp"})
    assert res.status == 200
    saved = await res.json()
    assert saved["id"] == "irc-localhost" and saved["max_message_length"] == 400 and saved["skip_queue"] is True
    assert saved["webirc_password"] == "wp" and saved["is_default"] is False
    on_disk = decode((home / "settings" / "connections" / "irc-localhost.json").read_bytes())
    assert "is_default" not in on_disk and on_disk["max_bulk_message_size"] == 5
    res = await client.post("/api/connection-profiles", json={"url": "irc://localhost:6697/%23convos", "is_default": True})
    assert (await res.json())["is_default"] is True
    user = await (await client.get("/api/user")).json()
    assert user["default_connection"] == "irc://localhost:6697/%23convos"
    res = await client.delete("/api/connection-profiles/irc-libera")
    assert (res.status, await res.json()) == (200, {"message": "Deleted."})
    assert not (home / "settings" / "connections" / "irc-libera.json").exists()
    res = await client.delete("/api/connection-profiles/irc-libera")
    assert (res.status, await res.json()) == (404, {"errors": [{"message": "Connection profile not found.",
                                                                "path": "/"}]})
    res = await client.delete("/api/connection-profiles/irc-nowhere")
    assert res.status == 404
    res = await client.post("/api/connection-profiles", json={"url": "irc://localhost", "max_message_length": 5})
    assert (await res.json())["errors"][0]["path"] == "/body/max_message_length"


async def test_profile_file_read_at_startup(make_client, perl_home, anon):
    # 8.07 did not read a profile back unless a connection used its host; we read it when it is used.
    client = await make_client(home_dir=perl_home)
    core = core_of(client)
    profile = await core.profiles.profile_for("irc://irc.example.com:6697")
    assert profile.max_message_length == 400


async def test_other_users_connections_are_private(client, anon):
    await _admin(client)
    await client.post("/api/connections", json={"url": "irc://irc.example.com", "wanted_state": "disconnected"})
    core_of(client).settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    assert (await lois.post("/api/connection/irc-example", json={})).status == 404
    res = await lois.delete("/api/connection/irc-example")
    assert (res.status, (await res.json())["errors"][0]["message"]) == (404, "Connection not found.")
    ids = [c["connection_id"] for c in (await (await client.get("/api/connections")).json())["connections"]]
    assert "irc-example" in ids


async def _profile_ids(session) -> list[str]:
    res = await session.get("/api/connection-profiles")
    assert res.status == 200
    return [p["id"] for p in (await res.json())["profiles"]]


async def test_a_users_connection_does_not_show_its_host_to_others(client, anon, home):
    """Issue 10 item 6: the profile made for lois's connection is not listed to clark (nor to lois)."""
    await _admin(client)
    core_of(client).settings.open_to_public = True
    lois, clark = await anon(client), await anon(client)
    await register(lois, "lois@example.com")
    await register(clark, "clark@example.com")
    res = await lois.post("/api/connections", json={"url": "irc://alice-private-bnc.internal.corp:7000",
                                                    "wanted_state": "disconnected"})
    assert res.status == 200
    assert await _profile_ids(clark) == ["irc-libera"]
    assert await _profile_ids(lois) == ["irc-libera"]
    # The admin sees it, made for lois and not shared; never written to disk.
    admin_view = {p["id"]: p for p in (await (await client.get("/api/connection-profiles")).json())["profiles"]}
    bnc = admin_view["irc-alice-private-bnc-internal-corp"]
    assert (bnc["shared"], bnc["created_by"], bnc["url"]) == (False, "lois@example.com",
                                                              "irc://alice-private-bnc.internal.corp:7000")
    assert not (home / "settings" / "connections" / "irc-alice-private-bnc-internal-corp.json").exists()
    # The connection still gets what its profile gives (here the defaults).
    profile = await core_of(client).profiles.profile_for("irc://alice-private-bnc.internal.corp:7000")
    assert (profile.max_message_length, profile.max_bulk_message_size) == (512, 3)
    # Once no connection uses it, nobody sees it any more.
    assert (await lois.delete("/api/connection/irc-alice-private-bnc-internal-corp")).status == 200
    assert await _profile_ids(client) == ["irc-libera"]


async def test_admin_shares_a_profile(client, anon, home, make_client):
    await _admin(client)
    core_of(client).settings.open_to_public = True
    clark = await anon(client)
    await register(clark, "clark@example.com")
    # Made by an admin: shared unless the admin says otherwise.
    res = await client.post("/api/connection-profiles", json={"url": "irc://irc.example.com:6697"})
    assert (res.status, (await res.json())["shared"]) == (200, True)
    res = await client.post("/api/connection-profiles", json={"url": "irc://irc.hidden.org:6697", "shared": False})
    assert (await res.json())["created_by"] == "superman@example.com"
    assert await _profile_ids(clark) == ["irc-example", "irc-libera"]
    on_disk = decode((home / "settings" / "connections" / "irc-hidden.json").read_bytes())
    assert (on_disk["shared"], on_disk["created_by"]) == (False, "superman@example.com")
    # A user's implicit profile, shared by the admin: now everyone sees it.
    await clark.post("/api/connections", json={"url": "irc://irc.clarks.net", "wanted_state": "disconnected"})
    assert "irc-clarks" not in await _profile_ids(clark)
    res = await client.post("/api/connection-profiles", json={"url": "irc://irc.clarks.net", "shared": True})
    assert (await res.json())["created_by"] == "clark@example.com"
    assert await _profile_ids(clark) == ["irc-clarks", "irc-example", "irc-libera"]
    # After a restart: every saved profile is listed (even of hosts no connection uses), unshared ones to admins.
    again = await make_client()
    res = await again.post("/api/user/login", json={"email": "clark@example.com", "password": "longenough"})
    assert res.status == 200
    assert await _profile_ids(again) == ["irc-clarks", "irc-example", "irc-libera"]
    res = await again.post("/api/user/login", json={"email": "superman@example.com", "password": "longenough"})
    assert await _profile_ids(again) == ["irc-clarks", "irc-example", "irc-hidden", "irc-libera"]


async def test_profiles_of_8_07_are_shared(make_client, perl_home, anon):
    """8.07 wrote profile files only for admins, without `shared`: every user sees them."""
    client = await make_client(home_dir=perl_home)
    core_of(client).settings.open_to_public = True
    lana = await anon(client)
    await register(lana, "lana@example.com")
    profiles = {p["id"]: p for p in (await (await lana.get("/api/connection-profiles")).json())["profiles"]}
    assert profiles["irc-example"]["max_message_length"] == 400
    assert "shared" not in profiles["irc-example"]  # the 8.07 shape for users


async def test_profile_url_must_be_irc(client):
    await _admin(client)
    before = (await (await client.get("/api/user")).json())["default_connection"]
    for url in ("https://irc.example.com", "http://example.com:6667"):
        res = await client.post("/api/connection-profiles", json={"url": url, "is_default": True})
        assert (res.status, await res.json()) == (400, {"errors": [{
            "message": "The URL must start with irc:// or ircs://.", "path": "/url"}]})
    assert (await (await client.get("/api/user")).json())["default_connection"] == before
    res = await client.post("/api/connection-profiles", json={"url": "ircs://irc.example.com:6697"})
    assert res.status == 200


async def test_after_a_restart_the_admin_still_sees_whose_host_it_is(client, anon, make_client):
    await _admin(client)
    core_of(client).settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    await lois.post("/api/connections", json={"url": "irc://bnc.lois.example:7000", "wanted_state": "disconnected"})
    again = await make_client()
    res = await again.post("/api/user/login", json={"email": "superman@example.com", "password": "longenough"})
    assert res.status == 200
    profiles = {p["id"]: p for p in (await (await again.get("/api/connection-profiles")).json())["profiles"]}
    assert (profiles["irc-bnc-lois-example"]["created_by"], profiles["irc-bnc-lois-example"]["shared"]) == ("lois@example.com", False)


async def test_connections_per_user_are_bounded(make_client):
    """CONVOS_MAX_CONNECTIONS: each connection is a socket the server keeps open; one user cannot
    make thousands. Concurrent requests cannot slip past the count, or add one id twice."""
    import asyncio

    client = await make_client({"CONVOS_MAX_CONNECTIONS": "3"})
    await register(client, "superman@example.com")  # with the default connection: 1
    urls = [f"irc://irc{i}.example.com" for i in range(4)] + ["irc://irc0.example.com"]
    answers = await asyncio.gather(*(client.post("/api/connections", json={"url": u, "wanted_state": "disconnected"})
                                     for u in urls))
    statuses = sorted(r.status for r in answers)
    assert statuses == [200, 200, 400, 400, 400]
    errors = {(await r.json())["errors"][0]["message"] for r in answers if r.status == 400}
    assert "You have too many connections (3)." in errors
    body = await (await client.get("/api/connections")).json()
    assert len(body["connections"]) == 3
    assert len({c["connection_id"] for c in body["connections"]}) == 3


async def test_a_connection_has_a_name_of_the_users_choosing(client):
    await _admin(client)
    res = await client.post("/api/connections", json={"url": "irc://irc.example.com", "name": "Work",
                                                      "wanted_state": "disconnected"})
    assert res.status == 200, await res.text()
    assert (await res.json())["name"] == "Work"
    res = await client.post("/api/connection/irc-example", json={"name": " Day job "})
    assert (res.status, (await res.json())["name"]) == (200, "Day job")
    for bad, message in (("libera", "Another connection has this name."),
                         ("a/b", "A connection name has no control characters and none of / @ : ,"),
                         ("   ", "A connection name has 1 to 64 characters.")):
        res = await client.post("/api/connection/irc-example", json={"name": bad})
        assert (res.status, (await res.json())["errors"]) == (400, [{"message": message, "path": "/name"}]), bad
    res = await client.post("/api/connection/irc-example", json={"name": "x" * 65})
    assert res.status == 400 and (await res.json())["errors"][0]["path"] == "/body/name"
    body = await (await client.get("/api/connections")).json()
    assert sorted(c["name"] for c in body["connections"]) == ["Day job", "libera"]
