"""Web Push (convos/push): keys, devices, delivery to a local push service over TLS, retries, removal, SSRF."""

from __future__ import annotations

import asyncio
import base64
import stat
from pathlib import Path
from typing import Any

from conftest import core_of, register
from push_stub import PushClient, PushStub, logged_in, push_of, subscribe

from convos.push.limits import MAX_DEVICES, MAX_TRIES


async def test_vapid_key_is_made_once_kept_private_and_published(push_client: PushClient, home: Path,
                                                                 stub: PushStub) -> None:
    client = await push_client()
    await register(client, "superman@example.com")
    assert (await (await client.get("/api/push/subscriptions")).json()) == {"devices": []}
    assert not (home / "vapid.pem").exists()  # no file before a browser asks for the key
    await logged_in(client, stub, register=False)
    key = stub.vapid_key
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4  # an uncompressed P-256 point
    pem = home / "vapid.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert pem.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert not [p for p in home.iterdir() if p.name.endswith(".swap")]
    await client.close()

    again = await push_client()
    await again.post("/api/user/login", json={"email": "superman@example.com", "password": "longenough"})
    assert (await (await again.get("/api/push/key")).json())["public_key"] == key


async def test_key_and_devices_need_a_login(push_client: PushClient) -> None:
    client = await push_client()
    for method, path in (("GET", "/api/push/key"), ("GET", "/api/push/subscriptions"), ("POST", "/api/push/test"),
                         ("DELETE", "/api/push/subscriptions/abc"), ("GET", "/api/push/settings")):
        res = await client.request(method, path)
        assert res.status == 401, (method, path)


async def test_test_notification_is_signed_encrypted_and_shows_the_text(push_client: PushClient, stub: PushStub,
                                                                       home: Path) -> None:
    client = await push_client()
    await logged_in(client, stub)
    device = await subscribe(client, stub, "phone")
    assert device["name"] == "phone" and device["service"] == "127.0.0.1" and device["last_used"] is None
    res = await client.post("/api/push/test")
    body = await res.json()
    assert res.status == 200, body
    assert body["devices"] == [{"id": device["id"], "name": "phone", "ok": True, "status": 201, "removed": False,
                                "message": ""}]
    assert stub.problems == []
    [got] = stub.of("phone")
    assert got.payload["body"] == "Notifications work on this device."
    assert got.claims["aud"] == f"https://127.0.0.1:{stub.port}"
    assert got.claims["sub"] == "mailto:root@localhost"
    assert got.headers["TTL"] == "60"
    listed = (await (await client.get("/api/push/subscriptions")).json())["devices"]
    assert listed[0]["id"] == device["id"] and listed[0]["last_used"]
    # The file under the user's directory has the device (and its keys), written 0600.
    await push_of(client).stop()
    push_file = home / "superman@example.com" / "push.json"
    assert stat.S_IMODE(push_file.stat().st_mode) == 0o600
    assert stub.devices["phone"].subscription()["keys"]["auth"] in push_file.read_text()


async def test_gone_devices_are_removed_and_errors_are_retried_within_a_bound(push_client: PushClient,
                                                                              stub: PushStub) -> None:
    client = await push_client()
    await logged_in(client, stub)
    ids = {name: (await subscribe(client, stub, name))["id"] for name in ("gone404", "gone410", "busy", "broken")}
    stub.answer("gone404", 404)
    stub.answer("gone410", 410)
    stub.answer("busy", 429, 503)  # then 201
    stub.answer("broken", *[500] * (MAX_TRIES + 1))
    body = await (await client.post("/api/push/test")).json()
    by_name = {d["name"]: d for d in body["devices"]}
    assert by_name["gone404"]["removed"] and by_name["gone404"]["status"] == 404
    assert by_name["gone410"]["removed"] and by_name["gone410"]["status"] == 410
    assert by_name["busy"]["ok"] and by_name["busy"]["status"] == 201
    assert not by_name["broken"]["ok"] and by_name["broken"]["status"] == 500 and not by_name["broken"]["removed"]
    assert [r.status for r in stub.of("busy")] == [429, 503, 201]
    assert [r.status for r in stub.of("broken")] == [500] * MAX_TRIES  # no more tries than the bound
    assert len(stub.of("gone404")) == len(stub.of("gone410")) == 1  # 404 and 410 are final
    listed = {d["id"] for d in (await (await client.get("/api/push/subscriptions")).json())["devices"]}
    assert listed == {ids["busy"], ids["broken"]}
    assert stub.problems == []


async def test_a_user_sees_and_removes_only_their_own_devices(push_client: PushClient, stub: PushStub,
                                                              anon: Any) -> None:
    client = await push_client()
    await logged_in(client, stub)
    mine = await subscribe(client, stub, "mine")
    other = await anon(client)
    await core_of(client).create_user("lois@example.com", "longenough")
    res = await other.post("/api/user/login", json={"email": "lois@example.com", "password": "longenough"})
    assert res.status == 200
    assert (await (await other.get("/api/push/subscriptions")).json()) == {"devices": []}
    res = await other.delete(f"/api/push/subscriptions/{mine['id']}")
    assert res.status == 404
    assert (await res.json())["errors"][0]["message"] == "Device not found."
    res = await other.post("/api/push/test")
    assert res.status == 400
    assert len((await (await client.get("/api/push/subscriptions")).json())["devices"]) == 1
    res = await client.delete(f"/api/push/subscriptions/{mine['id']}")
    assert res.status == 200
    assert (await (await client.get("/api/push/subscriptions")).json()) == {"devices": []}


async def test_subscriptions_are_checked_and_limited(push_client: PushClient, stub: PushStub) -> None:
    client = await push_client({"CONVOS_PUSH_ALLOW_PRIVATE": "0"})
    await logged_in(client, stub)
    good = stub.device("x").subscription()

    async def errors(sub: dict[str, Any]) -> list[dict[str, str]]:
        res = await client.post("/api/push/subscriptions", json={"subscription": sub, "name": "x"})
        assert res.status == 400
        return (await res.json())["errors"]  # type: ignore[no-any-return]

    assert (await errors({**good, "endpoint": "http://push.example.com/x"}))[0]["message"] == \
        "The endpoint must be an https URL."
    assert (await errors({**good, "endpoint": "https://user:pw@push.example.com/x"}))[0]["message"] == \
        "Invalid endpoint."
    assert (await errors({**good, "keys": {**good["keys"], "p256dh": "AAAA"}}))[0]["path"] == \
        "/subscription/keys/p256dh"
    assert (await errors({**good, "keys": {**good["keys"], "auth": "AAAA"}}))[0]["path"] == "/subscription/keys/auth"
    res = await client.post("/api/push/subscriptions", json={"subscription": {"endpoint": "https://x.example/"}})
    assert res.status == 400  # keys missing: the API document says so

    first = await subscribe(client, stub, "d0")
    again = await client.post("/api/push/subscriptions", json={"subscription": stub.devices["d0"].subscription(),
                                                               "name": "renamed"})
    assert (await again.json())["id"] == first["id"]  # the same endpoint is the same device
    for n in range(1, MAX_DEVICES):
        await subscribe(client, stub, f"d{n}")
    res = await client.post("/api/push/subscriptions", json={"subscription": stub.device("extra").subscription()})
    assert res.status == 400
    assert (await res.json())["errors"][0]["message"].startswith(f"At most {MAX_DEVICES} devices")


async def test_endpoints_at_private_addresses_are_refused_after_dns(push_client: PushClient,
                                                                    stub: PushStub) -> None:
    """https to a name that resolves to 127.0.0.1, or to the address itself: accepted as a URL,
    never connected to unless CONVOS_PUSH_ALLOW_PRIVATE is on."""
    client = await push_client({"CONVOS_PUSH_ALLOW_PRIVATE": "0"})
    await logged_in(client, stub)
    await subscribe(client, stub, "by-name", host="localhost")
    await subscribe(client, stub, "by-address")
    body = await (await client.post("/api/push/test")).json()
    for result in body["devices"]:
        assert result["ok"] is False and result["status"] == 0
        assert "not a public address" in result["message"]
    assert stub.received == []


async def test_push_settings_are_the_users_own(push_client: PushClient, stub: PushStub) -> None:
    client = await push_client()
    await logged_in(client, stub)
    settings = await (await client.get("/api/push/settings")).json()
    assert settings == {"enabled": True, "content": True, "default_policy": "mentions", "conversations": []}
    res = await client.post("/api/push/settings", json={
        "content": False, "conversations": [
            {"connection_id": "irc-localhost", "conversation_id": "#Convos", "policy": "all"},
            {"connection_id": "irc-localhost", "conversation_id": "#quiet", "policy": "nothing"}]})
    body = await res.json()
    assert res.status == 200, body
    assert body["content"] is False and body["enabled"] is True
    assert body["conversations"] == [
        {"connection_id": "irc-localhost", "conversation_id": "#convos", "policy": "all"},
        {"connection_id": "irc-localhost", "conversation_id": "#quiet", "policy": "nothing"}]
    res = await client.post("/api/push/settings", json={"conversations": [
        {"connection_id": "irc-localhost", "conversation_id": "#quiet", "policy": "mentions"}]})
    assert [c["conversation_id"] for c in (await res.json())["conversations"]] == ["#convos"]
    res = await client.post("/api/push/settings", json={"conversations": [
        {"connection_id": "irc-localhost", "conversation_id": "#x", "policy": "loud"}]})
    assert res.status == 400


async def test_a_slow_push_service_counts_as_failed_within_the_time_limit(push_client: PushClient,
                                                                          stub: PushStub) -> None:
    client = await push_client(request_timeout=0.3)
    await logged_in(client, stub)
    await subscribe(client, stub, "slow")
    stub.delay["slow"] = 5
    started = asyncio.get_running_loop().time()
    body = await (await client.post("/api/push/test")).json()
    [result] = body["devices"]
    assert result["ok"] is False and result["status"] == 0 and "Timeout" in result["message"]
    assert asyncio.get_running_loop().time() - started < 3  # MAX_TRIES x 0.3 s and the backoff
    await stub.wait(MAX_TRIES, "slow")  # timeouts are tried again, within the bound


async def test_a_new_account_does_not_inherit_push_state(push_client: PushClient, stub: PushStub) -> None:
    client = await push_client()
    await logged_in(client, stub)
    core = core_of(client)
    await core.create_user("lois@example.com", "longenough")
    push = push_of(client)
    await push.update_settings("lois@example.com", {"enabled": False})
    assert (await push.settings("lois@example.com"))["enabled"] is False
    await core.remove_user(core.get_user("lois@example.com"))
    await core.create_user("lois@example.com", "longenough")
    assert (await push.settings("lois@example.com"))["enabled"] is True
