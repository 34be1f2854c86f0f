"""Sign-in by a reverse proxy's header (Auth::Header, spec §7.3): trusted only from
CONVOS_AUTH_HEADER_TRUSTED, registration on first sight, the first admin, the websocket."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from conftest import core_of, register

from convos.config import AuthConfig, Config

HEADER = {"CONVOS_AUTH_PROVIDERS": "header", "CONVOS_ADMIN": "boss@example.com"}


async def test_the_first_user_must_be_the_admin_and_others_register_on_first_sight(make_client: Any) -> None:
    client = await make_client(HEADER)
    res = await client.get("/api/user", headers={"X-Authenticated-User": "someone@example.com"})
    assert res.status == 401
    assert not core_of(client).users

    res = await client.get("/api/user", headers={"X-Authenticated-User": "Boss@Example.com"})
    body = await res.json()
    assert res.status == 200, body
    assert body["email"] == "boss@example.com" and body["roles"] == ["admin"]

    res = await client.get("/api/user", headers={"X-Authenticated-User": "someone@example.com"})
    body = await res.json()
    assert res.status == 200 and body["roles"] == []
    # Registered without a local password: no password login matches the account.
    assert core_of(client).get_user("someone@example.com").password == ""


async def test_the_header_follows_the_proxy_and_the_cookie_keeps_the_session(make_client: Any) -> None:
    client = await make_client(HEADER)
    await register(client, "boss@example.com")
    res = await client.get("/api/user", headers={"X-Authenticated-User": "two@example.com"})
    assert (await res.json())["email"] == "two@example.com"
    # The proxy signs in another user: the session follows the header.
    res = await client.get("/api/user", headers={"X-Authenticated-User": "three@example.com"})
    assert (await res.json())["email"] == "three@example.com"
    # Without the header, the session cookie it left says who this is (password logins too).
    res = await client.get("/api/user")
    assert (await res.json())["email"] == "three@example.com"


async def test_a_custom_header_name(make_client: Any) -> None:
    client = await make_client({**HEADER, "CONVOS_AUTH_HEADER": "Remote-User"})
    res = await client.get("/api/user", headers={"Remote-User": "boss@example.com"})
    assert (await res.json())["email"] == "boss@example.com"
    res = await client.get("/api/user", headers={"X-Authenticated-User": "x@example.com"})
    assert (await res.json())["email"] == "boss@example.com"  # the other header means nothing


async def test_the_header_from_an_address_not_trusted_is_refused_and_logged(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The test client comes from 127.0.0.1; here only 10.0.0.0/8 is where the proxy runs.
    client = await make_client({**HEADER, "CONVOS_AUTH_HEADER_TRUSTED": "10.0.0.0/8, 192.0.2.7"})
    with caplog.at_level(logging.WARNING, logger="convos.auth.header"):
        res = await client.get("/api/user", headers={"X-Authenticated-User": "boss@example.com"})
    body = await res.json()
    assert res.status == 403
    assert body["errors"][0] == {"message": "The X-Authenticated-User header is not accepted from this address.",
                                 "path": "/X-Authenticated-User"}
    assert "Refused X-Authenticated-User header from 127.0.0.1" in caplog.text
    assert not core_of(client).users
    # The app page says so too, instead of signing anyone in.
    res = await client.get("/", headers={"X-Authenticated-User": "boss@example.com"})
    assert res.status == 403
    # A session of a password login is not a way around it: the header still refuses the request.
    await register(client, "boss@example.com")
    res = await client.get("/api/user", headers={"X-Authenticated-User": "boss@example.com"})
    assert res.status == 403


async def test_without_the_provider_the_header_means_nothing(make_client: Any) -> None:
    client = await make_client()
    await register(client, "first@example.com")
    res = await client.get("/api/user", headers={"X-Authenticated-User": "other@example.com"})
    assert (await res.json())["email"] == "first@example.com"
    assert core_of(client).get_user("other@example.com") is None


async def test_a_header_that_is_not_an_email_is_refused(make_client: Any) -> None:
    client = await make_client(HEADER)
    for value in ("../../etc", "boss@example.com/../x", "no-at-sign", ""):
        res = await client.get("/api/user", headers={"X-Authenticated-User": value})
        assert res.status == 400, value
    assert not core_of(client).users


async def test_the_websocket_signs_in_by_the_header(make_client: Any) -> None:
    client = await make_client(HEADER)
    await register(client, "boss@example.com")
    client.session.cookie_jar.clear()
    ws = await client.ws_connect("/events", headers={"X-Authenticated-User": "ws@example.com"})
    await ws.send_json({"method": "ping", "id": "1"})
    msg = await asyncio.wait_for(ws.receive_json(), 10)
    assert msg["event"] == "pong" and msg["id"] == "1", msg
    await ws.close()
    assert core_of(client).get_user("ws@example.com") is not None
    # Without the header nor a cookie, the socket is told to log in and closed.
    client.session.cookie_jar.clear()
    ws = await client.ws_connect("/events")
    msg = await asyncio.wait_for(ws.receive_json(), 10)
    assert "errors" in msg, msg
    await ws.close()


async def test_the_websocket_refuses_the_header_from_an_address_not_trusted(make_client: Any) -> None:
    client = await make_client({**HEADER, "CONVOS_AUTH_HEADER_TRUSTED": "10.0.0.0/8"})
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await client.ws_connect("/events", headers={"X-Authenticated-User": "boss@example.com"})
    assert info.value.status == 403
    assert not core_of(client).users


async def test_concurrent_first_sight_registers_once(make_client: Any) -> None:
    client = await make_client(HEADER)
    await register(client, "boss@example.com")
    answers = await asyncio.gather(*(client.get("/api/user", headers={"X-Authenticated-User": "new@example.com"})
                                     for _ in range(5)))
    assert [a.status for a in answers] == [200] * 5
    assert sum(u.email == "new@example.com" for u in core_of(client).users) == 1


def test_config_and_the_original_plugin_names() -> None:
    assert AuthConfig.from_env({}).providers == ()
    env = {"CONVOS_PLUGINS": "Convos::Plugin::Auth::Header,Auth::LDAP?timeout=3"}
    assert AuthConfig.from_env(env).providers == ("header", "ldap")
    assert AuthConfig.from_env({"CONVOS_AUTH_PROVIDERS": "oidc, header,local"}).providers == ("oidc", "header")
    config = Config.from_env({"CONVOS_HOME": "/tmp/x"})
    assert config.auth.header == "X-Authenticated-User"
    assert config.auth.header_trusted == ("127.0.0.0/8", "::1")
    assert config.auth.admin == "admin-email-not-set@example.com"


async def test_a_bad_trusted_network_stops_the_start(make_client: Any) -> None:
    with pytest.raises(ValueError, match="CONVOS_AUTH_HEADER_TRUSTED"):
        await make_client({**HEADER, "CONVOS_AUTH_HEADER_TRUSTED": "not-a-network"})


async def test_the_admin_sees_the_active_providers(make_client: Any) -> None:
    client = await make_client({**HEADER, "CONVOS_AUTH_TOTP_REQUIRED": "1"})
    await client.get("/api/user", headers={"X-Authenticated-User": "boss@example.com"})
    res = await client.get("/api/auth/providers")
    body = await res.json()
    assert res.status == 200, body
    assert [p["name"] for p in body["providers"]] == ["header", "local", "totp"]
    assert body["providers"][0]["trusted"] == ["127.0.0.0/8", "::1/128"]
    assert body["providers"][2]["required"] is True
    await client.get("/api/user", headers={"X-Authenticated-User": "other@example.com"})
    res = await client.get("/api/auth/providers")
    assert res.status == 403
