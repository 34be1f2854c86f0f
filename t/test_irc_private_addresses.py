"""IRC connections and private addresses: refused for users by default, after DNS (docs/security.md)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from conftest import core_of, register
from events_helper import Events, is_state
from irc_peer import ScriptedIrcPeer

from convos.config import Config
from convos.core.addresses import NotPublicAddress, is_public_address, vetted_addresses
from convos.store.jsonfile import atomic_write, encode

GUARDED = {"CONVOS_IRC_ALLOW_PRIVATE": "0", "CONVOS_SKIP_CONNECT": "0", "CONVOS_CONNECT_DELAY": "0.1"}


@pytest.fixture(autouse=True)
def no_default_connection(home: Any) -> None:
    """No connection to irc.libera.chat for every new user; a test may write its own settings."""
    atomic_write(home / "settings.json", encode({"default_connection": ""}))


def test_the_default_is_safe() -> None:
    assert Config.from_env({"CONVOS_HOME": "/nowhere"}).irc_allow_private is False
    assert Config.from_env({"CONVOS_HOME": "/nowhere", "CONVOS_IRC_ALLOW_PRIVATE": "1"}).irc_allow_private is True


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "0.0.0.0", "::", "10.1.2.3",
                                     "172.16.0.1", "192.168.1.1", "169.254.169.254", "fe80::1", "fd00::1",
                                     "fc00::1", "100.64.0.1", "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::"])
def test_private_addresses(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


async def test_every_resolved_address_is_checked_once() -> None:
    """One private address among public ones refuses the host; the name is looked up only once."""
    calls: list[str] = []

    async def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        calls.append(host)
        answers = [("93.184.216.34", port), ("127.0.0.1", port)] if host == "mixed.example" else [("93.184.216.34", port)]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", sockaddr) for sockaddr in answers]

    with pytest.raises(NotPublicAddress) as err:
        await vetted_addresses("mixed.example", 6667, is_public_address, resolve=resolve)
    assert err.value.address == "127.0.0.1"
    assert await vetted_addresses("public.example", 6667, is_public_address, resolve=resolve) == ["93.184.216.34"]
    assert calls == ["mixed.example", "public.example"]
    with pytest.raises(NotPublicAddress):
        await vetted_addresses("::ffff:127.0.0.1", 6667, is_public_address, resolve=resolve)
    assert len(calls) == 2  # a literal is never looked up


async def _second_user(client: Any, anon: Any) -> Any:
    await register(client, "superman@example.com")  # the first account is the admin
    core_of(client).settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    return lois


async def test_user_cannot_reach_a_literal_private_address(make_client: Any, anon: Any) -> None:
    client = await make_client(GUARDED)
    lois = await _second_user(client, anon)
    for url in ("irc://[::ffff:127.0.0.1]:28090", "irc://127.0.0.1:6667", "irc://10.0.0.1", "irc://[fd00::1]:6697"):
        res = await lois.post("/api/connections", json={"url": url})
        body = await res.json()
        assert res.status == 400, body
        assert body["errors"][0]["path"] == "/url"
        assert body["errors"][0]["message"] == "Connecting to private addresses is not allowed."
    assert (await (await lois.get("/api/connections")).json())["connections"] == []
    # Nor by changing the URL of a connection to a public host.
    res = await lois.post("/api/connections", json={"url": "irc://irc.example.com", "wanted_state": "disconnected"})
    assert res.status == 200
    res = await lois.post("/api/connection/irc-example", json={"url": "irc://[::ffff:7f00:1]:28090"})
    assert res.status == 400
    conn = (await (await lois.get("/api/connections")).json())["connections"][0]
    assert conn["url"] == "irc://irc.example.com"


async def test_user_cannot_reach_a_name_that_resolves_to_loopback(make_client: Any, anon: Any,
                                                                  irc_peer: ScriptedIrcPeer) -> None:
    client = await make_client(GUARDED)
    lois = await _second_user(client, anon)
    events = Events(await lois.ws_connect("/events"))
    await events.ready()
    res = await lois.post("/api/connections", json={"url": f"irc://localhost:{irc_peer.port}?tls=0"})
    assert res.status == 200  # a name is only known after DNS, when connecting
    frame = await events.wait(is_state("connection", state="disconnected"))
    assert frame["message"] == "Refusing to connect to localhost (127.0.0.1): not a public address."
    assert irc_peer.connections == []  # never connected, so nothing of what it says is shown
    conn = core_of(client).get_user("lois@example.com").get_connection("irc-localhost")
    assert conn._reconnect_handle is None  # no retry: the answer would be the same
    await events.ws.close()


async def test_admins_connections_and_the_setting_are_allowed(make_client: Any, anon: Any, home: Any,
                                                               irc_peer: ScriptedIrcPeer) -> None:
    client = await make_client(GUARDED)
    await register(client, "superman@example.com")
    res = await client.post("/api/connections", json={"url": f"irc://127.0.0.1:{irc_peer.port}?tls=0"})
    assert res.status == 200, await res.text()
    await irc_peer.accept()

    # CONVOS_IRC_ALLOW_PRIVATE=1: every user may.
    other = home.parent / "other-home"
    atomic_write(other / "settings.json", encode({"default_connection": ""}))
    allowed = await make_client({**GUARDED, "CONVOS_IRC_ALLOW_PRIVATE": "1"}, home_dir=other)
    await register(allowed, "admin@example.com")
    core_of(allowed).settings.open_to_public = True
    lois = await anon(allowed)
    await register(lois, "lois@example.com")
    res = await lois.post("/api/connections", json={"url": f"irc://localhost:{irc_peer.port}?tls=0"})
    assert res.status == 200, await res.text()
    await irc_peer.accept()


async def test_forced_default_connection_to_a_private_address_works(make_client: Any, anon: Any, home: Any,
                                                                    irc_peer: ScriptedIrcPeer) -> None:
    atomic_write(home / "settings.json", encode({
        "default_connection": f"irc://127.0.0.1:{irc_peer.port}/%23convos?tls=0", "forced_connection": True}))
    client = await make_client(GUARDED)
    await register(client, "superman@example.com")
    await irc_peer.accept()
    lois = await _second_user_only(client, anon)
    peer = await irc_peer.accept()
    await peer.expect("^NICK lois")
    # Another port on the same host is not the default connection.
    res = await lois.post("/api/connections", json={"url": f"irc://127.0.0.1:{irc_peer.port + 1}"})
    assert res.status == 400


async def _second_user_only(client: Any, anon: Any) -> Any:
    core_of(client).settings.open_to_public = True
    lois = await anon(client)
    await register(lois, "lois@example.com")
    return lois
